"""Typed custom fields of accounts: check values against the admin's definitions (one rule for the form, the
API and imports, through ``accounts.services``)."""

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from accounts.models import CustomFieldDefinition, CustomFieldType

MAX_TEXT = 1000


def active_definitions() -> list[CustomFieldDefinition]:
    return list(CustomFieldDefinition.objects.filter(is_active=True))


def _typed(definition: CustomFieldDefinition, value: Any) -> Any:
    """The stored form of one value, or a ValueError saying what is wrong."""
    kind = definition.field_type
    if kind == CustomFieldType.NUMBER:
        if isinstance(value, bool):
            raise ValueError("must be a number")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError("must be a number") from exc
        if not number.is_finite():
            raise ValueError("must be a number")
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == CustomFieldType.DATE:
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError as exc:
            raise ValueError("must be a date as YYYY-MM-DD") from exc
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError("must be text")
    text = str(value).strip()
    if kind == CustomFieldType.CHOICE:
        if text not in definition.choices:
            raise ValueError(f"must be one of {', '.join(definition.choices)}")
        return text
    if len(text) > MAX_TEXT:
        raise ValueError(f"must be at most {MAX_TEXT} characters")
    return text


def custom_field_values_clean(values: Any, *, definitions: list[CustomFieldDefinition] | None = None) -> dict[str, Any]:
    """``values`` with every defined key typed and checked (empty means absent; a required field must be there).
    Keys no active definition names are kept as they are, so imported or older data is never lost.
    Raises ``ValidationError({"custom_fields": [...]})`` listing every problem."""
    if values in (None, ""):
        values = {}
    if not isinstance(values, dict):
        raise ValidationError({"custom_fields": ["Custom fields must be an object of field keys to values."]})
    definitions = active_definitions() if definitions is None else definitions
    cleaned = dict(values)
    errors = []
    for d in definitions:
        value = cleaned.get(d.key)
        if value is None or (isinstance(value, str) and not value.strip()):
            cleaned.pop(d.key, None)
            if d.required:
                errors.append(f"{d.label} ({d.key}) is required.")
            continue
        try:
            cleaned[d.key] = _typed(d, value)
        except ValueError as exc:
            errors.append(f"{d.label} ({d.key}) {exc}.")
    if errors:
        raise ValidationError({"custom_fields": errors})
    return cleaned
