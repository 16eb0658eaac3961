"""Column-wise cell parsing and model-field validation, without model instances.

Each column of a chunk is parsed and validated as a list (``parse_column``); the outcome of a value is
memoised per run, so a column with few distinct values ("smb", "yearly", a date) costs one parse and one
validation per distinct value, not per row. Validation is the model field's own ``Field.clean`` (the
validators ``Model.clean_fields`` runs, with the same messages); plain text columns take a fast path that
checks exactly what their validators check (length, NUL characters) and only call ``clean`` to word a
failure.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.db.models import CharField, Field, Model

from imports.columns import CellError

Parsed = tuple[Any, str | None]  # (value, reject reason)


def parse_column(
    values: list[str | None], parse: Callable[[str], Any], memo: dict[str, Parsed]
) -> tuple[list[Any], list[str | None]]:
    """``parse`` every present cell of a column (None = blank cell): (values, errors), memoised by cell text."""
    out, errors = [], []
    for raw in values:
        if raw is None:
            out.append(None)
            errors.append(None)
            continue
        found = memo.get(raw)
        if found is None:
            try:
                found = (parse(raw), None)
            except CellError as exc:
                found = (None, str(exc))
            memo[raw] = found
        out.append(found[0])
        errors.append(found[1])
    return out, errors


def _plain_text(field: Field) -> bool:
    """A CharField whose only validators are the length and NUL checks every CharField has, without choices."""
    kinds = {type(v) for v in field.validators}
    return isinstance(field, CharField) and not field.choices and kinds <= {
        MaxLengthValidator, ProhibitNullCharactersValidator
    }  # fmt: skip


class FieldCheck:
    """``check(value)``: the field's ``clean_fields`` message for a value ("" when valid), as the import reports
    it ("name: Ensure this value has at most 200 characters (it has 201).")."""

    def __init__(self, model: type[Model], name: str):
        self.field = model._meta.get_field(name)
        self.name = name
        self.plain = _plain_text(self.field)
        self.max_length = self.field.max_length
        self.memo: dict[Any, str] = {}

    def _clean(self, value: Any) -> str:
        try:
            self.field.clean(value, None)
        except ValidationError as exc:
            return f"{self.name}: {' '.join(exc.messages)}"
        return ""

    def __call__(self, value: Any) -> str:
        if self.plain and isinstance(value, str):
            if (self.max_length is None or len(value) <= self.max_length) and "\x00" not in value:
                return ""
            return self._clean(value)
        found = self.memo.get(value)
        if found is None:
            found = self.memo[value] = self._clean(value)
        return found


def column_errors(check: FieldCheck, values: list[Any]) -> list[str] | None:
    """``check`` over a whole column (None = blank cell): the message per row, or None when every value is valid
    (the common case, decided at C speed for text: the longest value and a NUL search over the column)."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if check.plain and all(isinstance(v, str) for v in present[:1]):
        if (check.max_length is None or max(map(len, present)) <= check.max_length) and "\x00" not in "".join(present):
            return None
        return [check(v) if v is not None else "" for v in values]
    messages = {v: check(v) for v in set(present)}
    if not any(messages.values()):
        return None
    return [messages[v] if v is not None else "" for v in values]


def checks(model: type[Model], names: set[str]) -> list[tuple[str, FieldCheck]]:
    """(attname, check) of the named fields in the model's field order, the order ``clean_fields`` reports in."""
    return [(f.attname, FieldCheck(model, f.name)) for f in model._meta.fields if f.name in names]


def field_errors(values: dict[str, Any], field_checks: list[tuple[str, FieldCheck]]) -> str:
    """The row's validation errors joined as ``Model.clean_fields`` would report them ("" when valid)."""
    errors = []
    for attname, check in field_checks:
        value = values.get(attname)
        if value is not None:
            message = check(value)
            if message:
                errors.append(message)
    return "; ".join(errors)
