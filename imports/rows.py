"""What the import engine and its planners share: the run's context, a planned write, a rejected row."""

from dataclasses import dataclass, field
from typing import Any

from imports.models import RowAction
from imports.validate import FieldCheck, Parsed


class RowError(Exception):
    """The row is rejected; the message is the reason shown in the dry run."""


@dataclass(slots=True)
class Planned:
    """A row to write, as plain values (no model instance): ``pk`` is None for a new row. ``values`` holds
    {attname: value}: for a new row the values the row sets, for an existing one every column the import writes
    (the row's values over the current ones). ``diff`` is what an update's audit entry records
    ({field: (old, new)}); a new row's entry records every value it set (``create_diff``), built only when
    written."""

    pk: int | None
    values: dict[str, Any]
    diff: dict[str, tuple[Any, Any]]


@dataclass
class Context:
    """State across chunks: keys seen so far (duplicates), users by email, keys present in the file, and the
    per-run memos of cell parsing and field validation."""

    kind: str
    fields: dict[str, int]
    apply: bool
    owners: dict[str, tuple[int, str]] = field(default_factory=dict)
    seen: dict[Any, int] = field(default_factory=dict)
    file_keys: set[str] = field(default_factory=set)
    primary_seen: dict[int, int] = field(default_factory=dict)
    parents: list[tuple[str, str]] = field(default_factory=list)
    touched_accounts: set[int] = field(default_factory=set)
    results: list[list[Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {a: 0 for a in RowAction.values})
    # The model fields a row is validated on (clean_fields' order): the ones the file writes.
    checks: list[tuple[str, FieldCheck]] = field(default_factory=list)
    # The model columns (attnames) an update writes, besides updated_at.
    update_attnames: list[str] = field(default_factory=list)
    # Parsed cells by column, memoised for the whole file: {field: {cell text: (value, error)}}.
    parsed: dict[str, dict[str, Parsed]] = field(default_factory=dict)
    # Who the audit entries name, and the job they point to.
    actor_id: int | None = None
    actor_email: str = ""
    job_id: int | None = None


def check_duplicate(ctx: Context, key: Any, line: int) -> None:
    first = ctx.seen.setdefault(key, line)
    if first != line:
        shown = key if isinstance(key, str) else key[-1]
        raise RowError(f"duplicate: {shown} already appears on line {first}")


# The audit log names a foreign key by its field ("owner"), not its column ("owner_id").
AUDIT_NAMES = {"owner_id": "owner", "account_id": "account", "parent_id": "parent"}


def audit_name(attname: str) -> str:
    return AUDIT_NAMES.get(attname, attname)


def created(values: dict[str, Any]) -> Planned:
    """A new row."""
    return Planned(None, values, {})


def create_diff(values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """A new row's audit changes: every value the row set, from nothing."""
    names = AUDIT_NAMES
    return {names.get(f, f): (None, v) for f, v in values.items()}


def changed(pk: int, current: dict[str, Any], values: dict[str, Any]) -> Planned:
    """An existing row (``current``: its columns as stored) with the row's ``values`` over them; ``diff`` holds
    what differs (empty: nothing to write)."""
    diff = {}
    for f, v in values.items():
        old = current[f]
        if old != v:
            diff[AUDIT_NAMES.get(f, f)] = (old, v)
    return Planned(pk, {**current, **values}, diff)


def outcome(line: int, action: str, key: str, planned: Planned, is_changed: bool = True) -> tuple:
    # An update that changes nothing is reported but not written: re-running a file is cheap.
    if not is_changed:
        return line, action, key, "unchanged", None
    return line, action, key, "", planned
