"""The import engine: reads a job's CSV in chunks, decides create / update / reject per row
(``imports/planners.py``, column-wise, no model instances) and, when applying, writes each chunk set-based
in one transaction (``imports/bulk.py``): new rows by ``COPY`` with ids from the sequence, changed rows by
``COPY`` into a temporary table and one ``UPDATE … FROM`` it, and one audit log entry per written row by
``COPY``. A chunk costs a fixed handful of queries (existing rows by key, referenced accounts, the writes),
never one per row. SQLite (``make run``) takes ``bulk_create``/``bulk_update`` instead of COPY.

Validation is the models' own field validation (``Field.clean``, the messages ``clean_fields`` gives) plus
the cross-field rules the account services enforce (contract end after start, one primary contact, unique
external ids), so an import accepts exactly what the forms and the API accept. The dry run runs the same
planners as the import, so it reports exactly what the import will do with the data as it is then.
"""

import csv
import gc
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from accounts.models import Account, Contact, Contract, ContractStatus
from accounts.services import account_refresh_financials
from csp.models import User
from imports import columns as c
from imports.bulk import (
    audit_entries,
    bulk_update_values,
    fetch_by,
    insert_columns,
    insert_values,
    update_values,
)
from imports.models import RowAction
from imports.planners import contract_text, plan_accounts, plan_contacts, plan_contracts
from imports.rows import Context, Planned, RowError, create_diff
from imports.validate import checks
from timeline.models import EntryKind, TimelineEntry

__all__ = ["CHUNK", "Context", "RowError", "read_rows", "run"]

CHUNK = 2000


