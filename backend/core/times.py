"""Dates and times as the NHS writes them ("10am", "2:30pm", "midday"; "Monday 3 December 2026"):
the NHS digital service manual's style (https://service-manual.nhs.uk/content/numbers-measurements-dates-time).
One place, used by pages, leaflets, calendar files and messages alike, always in the local time zone."""

from __future__ import annotations

from datetime import datetime, time

from django.utils import timezone

__all__ = ["nhs_date", "nhs_time", "nhs_when"]


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def nhs_time(moment: datetime | time | None) -> str:
    """ "10am", "2:30pm", "midday", "midnight" (a datetime in the local time zone, or a time of day)."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, datetime):
        moment = _local(moment)
    if moment.minute == 0 and moment.hour in (0, 12):
        return "midnight" if moment.hour == 0 else "midday"
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def nhs_date(moment: datetime | None, year: bool = True) -> str:
    """ "Monday 3 December 2026" (no leading zero, no comma)."""
    if moment is None:
        return ""
    moment = _local(moment) if isinstance(moment, datetime) else moment
    text = f"{moment:%A} {moment.day} {moment:%B}"
    return f"{text} {moment.year}" if year else text


def nhs_when(moment: datetime | None, year: bool = True) -> str:
    """ "Monday 3 December 2026 at 10am"."""
    if moment is None:
        return ""
    return f"{nhs_date(moment, year=year)} at {nhs_time(moment)}"
