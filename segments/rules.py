"""The segment rule language: a whitelist of account fields and computed values, the operators each allows,
validation of a rule tree, and its compilation to ONE Django ``Q`` over an annotated account queryset.

A rule tree is a group ``{"op": "and" | "or", "conditions": [...]}`` whose conditions are either groups
(nested up to ``MAX_DEPTH``) or conditions ``{"field": ..., "operator": ..., "value": ...}``. Anything outside
the whitelist is refused with a ``ValidationError`` naming the offending field, so a rule can never reach an
arbitrary model path (``owner__password``) through the ORM.

"Last NPS category" (`last_nps_category`) is added to the whitelist by the surveys app (surveys/apps.py).
"""

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q

from accounts.models import LifecycleStage, Tier

MAX_DEPTH = 4
MAX_CONDITIONS = 50
CUSTOM_PREFIX = "custom_fields__"
CUSTOM_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
HEALTH_BANDS = [("red", "Red"), ("yellow", "Yellow"), ("green", "Green")]

OPERATORS = {
    "eq": "is",
    "neq": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "gt": "greater than",
    "gte": "at least",
    "lt": "less than",
    "lte": "at most",
    "between": "between (inclusive)",
    "is_empty": "is empty",
    "is_set": "is set",
}
KIND_OPERATORS = {
    "choice": ("eq", "neq", "in", "not_in"),
    "text": ("eq", "neq", "contains", "in", "is_empty", "is_set"),
    "number": ("eq", "gt", "gte", "lt", "lte", "between", "is_empty", "is_set"),
    "ref": ("eq", "neq", "in", "is_empty", "is_set"),
    "custom": ("eq", "neq", "contains", "is_empty", "is_set"),
}
NO_VALUE = frozenset({"is_empty", "is_set"})
LIST_VALUE = frozenset({"in", "not_in"})


@dataclass(frozen=True)
class FieldSpec:
    """One whitelisted field: how it is typed, which ORM path (or annotation) it reads, and its choices."""

    key: str
    label: str
    kind: str
    path: str
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    annotation: str = ""  # the computed value (``segments.computed``) this field needs
    to_date: bool = False  # a number of days compared as a date: ``today + value``
    operators: tuple[str, ...] = field(default=())

    @property
    def allowed_operators(self) -> tuple[str, ...]:
        return self.operators or KIND_OPERATORS[self.kind]


FIELDS: dict[str, FieldSpec] = {
    f.key: f
    for f in (
        FieldSpec("tier", "Tier", "choice", "tier", choices=tuple(Tier.choices)),
        FieldSpec("industry", "Industry", "text", "industry"),
        FieldSpec("region", "Region", "text", "region"),
        FieldSpec(
            "lifecycle_stage", "Lifecycle stage", "choice", "lifecycle_stage", choices=tuple(LifecycleStage.choices)
        ),
        FieldSpec("owner", "Owner", "ref", "owner_id", help="A user id."),
        FieldSpec("team", "Team (owner's team)", "ref", "owner__team_id", help="A team id."),
        FieldSpec("arr", "ARR", "number", "arr", help="Annual recurring revenue of active contracts."),
        FieldSpec("health_band", "Health band", "choice", "health__band", choices=tuple(HEALTH_BANDS)),
        FieldSpec("health_score", "Health score", "number", "health__score", help="0-100."),
        FieldSpec(
            "days_to_renewal",
            "Days to renewal",
            "number",
            "next_renewal_date",
            help="Days from today to the next renewal of an active contract.",
            to_date=True,
        ),
        FieldSpec(
            "license_utilization",
            "License utilization %",
            "number",
            "seg_license_utilization",
            help="Distinct active users over the last 30 days ÷ seats of active contracts x 100.",
            annotation="license_utilization",
        ),
    )
}


def field_spec(key: str) -> FieldSpec | None:
    """The spec of a whitelisted field; ``custom_fields__<key>`` fields are built on the fly."""
    if key in FIELDS:
        return FIELDS[key]
    if key.startswith(CUSTOM_PREFIX):
        name = key[len(CUSTOM_PREFIX) :]
        if CUSTOM_KEY_RE.match(name) and "__" not in name:
            return FieldSpec(key, f"Custom field “{name}”", "custom", key)
    return None


