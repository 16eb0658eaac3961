"""The OpenAPI schema documents the error answers too: every operation lists the codes it can answer with the
one error shape (``csp.api.exceptions``), so clients (and the schema fuzz test) can rely on the schema."""

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The error body: a code, a message and, for validation errors, the messages of each offending field."""

    def get_fields(self):
        # "fields" is the name of Serializer.fields, so the field set is built here rather than declared.
        return {
            "code": serializers.CharField(help_text="Machine-readable, e.g. invalid, not_found, permission_denied."),
            "message": serializers.CharField(help_text="What went wrong, in English, naming the offending fields."),
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()),
                required=False,
                help_text="Validation errors only: each offending field with its messages.",
            ),
        }

    class Meta:
        ref_name = "Error"


def _model_field_blank(field) -> bool:
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source:
        return False
    try:
        return model._meta.get_field(field.source).blank
    except FieldDoesNotExist:  # a property or an annotation
        return False


ERRORS = {
    "400": "Invalid input: a body, filter or query parameter was refused (`fields` names each).",
    "401": "No credentials, or a wrong, expired or deactivated token.",
    "403": "The role (or the account owner rules) does not allow it.",
    "404": "No such object (or page).",
    "429": "Throttled: retry after the `Retry-After` header's seconds.",
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema plus the error answers each operation can give, and blank choices of read-only
    fields."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        # DRF drops allow_blank from read-only model fields, so a choice the model leaves blank (a CTA's outcome
        # until it closes) would be documented as never "". Reading only, so allowing it changes no validation.
        if isinstance(field, serializers.ChoiceField) and field.read_only and _model_field_blank(field):
            field.allow_blank = True
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        params = operation.get("parameters", [])
        codes = ["401", "403", "429"]
        # Any write can be refused by validation (body or service rules); a read only through its parameters.
        if self.method != "GET" or any(p["in"] == "query" for p in params):
            codes.append("400")
        # Objects by id, and pages past the end of a list.
        if any(p["in"] == "path" for p in params) or any(p["name"] == "page" for p in params):
            codes.append("404")
        ref = self.resolve_serializer(ErrorSerializer, "response").ref
        for code in sorted(codes):
            operation["responses"].setdefault(
                code, {"description": ERRORS[code], "content": {"application/json": {"schema": ref}}}
            )
        return operation
