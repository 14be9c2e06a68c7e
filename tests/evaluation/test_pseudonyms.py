"""Pseudonyms are stable and keyed; dates are exact, shifted per person, or coarsened to the month."""

import re
from datetime import date, datetime, timezone as dt_timezone

from backend.evaluation.pseudonyms import DateMode, DateSetting, appointment_ref, pseudonym, shift_days


def test_a_pseudonym_is_stable_and_looks_like_one():
    assert pseudonym(42) == pseudonym(42) != pseudonym(43)
    assert re.fullmatch(r"P[0-9a-f]{16}", pseudonym(42))
    assert re.fullmatch(r"A[0-9a-f]{16}", appointment_ref(42))
    assert pseudonym(42)[1:] != appointment_ref(42)[1:]  # each use of the key is kept apart


def test_a_pseudonym_depends_on_the_key(settings):
    before = pseudonym(42)
    settings.EVALUATION_PSEUDONYM_KEY = "another-deployment-with-another-key"
    assert pseudonym(42) != before


def test_the_shift_is_within_n_days_the_same_for_all_of_a_persons_dates_and_varies_between_people():
    shifts = [shift_days(person, 30) for person in range(1, 400)]
    assert all(-30 <= s <= 30 for s in shifts)
    assert len(set(shifts)) > 40  # spread over the range, not one offset for everybody
    dates = DateSetting(DateMode.SHIFTED, 30)
    first, later = date(2026, 3, 1), date(2026, 4, 15)
    assert (dates.show(later, 7) - dates.show(first, 7)).days == (later - first).days  # intervals hold
    assert (dates.show(first, 7) - first).days == shift_days(7, 30)


def test_a_different_n_gives_an_independent_offset():
    # Exports with different N cannot be lined up to solve for the true dates.
    pairs = {(shift_days(p, 30), shift_days(p, 31)) for p in range(1, 200)}
    assert sum(a == b for a, b in pairs) < len(pairs) / 2


def test_exact_and_month_and_date_times_become_local_days():
    moment = datetime(2026, 6, 30, 23, 30, tzinfo=dt_timezone.utc)  # 00:30 on 1 July in London (BST)
    assert DateSetting(DateMode.EXACT).show(moment, 1) == date(2026, 7, 1)
    assert DateSetting(DateMode.MONTH).show(moment, 1) == "2026-07"
    assert DateSetting(DateMode.MONTH).show(None, 1) is None
