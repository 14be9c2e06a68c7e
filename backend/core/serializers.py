"""Serializer building blocks shared by every app's API.

Every request body and query string goes through a `StrictInputSerializer` (`parse_input`,
`parse_query`), which holds the input boundaries in one place (docs/api.md, "Limits"):

- integers are ASCII digits only (no "²", no "١٢", no "1.0"), between -(2^63) and 2^63-1 unless a
  field says narrower, so nothing reaches PostgreSQL that a bigint cannot hold;
- dates and date-times lie between 1900-01-01 and 2100-12-31, so date arithmetic downstream (exports
  that shift dates, "up to and including" filters) cannot overflow;
- every string has a maximum length (TEXT_MAX_LENGTH unless the field says less) and no NUL byte
  (DRF's CharField refuses NUL already).
"""

from __future__ import annotations

from django.core.validators import MaxLengthValidator
from rest_framework import serializers

from backend.core.limits import BIGINT_MAX, BIGINT_MIN, TEXT_MAX_LENGTH, is_ascii_integer, validate_supported_date

__all__ = ["StrictInputSerializer", "StrictIntegerField", "is_ascii_integer", "parse_input", "parse_query"]


class StrictIntegerField(serializers.IntegerField):
    """An integer from JSON, or a string of ASCII digits (query strings, form fields); bounded to a bigint."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_value", BIGINT_MAX)
        kwargs.setdefault("min_value", BIGINT_MIN)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, str):
            if not is_ascii_integer(data):
                self.fail("invalid")
            return int(data)
        if isinstance(data, int):
            return data
        self.fail("invalid")


def _strict(field: serializers.Field) -> serializers.Field:
    """`field` with the shared boundaries: strict bounded integers, bounded dates, bounded strings."""
    if isinstance(field, serializers.IntegerField) and not isinstance(field, StrictIntegerField):
        return StrictIntegerField(**field._kwargs)  # the same field as declared (DRF keeps its arguments)
    if isinstance(field, (serializers.DateField, serializers.DateTimeField)):
        if validate_supported_date not in field.validators:
            field.validators.append(validate_supported_date)
    elif isinstance(field, serializers.CharField) and field.max_length is None and not isinstance(field, serializers.ChoiceField):
        field.max_length = TEXT_MAX_LENGTH
        message = field.error_messages["max_length"].format(max_length=TEXT_MAX_LENGTH)
        field.validators.append(MaxLengthValidator(TEXT_MAX_LENGTH, message=message))
    elif isinstance(field, (serializers.ListField, serializers.DictField)):
        child = _strict(field.child)
        if child is not field.child:
            child.bind(field_name="", parent=field)
            field.child = child
    return field


class StrictInputSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not know, naming each one, and holds every
    field to the shared input boundaries (see the module docstring).

    A misspelt field silently ignored is data a person thought they recorded and did not.
    """

    def get_fields(self):
        return {name: _strict(field) for name, field in super().get_fields().items()}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown}, code="unknown_field")
        return super().to_internal_value(data)


def parse_input(serializer_class: type[serializers.Serializer], request, partial: bool = False) -> dict:
    """Validate a request body with `serializer_class`; a 400 naming each bad field if it fails."""
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# Query parameters that belong to the paginator (backend/core/pagination.py), not to a view's filters.
PAGINATION_PARAMETERS = ("cursor", "page_size")


def parse_query(serializer_class: type[serializers.Serializer], request) -> dict:
    """Validate a request's query string with `serializer_class` (one value per name), like parse_input.
    Every view that reads a query parameter reads it through here."""
    data = {name: request.query_params.get(name) for name in request.query_params if name not in PAGINATION_PARAMETERS}
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
