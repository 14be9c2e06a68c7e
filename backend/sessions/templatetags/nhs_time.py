"""Times as the NHS style guide writes them: "10am", "2:30pm", "12 noon", "12 midnight"
(https://service-manual.nhs.uk/content/numbers-measurements-dates-time). One place for every page."""

from __future__ import annotations

from datetime import datetime, time

from django import template
from django.utils import timezone

from backend.core.phone import phone_number_for_display

register = template.Library()


def nhs_time(value: datetime | time | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.time()
    if value.hour == 12 and value.minute == 0:
        return "12 noon"
    if value.hour == 0 and value.minute == 0:
        return "12 midnight"
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


register.filter("nhs_time", nhs_time)


@register.filter
def minutes_since(value: datetime | None) -> str:
    """How long ago, in whole minutes, in words: "less than a minute", "1 minute", "12 minutes"."""
    if value is None:
        return ""
    minutes = int((timezone.now() - value).total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


@register.filter
def phone(stored: str) -> str:
    """A stored number as people write it. One stored before numbers were checked (not E.164) is shown
    as it was typed, rather than reformatted into something that may read as foreign."""
    stored = stored or ""
    return phone_number_for_display(stored) if stored.startswith("+") else stored
