"""Pseudonyms and dates for evaluation exports.

A pseudonym is a keyed hash (HMAC-SHA256, RFC 2104) of the person's internal id under the deployment
secret `EVALUATION_PSEUDONYM_KEY`. The same person gets the same pseudonym in every export, so
evaluators can follow them across exports and datasets; without the key nobody can go from a
pseudonym back to an id, or check a guessed id against one (a plain hash of a small integer could be
reversed by trying every id). The key is never exported.

Dates follow one of three settings, chosen per export:

- `exact`: the real date.
- `shifted`: every date of one person moved by the same number of days, between -N and +N, derived
  from the keyed hash too. Intervals between one person's dates (days from assessment to the next
  session, time to the first questionnaire) hold exactly; calendar dates do not.
- `month`: coarsened to the calendar month (YYYY-MM).

N is part of the hash's input, so exports made with different N have independent offsets and cannot
be lined up to solve for the real dates.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone

import pandas as pd
from django.conf import settings
from django.db import models
from django.utils import timezone

from backend.core.limits import EARLIEST_DATE, LATEST_DATE


class DateMode(models.TextChoices):
    EXACT = "exact", "Exact dates"
    SHIFTED = "shifted", "Shifted by a fixed number of days per person"
    MONTH = "month", "Coarsened to the month"


DEFAULT_SHIFT_DAYS = 30
MAX_SHIFT_DAYS = 180


def _digest(purpose: str, value: object) -> bytes:
    key = settings.EVALUATION_PSEUDONYM_KEY.encode()
    # The purpose prefix separates the uses of the key: a pseudonym never equals a shift's input.
    # hmac.digest is the one-shot C implementation: the same bytes as hmac.new(...).digest(), faster.
    return hmac.digest(key, f"rapport-evaluation:{purpose}:{value}".encode(), hashlib.sha256)


def pseudonym(person_id: int) -> str:
    """The person's stable pseudonym: 'P' and 16 hex digits (64 bits; collisions are negligible at any
    service's size: about one in 10^9 for 200,000 people)."""
    return "P" + _digest("person", person_id).hex()[:16]


def appointment_ref(appointment_id: int) -> str:
    """An appointment's stable reference, so later datasets (outcomes) can point at the same row."""
    return "A" + _digest("appointment", appointment_id).hex()[:16]


def course_ref(course_id: int) -> str:
    """A course of care's stable reference (never its reference in a system it was imported from)."""
    return "C" + _digest("course", course_id).hex()[:16]


def response_ref(response_id: int) -> str:
    """A questionnaire response's stable reference, linking the long and per-questionnaire datasets."""
    return "R" + _digest("response", response_id).hex()[:16]


def consent_ref(record_id: int) -> str:
    """A consent decision's stable reference (the FHIR Consent resource's id). 'D' for decision: 'C' is a course."""
    return "D" + _digest("consent", record_id).hex()[:16]


def group_ref(group_id: int) -> str:
    """A group meeting's stable reference ('G'), shared by the groups dataset and its care contacts."""
    return "G" + _digest("group", group_id).hex()[:16]


def series_ref(series: object) -> str:
    """A recurring group's stable reference ('S'), from its series id: the meetings of one group share it."""
    return "S" + _digest("group-series", series).hex()[:16]


def relative_ref(user_id: int) -> str:
    """A relative's stable reference ('F', family and friends), from their account id: relatives are not
    service users, so they never get a service user's P pseudonym."""
    return "F" + _digest("relative", user_id).hex()[:16]


def staff_ref(user_id: int) -> str:
    """A member of staff's (a peer worker's, a supervisor's) stable reference: 'W' for worker. Its own
    purpose inside the hash, so it never equals the pseudonym a service user with the same id would get."""
    return "W" + _digest("staff", user_id).hex()[:16]


def group_place_ref(attendee_id: int) -> str:
    """A person's place in one group session ('L', for place): the group counterpart of an appointment's reference."""
    return "L" + _digest("group-place", attendee_id).hex()[:16]


def supervision_ref(entry_id: int) -> str:
    """A supervision log entry's stable reference ('V', for supervision)."""
    return "V" + _digest("supervision", entry_id).hex()[:16]