def field_catalog() -> list[dict[str, Any]]:
    """The whitelist as data, for the rule builder and ``GET /api/v1/segments/fields/``."""
    return [
        {
            "key": f.key,
            "label": f.label,
            "kind": f.kind,
            "help": f.help,
            "operators": [{"key": op, "label": OPERATORS[op]} for op in f.allowed_operators],
            "choices": [{"value": v, "label": label} for v, label in f.choices],
        }
        for f in FIELDS.values()
    ] + [
        {
            "key": CUSTOM_PREFIX,
            "label": "Custom field…",
            "kind": "custom",
            "help": "custom_fields__<key>; text comparison.",
            "operators": [{"key": op, "label": OPERATORS[op]} for op in KIND_OPERATORS["custom"]],
            "choices": [],
        }
    ]


# --- validation ---------------------------------------------------------------------------------------------


class _Errors:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.count = 0

    def add(self, where: str, message: str) -> None:
        self.messages.append(f"{where}: {message}" if where else message)


# Numbers in rules are bounded: infinities, NaN and 1e400 have no meaning here and broke the query (500).
MAX_NUMBER = 1e15
MAX_DAYS = 36_500  # days_to_renewal and the like: a century either way
MAX_ID = 2**63 - 1  # PostgreSQL bigint


def _number(value: Any, limit: float = MAX_NUMBER) -> float:
    if isinstance(value, bool):
        raise ValueError
    try:
        number = float(Decimal(str(value).strip()))
    except (InvalidOperation, ValueError, OverflowError) as exc:
        raise ValueError from exc
    if not math.isfinite(number) or abs(number) > limit:
        raise ValueError
    return number


def _clean_value(spec: FieldSpec, operator: str, value: Any) -> Any:
    """Cast and check a condition's value; raises ValueError with a message for the user."""
    if operator in NO_VALUE:
        return None
    if operator in LIST_VALUE:
        if not isinstance(value, list) or not value:
            raise ValueError("needs a non-empty list of values")
        return [_clean_scalar(spec, v) for v in value]
    if operator == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise ValueError("needs two numbers [from, to]")
        low, high = (_clean_scalar(spec, v) for v in value)
        if low > high:
            raise ValueError("the first number must not exceed the second")
        return [low, high]
    return _clean_scalar(spec, value)


def _clean_scalar(spec: FieldSpec, value: Any) -> Any:
    if value is None or value == "":
        raise ValueError("needs a value")
    if spec.kind == "choice":
        allowed = {v for v, _ in spec.choices}
        if value not in allowed:
            raise ValueError(f"'{value}' is not one of {', '.join(sorted(allowed))}")
        return value
    if spec.kind == "number":
        limit = MAX_DAYS if spec.to_date else MAX_NUMBER
        try:
            return _number(value, limit)
        except ValueError as exc:
            shown = str(value)[:40]
            raise ValueError(f"'{shown}' is not a number between -{limit:g} and {limit:g}") from exc
    if spec.kind == "ref":
        if isinstance(value, bool):
            raise ValueError(f"'{value}' is not an id")
        try:
            ref = int(str(value)[:40])
        except ValueError as exc:
            raise ValueError(f"'{str(value)[:40]}' is not an id") from exc
        if not 0 < ref <= MAX_ID:
            raise ValueError(f"'{str(value)[:40]}' is not an id")
        return ref
    if not isinstance(value, str | int | float) or isinstance(value, bool) or not str(value).strip():
        raise ValueError("needs a non-empty text value")
    return str(value).strip()[:200]


def _validate(node: Any, where: str, depth: int, errors: _Errors) -> dict[str, Any] | None:
    if not isinstance(node, dict):
        errors.add(where, "must be a group or a condition object")
        return None
    if "conditions" in node or "op" in node:
        op = node.get("op", "and")
        if op not in ("and", "or"):
            errors.add(where, f"group operator '{op}' must be 'and' or 'or'")
        if depth > MAX_DEPTH:
            errors.add(where, f"groups nest at most {MAX_DEPTH} levels deep")
            return None
        children = node.get("conditions", [])
        if not isinstance(children, list):
            errors.add(where, "conditions must be a list")
            return None
        if not children and depth > 1:
            errors.add(where, "a group needs at least one condition")
        cleaned = [
            _validate(child, f"{where}.conditions[{i}]".lstrip("."), depth + 1, errors)
            for i, child in enumerate(children)
        ]
        return {"op": op, "conditions": [c for c in cleaned if c is not None]}
    errors.count += 1
    key = node.get("field")
    spec = field_spec(key) if isinstance(key, str) else None
    if spec is None:
        allowed = ", ".join([*FIELDS, CUSTOM_PREFIX + "<key>"])
        errors.add(where, f"'{key}' is not a segment field (allowed: {allowed})")
        return None
    operator = node.get("operator")
    if operator not in spec.allowed_operators:
        errors.add(
            where, f"operator '{operator}' is not allowed on {key} (allowed: {', '.join(spec.allowed_operators)})"
        )
        return None
    try:
        value = _clean_value(spec, operator, node.get("value"))
    except ValueError as exc:
        errors.add(where, f"{key} {operator} {exc}")
        return None
    return {"field": key, "operator": operator, "value": value}


