"""Times in the NHS style ("10am", "2:30pm", "midday"), shown in Europe/London (backend/core/times.py)."""

from datetime import UTC, datetime, time

import pytest
from django.template import Context, Template

from backend.core.times import nhs_time as format_nhs_time


@pytest.mark.parametrize(("value", "expected"), [
    (time(10, 0), "10am"),
    (time(14, 30), "2:30pm"),
    (time(12, 0), "midday"),
    (time(0, 0), "midnight"),
    (time(0, 5), "12:05am"),
    (time(23, 59), "11:59pm"),
    (None, ""),
])
def test_times_read_the_nhs_way(value, expected):
    assert format_nhs_time(value) == expected


def test_an_aware_time_is_shown_in_london_time_and_the_filter_uses_the_same_rule():
    summer = datetime(2026, 7, 1, 13, 0, tzinfo=UTC)  # 2pm in London (BST)
    assert format_nhs_time(summer) == "2pm"
    rendered = Template("{{ when|nhs_time }}").render(Context({"when": datetime(2026, 12, 1, 9, 15, tzinfo=UTC)}))
    assert rendered == "9:15am"
