"""Helpers shared by every app's services."""

from typing import Any


def apply_fields(instance: Any, data: dict[str, Any], allowed: frozenset[str]) -> None:
    """Set ``data`` on ``instance``, refusing fields a service does not let callers write (derived figures,
    ids, timestamps): a programming error, so TypeError rather than a validation message."""
    unknown = set(data) - allowed
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(sorted(unknown))}")
    for field, value in data.items():
        setattr(instance, field, value)