def validate_rules(rules: Any) -> dict[str, Any]:
    """Check a rule tree against the whitelist and return it normalised (numbers cast, ids as ints).
    Raises ``ValidationError({"rules": [...]})`` naming every offending field or operator."""
    if rules in (None, "", {}):
        return {"op": "and", "conditions": []}
    errors = _Errors()
    cleaned = _validate(rules, "", 1, errors)
    if cleaned is not None and "conditions" not in cleaned:
        cleaned = {"op": "and", "conditions": [cleaned]}
    if errors.count > MAX_CONDITIONS:
        errors.add("", f"a segment has at most {MAX_CONDITIONS} conditions")
    if errors.messages:
        raise ValidationError({"rules": errors.messages})
    return cleaned


# --- compilation --------------------------------------------------------------------------------------------


def _empty_q(spec: FieldSpec) -> Q:
    if spec.kind == "custom":
        key = spec.key[len(CUSTOM_PREFIX) :]
        return ~Q(custom_fields__has_key=key) | Q(**{f"{spec.path}__exact": ""}) | Q(**{f"{spec.path}__isnull": True})
    if spec.kind == "text":
        return Q(**{spec.path: ""}) | Q(**{f"{spec.path}__isnull": True})
    return Q(**{f"{spec.path}__isnull": True})


def _condition_q(cond: dict[str, Any], today: dt.date) -> Q:
    spec = field_spec(cond["field"])
    assert spec is not None  # validated before
    op, value, path = cond["operator"], cond["value"], spec.path
    if op == "is_empty":
        return _empty_q(spec)
    if op == "is_set":
        return ~_empty_q(spec)

    def conv(v: Any) -> Any:
        return today + dt.timedelta(days=int(v // 1)) if spec.to_date else v

    text = spec.kind in ("text", "custom")
    lookups: dict[str, Callable[[], Q]] = {
        "eq": lambda: Q(**{f"{path}__iexact" if text else path: conv(value)}),
        "neq": lambda: ~Q(**{f"{path}__iexact" if text else path: conv(value)}),
        "contains": lambda: Q(**{f"{path}__icontains": value}),
        "gt": lambda: Q(**{f"{path}__gt": conv(value)}),
        "gte": lambda: Q(**{f"{path}__gte": conv(value)}),
        "lt": lambda: Q(**{f"{path}__lt": conv(value)}),
        "lte": lambda: Q(**{f"{path}__lte": conv(value)}),
        "between": lambda: Q(**{f"{path}__gte": conv(value[0]), f"{path}__lte": conv(value[1])}),
        "not_in": lambda: ~Q(**{f"{path}__in": value}),
    }
    if op == "in":
        if text:
            q = Q()
            for v in value:
                q |= Q(**{f"{path}__iexact": v})
            return q
        return Q(**{f"{path}__in": value})
    return lookups[op]()


def compile_rules(rules: dict[str, Any], *, today: dt.date) -> tuple[Q, set[str]]:
    """A validated rule tree → one ``Q`` and the names of the computed annotations it reads."""
    annotations: set[str] = set()

    def walk(node: dict[str, Any]) -> Q:
        if "conditions" in node:
            q = Q()
            for child in node["conditions"]:
                part = walk(child)
                q = (q | part) if (node["op"] == "or" and q) else (q & part)
            return q
        spec = field_spec(node["field"])
        if spec and spec.annotation:
            annotations.add(spec.annotation)
        return _condition_q(node, today)

    return walk(rules), annotations


def describe_rules(rules: dict[str, Any]) -> str:
    """A one-line human reading of a rule tree, for lists and logs."""

    def walk(node: dict[str, Any]) -> str:
        if "conditions" in node:
            parts = [walk(c) for c in node["conditions"]]
            if not parts:
                return "all accounts"
            joined = f" {node['op'].upper()} ".join(parts)
            return f"({joined})" if len(parts) > 1 else joined
        spec = field_spec(node["field"])
        label = spec.label if spec else node["field"]
        value = node.get("value")
        shown = (
            ""
            if value is None
            else (
                " to ".join(map(str, value))
                if node["operator"] == "between"
                else ", ".join(map(str, value))
                if isinstance(value, list)
                else str(value)
            )
        )
        return f"{label} {OPERATORS.get(node['operator'], node['operator'])} {shown}".strip()

    return walk(rules)
