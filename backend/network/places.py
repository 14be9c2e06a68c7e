"""Postcode districts (the outward code of a UK postcode, e.g. LS6, SW1A, M1): checked and normalised."""

import re

from backend.core.errors import InvalidInput

# The outward code: one or two letters, a digit, then an optional digit or letter.
_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")


def postcode_district(value: str, *, field: str = "postcode_district") -> str:
    """`value` as an upper-case postcode district, "" for empty; InvalidInput naming `field` otherwise."""
    value = (value or "").strip().upper().replace(" ", "")
    if value and not _DISTRICT.match(value):
        raise InvalidInput("Give the first part of a postcode only, for example LS6 or SW1A.", field=field, code="invalid_postcode_district")
    return value


def postcode_area(district: str) -> str:
    """The letters a district starts with (LS6 -> LS): the area, for 'near you'."""
    return re.match(r"^[A-Z]*", district).group(0) if district else ""