def fidelity_ref(rating_id: int) -> str:
    """A fidelity rating's stable reference ('Y', for fidelity), linking the fidelity and fidelity_answers datasets."""
    return "Y" + _digest("fidelity", rating_id).hex()[:16]


def shift_days(person_id: int, max_days: int) -> int:
    """The person's date offset for `max_days`: uniform on -max_days..+max_days, the same every time."""
    number = int.from_bytes(_digest(f"date-shift:{max_days}", person_id)[:8], "big")
    return number % (2 * max_days + 1) - max_days


@dataclass(frozen=True)
class DateSetting:
    """How an export shows dates: a mode and, for `shifted`, the largest shift in days."""

    mode: str = DateMode.MONTH
    max_shift_days: int = DEFAULT_SHIFT_DAYS

    @property
    def column_type(self) -> str:
        """The type of a date column under this setting (a month is text, YYYY-MM)."""
        return "month" if self.mode == DateMode.MONTH else "date"

    def show(self, value: date | datetime | None, person_id: int) -> date | str | None:
        """A date as exported for one person. Date-times become the local calendar date first."""
        if value is None:
            return None
        day = timezone.localdate(value) if isinstance(value, datetime) else value
        if self.mode == DateMode.SHIFTED:
            return _shifted(day, shift_days(person_id, self.max_shift_days))
        if self.mode == DateMode.MONTH:
            return f"{day:%Y-%m}"
        return day

    def show_for_series(self, value: date | datetime | None, series: object) -> date | str | None:
        """A group meeting's date: a meeting is no one person's, so `shifted` moves every meeting of one
        recurring group by the series' own offset (keyed like a person's), keeping the weeks between them."""
        if value is None or self.mode != DateMode.SHIFTED:
            return self.show(value, 0)
        day = timezone.localdate(value) if isinstance(value, datetime) else value
        number = int.from_bytes(_digest(f"group-date-shift:{self.max_shift_days}", series)[:8], "big")
        return _shifted(day, number % (2 * self.max_shift_days + 1) - self.max_shift_days)

    def show_many(self, epoch_seconds: pd.Series, person_ids: pd.Series, offsets: dict | None = None) -> pd.Series:
        """`show` for a whole column of date-times at once, given as seconds since 1970 (UTC), for exports
        of millions of rows (PostgreSQL gives epochs far faster than date-time objects are made).
        `offsets` keeps each person's shift across an export's chunks."""
        # Dates outside 1900-2100 are shown empty: the API and the import store none since v1.5.0, but an
        # older row (a course "started" 0001-01-01) would otherwise shift into year 0 and fail the export.
        values = epoch_seconds.where(epoch_seconds.between(_EARLIEST_EPOCH, _LATEST_EPOCH))
        days = pd.to_datetime(values, unit="s", utc=True, errors="coerce").dt.tz_convert(timezone.get_current_timezone_name()).dt.normalize()
        if self.mode == DateMode.SHIFTED:
            offsets = {} if offsets is None else offsets
            for pk in person_ids.unique():
                if pk not in offsets:
                    offsets[pk] = shift_days(int(pk), self.max_shift_days)
            days = days + pd.to_timedelta(person_ids.map(offsets).to_numpy(), unit="D")
        if self.mode == DateMode.MONTH:
            return days.dt.strftime("%Y-%m").astype("string")
        return pd.Series(days.dt.date, index=values.index, dtype="object")

    def describe(self) -> str:
        if self.mode == DateMode.SHIFTED:
            return f"shifted by a fixed number of days per person, within ±{self.max_shift_days} days"
        return DateMode(self.mode).label.lower()


_EARLIEST_EPOCH = datetime.combine(EARLIEST_DATE, time.min, tzinfo=dt_timezone.utc).timestamp() - 86_400
_LATEST_EPOCH = datetime.combine(LATEST_DATE, time.max, tzinfo=dt_timezone.utc).timestamp() + 86_400


def _shifted(day: date, days: int) -> date:
    """`day` moved by `days`, held at the calendar's ends instead of overflowing (a stored 0001-01-01
    once broke every shifted export)."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.min if days < 0 else date.max
