"""Serializer pieces every API uses: strict types, no unknown fields, money as strings."""

import copy

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know: a typo must not be silently ignored."""

    def get_fields(self):
        # DRF deep-copies the declared fields for every instance (a third of a millisecond for a
        # create's input, by re-running each field's constructor). Binding only writes attributes, so
        # a shallow copy per field is enough: what copies share (validators, choices, a child field)
        # is configuration that validation does not change.
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: [serializers.ErrorDetail("Unknown field.", code="unknown_field")] for name in unknown}
                )
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A JSON string only: DRF's CharField would quietly turn 17 or true into text."""

    default_error_messages = {"invalid_type": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid_type")
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.STR)
class DecimalStringField(serializers.Field):
    """Accepts only a JSON string: a JSON number would already have lost precision in the client."""

    default_error_messages = {"not_string": 'Send the amount as a decimal string, e.g. "1250.50".'}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_string")
        return data

    def to_representation(self, value):
        return str(value)


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "fusionprime.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An API key: `Authorization: Bearer fpk_…`"}