def read_rows(content: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and an iterator of (line number, cells), skipping blank lines."""
    reader = csv.reader(io.StringIO(content))
    header = next(reader, [])

    def rows() -> Iterator[tuple[int, list[str]]]:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield reader.line_num, cells

    return header, rows()


def _values(cells: list[str], fields: list[tuple[str, int]]) -> dict[str, str]:
    """Non-blank cells by field: a blank cell means "no value" (keep the current one on update)."""
    out = {}
    width = len(cells)
    for f, i in fields:
        if i < width:
            value = cells[i].strip()
            if value:
                out[f] = value
    return out


PLANNERS = {"accounts": plan_accounts, "contacts": plan_contacts, "contracts": plan_contracts}
MODELS = {"accounts": Account, "contacts": Contact, "contracts": Contract}
# The model fields each CSV field writes (an update writes only the columns the file has).
WRITES = {"owner_email": "owner", "first_name": "name", "last_name": "name"}
NOT_WRITTEN = {"external_id", "account_external_id", "parent_external_id"}
# Never validated here: foreign keys are checked by the planners (one query per chunk), custom fields are not
# imported.
UNVALIDATED = {"owner", "parent", "account", "custom_fields"}


def _update_attnames(kind: str, fields: dict[str, int]) -> list[str]:
    meta = MODELS[kind]._meta
    names = sorted({WRITES.get(f, f) for f in fields if f not in NOT_WRITTEN})
    if kind == "contacts" and "external_id" in fields:
        names.append("external_id")
    if kind == "contracts":
        names.append("arr")
    return [meta.get_field(name).attname for name in names]


def _audit(ctx: Context, model: type[Model], entries: list) -> None:
    audit_entries(model, entries, actor_id=ctx.actor_id, actor_email=ctx.actor_email, job_id=ctx.job_id)


def _demote_primaries(ctx: Context, planned: list[Planned]) -> None:
    """The partial unique index allows one primary contact per account: clear the old ones first."""
    primaries = [p for p in planned if p.values.get("is_primary")]
    if not primaries:
        return
    demoted = Contact.objects.filter(account_id__in={p.values["account_id"] for p in primaries}, is_primary=True)
    demoted = demoted.exclude(pk__in=[p.pk for p in primaries if p.pk])
    former = list(demoted.values_list("id", "name"))
    demoted.update(is_primary=False)
    _audit(ctx, Contact, [(pk, name, False, {"is_primary": (True, False)}) for pk, name in former])


TEXT = {  # str() of the written object (the audit entry's object_repr), from its values
    "accounts": lambda values: values["name"],
    "contacts": lambda values: values["name"],
    "contracts": contract_text,
}


def _write_chunk(ctx: Context, creates: list[Planned], updates: list[Planned]) -> None:
    """One transaction per chunk: its rows and their audit entries are stored together or not at all."""
    model, text = MODELS[ctx.kind], TEXT[ctx.kind]
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # A chunk's statements are short: compiling them (JIT, 100 ms for the ARR refresh) costs more than
                # it saves.
                cursor.execute("SET LOCAL jit = off")
        if ctx.kind == "contacts":
            _demote_primaries(ctx, creates + updates)
        attnames = ctx.update_attnames
        update_values(
            model, [*attnames, "updated_at"], [(p.pk, *[p.values[a] for a in attnames], now) for p in updates]
        )
        for p, pk in zip(creates, insert_values(model, [p.values for p in creates], now), strict=True):
            p.pk = pk
        _audit(
            ctx,
            model,
            [(p.pk, text(p.values), True, create_diff(p.values)) for p in creates]
            + [(p.pk, text(p.values), False, p.diff) for p in updates],
        )
        if ctx.kind == "contracts":
            touched = {p.values["account_id"] for p in creates + updates}
            ctx.touched_accounts |= touched
            account_refresh_financials(account_ids=touched)
            # One tuple per entry (no dict): (account_id, kind, occurred_at, source_type, source_id, title, data).
            entry = EntryKind.CONTRACT
            insert_columns(
                TimelineEntry,
                ["account_id", "kind", "occurred_at", "source_type", "source_id", "title", "data"],
                [
                    (p.values["account_id"], entry, now, "contract", str(p.pk), f"{title}{text(p.values)}",
                     {"action": "import", "arr": str(p.values["arr"]),
                      "status": p.values.get("status", ContractStatus.ACTIVE)})
                    for group, title in ((creates, "Contract imported: "), (updates, "Contract updated by import: "))
                    for p in group
                ],
                now,
            )  # fmt: skip


def _apply_parents(ctx: Context) -> None:
    """Link children to parents once every account of the file exists (a parent may come later in the file)."""
    for start in range(0, len(ctx.parents), CHUNK):
        pairs = ctx.parents[start : start + CHUNK]
        ids = dict(fetch_by(Account, "external_id", {k for pair in pairs for k in pair}, ["external_id", "id"]))
        parent_of, changed = dict(pairs), []
        for pk, key, name, old in fetch_by(
            Account, "external_id", parent_of, ["id", "external_id", "name", "parent_id"]
        ):
            new = ids.get(parent_of[key])
            if old != new:
                changed.append((pk, name, old, new))
        with transaction.atomic():
            bulk_update_values(Account, [Account(pk=pk, parent_id=new) for pk, _, _, new in changed], ["parent"])
            _audit(ctx, Account, [(pk, name, False, {"parent": (old, new)}) for pk, name, old, new in changed])


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Collect garbage less often while a file runs: a chunk allocates tens of thousands of small dicts and tuples
    (rows, values, audit entries), none of them in cycles, and at the default threshold (700 allocations) a
    young-generation collection ran every few dozen rows, rescanning the chunk's live objects. Restored afterwards."""
    old = gc.get_threshold()
    gc.set_threshold(100_000, old[1], old[2])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def run(
    *,
    kind: str,
    content: str,
    apply: bool,
    on_chunk: Callable[[Context, int], None] | None = None,
    actor: User | None = None,
    job_id: int | None = None,
) -> Context:
    """Plan (and with ``apply`` write) every row of the CSV; ``on_chunk(ctx, rows_done)`` after each chunk.
    Audit entries name ``actor`` and ``job_id``."""
    with _fewer_collections():
        return _run(kind=kind, content=content, apply=apply, on_chunk=on_chunk, actor=actor, job_id=job_id)


def _run(
    *,
    kind: str,
    content: str,
    apply: bool,
    on_chunk: Callable[[Context, int], None] | None,
    actor: User | None,
    job_id: int | None,
) -> Context:
    header, rows = read_rows(content)
    fields, _ignored = c.match_headers(kind, header)
    ctx = Context(kind=kind, fields=fields, apply=apply, job_id=job_id)
    if actor is not None:
        ctx.actor_id, ctx.actor_email = actor.pk, actor.email
    written = {WRITES.get(f, f) for f in fields} | {"external_id"}
    ctx.checks = checks(MODELS[kind], written - UNVALIDATED)
    ctx.update_attnames = _update_attnames(kind, fields)
    ctx.owners = {
        e.lower(): (i, r) for e, i, r in User.objects.filter(is_active=True).values_list("email", "id", "role")
    }
    if kind == "accounts" and "parent_external_id" in fields:
        _, again = read_rows(content)
        ctx.file_keys = {
            cells[fields["external_id"]].strip() for _, cells in again if len(cells) > fields["external_id"]
        }
    done = 0
    chunk: list[tuple[int, dict[str, str]]] = []
    field_list = list(fields.items())
    plan = PLANNERS[kind]

    def flush() -> None:
        nonlocal done
        creates, updates = [], []
        for line, action, key, reason, planned in plan(chunk, ctx):
            ctx.results.append([line, action, key, reason])
            ctx.counts[action] += 1
            if planned is not None:
                (creates if action == RowAction.CREATE else updates).append(planned)
        if apply:
            _write_chunk(ctx, creates, updates)
        done += len(chunk)
        chunk.clear()
        if on_chunk:
            on_chunk(ctx, done)

    for line, cells in rows:
        chunk.append((line, _values(cells, field_list)))
        if len(chunk) >= CHUNK:
            flush()
    if chunk:
        flush()
    if apply and kind == "accounts" and ctx.parents:
        _apply_parents(ctx)
    return ctx
