"""The input boundaries shared by the API (backend/core/serializers.py), the page forms and the CSV
import: one place for the numbers docs/api.md ("Limits") documents."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError

BIGINT_MAX = 2**63 - 1
BIGINT_MIN = -(2**63)
TEXT_MAX_LENGTH = 5000  # free-text notes and reasons; names and short fields set their own, smaller limits
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)
_ASCII_INTEGER = re.compile(r"-?[0-9]{1,19}")


def is_ascii_integer(text: str) -> bool:
    """Whether `text` is a plain decimal integer of at most 19 digits. str.isdigit() is not enough:
    it accepts '²', which int() refuses, and int() accepts '١٢' and 5,000-digit strings it then cannot hold."""
    return bool(_ASCII_INTEGER.fullmatch(text))


def is_supported_date(value: dt.date | dt.datetime) -> bool:
    day = value.date() if isinstance(value, dt.datetime) else value
    return EARLIEST_DATE <= day <= LATEST_DATE


def validate_supported_date(value: dt.date | dt.datetime) -> None:
    """A validator (forms and serializers alike): a date, or a date-time's date, from 1900 to 2100."""
    if not is_supported_date(value):
        raise ValidationError(
            f"Give a date between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}.", code="date_out_of_range"
        )
