"""Limits on JSON input that the database and serializers can hold (a deep value crashes them: a 500)."""

from typing import Any

MAX_JSON_DEPTH = 32


def nesting_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when dicts and lists nest deeper than ``limit`` (iterative: a deep value cannot exhaust the stack)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, (dict, list)):
            continue
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False
