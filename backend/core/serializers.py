"""Serializer building blocks shared by every app's API."""

from rest_framework import serializers


class StrictInputSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not know, naming each one.

    A misspelt field silently ignored is data a person thought they recorded and did not.
    """

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


def parse_query(serializer_class: type[serializers.Serializer], request) -> dict:
    """Validate a request's query string with `serializer_class` (one value per name), like parse_input."""
    serializer = serializer_class(data={name: request.query_params.get(name) for name in request.query_params})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
