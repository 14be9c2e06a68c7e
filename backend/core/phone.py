"""Phone numbers: one way to check and store them, with Google's libphonenumber rules (`phonenumbers`).

Numbers are stored in E.164 (`+447700900123`) so a number typed as "07700 900123" or "+44 7700 900123"
is the same number everywhere (messages, the clinician's dialler, duplicates). A number without a
country code is read as a UK number (PHONE_DEFAULT_REGION). Shown back in the national format.
"""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from rest_framework import serializers

__all__ = ["PhoneNumberField", "normalise_phone_number", "phone_number_for_display"]


def _region() -> str:
    return getattr(settings, "PHONE_DEFAULT_REGION", "GB")


def normalise_phone_number(text: str) -> str:
    """`text` as E.164, or "" for an empty value; ValueError with a plain reason when it is not a number."""
    text = (text or "").strip()
    if not text:
        return ""
    if len(text) > 32:
        raise ValueError("A phone number has at most 32 characters.")
    try:
        number = phonenumbers.parse(text, _region())
    except phonenumbers.NumberParseException as error:
        raise ValueError("This is not a phone number. Type it as you would dial it, for example 0113 496 0000.") from error
    if not phonenumbers.is_valid_number(number):
        raise ValueError("This phone number is not complete or not in use. Check the digits, for example 0113 496 0000.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_number_for_display(stored: str) -> str:
    """A stored number as people write it in the UK ("0113 496 0000"), or internationally when foreign."""
    if not stored:
        return ""
    if not stored.startswith("+"):
        return stored  # stored before numbers were checked: shown as typed, not reformatted into a guess
    try:
        number = phonenumbers.parse(stored, _region())
    except phonenumbers.NumberParseException:
        return stored
    if phonenumbers.region_code_for_number(number) == _region():
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


class PhoneNumberField(serializers.CharField):
    """A phone number in a request body: checked with libphonenumber, stored as E.164; blank allowed."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            return normalise_phone_number(text)
        except ValueError as error:
            raise serializers.ValidationError(str(error), code="invalid_phone_number") from error
