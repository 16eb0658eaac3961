"""The import engine: reads a job's CSV in chunks, decides create / update / reject per row, and (when
applying) writes each chunk set-based (``imports/bulk.py``: COPY for new rows, one UPDATE … FROM VALUES for
changed rows, one audit log entry per written object). A chunk costs a fixed handful of queries (existing rows
by key, referenced accounts), never one per row.

Per-row validation is the models' own field validation (``clean_fields``: lengths, choices, validators)
plus the cross-field rules the account services enforce (contract end after start, one primary contact,
unique external ids), so an import accepts exactly what the forms and the API accept.
"""

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils import timezone

from accounts.models import Account, Contact, Contract
from accounts.services import _contract_arr, account_refresh_financials
from csp.models import Role, User
from imports import columns as c
from imports.bulk import audit_rows, bulk_update_values, insert_rows
from imports.models import RowAction
from timeline.models import EntryKind, TimelineEntry

CHUNK = 2000
OWNER_ROLES = {Role.CSM, Role.MANAGER, Role.ADMIN}


class RowError(Exception):
    """The row is rejected; the message is the reason shown in the dry run."""


@dataclass
class Context:
    """State across chunks: keys seen so far (duplicates), users by email, keys present in the file."""

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
    # Model fields a row is validated on: the ones the file writes (the others keep valid values or defaults).
    exclude: list[str] = field(default_factory=list)
    # Who the audit entries name, and the job they point to.
    actor_id: int | None = None
    actor_email: str = ""
    job_id: int | None = None


def read_rows(content: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and an iterator of (line number, cells), skipping blank lines."""
    reader = csv.reader(io.StringIO(content))
    header = next(reader, [])

    def rows() -> Iterator[tuple[int, list[str]]]:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield reader.line_num, cells

    return header, rows()


def _values(cells: list[str], fields: dict[str, int]) -> dict[str, str]:
    """Non-blank cells by field: a blank cell means "no value" (keep the current one on update)."""
    return {f: cells[i].strip() for f, i in fields.items() if i < len(cells) and cells[i].strip()}


def _validate(obj: Model, exclude: list[str]) -> None:
    try:
        obj.clean_fields(exclude=exclude)  # exclude: ctx.exclude, the fields the file does not write
        if isinstance(obj, Contract):
            obj.clean()
    except ValidationError as exc:
        raise RowError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None


def _owner(ctx: Context, email: str) -> int:
    found = ctx.owners.get(email.lower())
    if found is None:
        raise RowError(f"owner_email: no user with email {email}")
    if found[1] not in OWNER_ROLES:
        raise RowError(f"owner_email: {email} is a {found[1]} and cannot own accounts")
    return found[0]


# --- accounts ---------------------------------------------------------------------------------------------


def _parse_all(raw: dict[str, str], parsers: dict[str, Callable[[str], Any]]) -> dict[str, Any]:
    """Parse every present cell, reporting all bad cells of the row at once, not just the first."""
    out: dict[str, Any] = {}
    errors = []
    for f, parse in parsers.items():
        if f in raw:
            try:
                out[f] = parse(raw[f])
            except (RowError, c.CellError) as exc:
                errors.append(str(exc))
    if errors:
        raise RowError("; ".join(errors))
    return out


def _account_values(raw: dict[str, str], ctx: Context) -> dict[str, Any]:
    text = lambda v: v  # noqa: E731
    out = _parse_all(
        raw,
        {
            "name": text, "domain": text, "industry": text, "region": text,
            "tier": lambda v: c.parse_choice("tier", "tier", v),
            "lifecycle_stage": lambda v: c.parse_choice("lifecycle_stage", "lifecycle_stage", v),
            "engagement_model": lambda v: c.parse_choice("engagement_model", "engagement_model", v),
            "status": lambda v: c.parse_choice("account_status", "status", v),
            "employee_count": lambda v: c.parse_int("employee_count", v),
            "owner_email": lambda v: _owner(ctx, v),
        },
    )  # fmt: skip
    if "owner_email" in out:
        out["owner_id"] = out.pop("owner_email")
    return out


def _plan_accounts(chunk: list[tuple[int, dict[str, str]]], ctx: Context):
    keys = [raw["external_id"] for _, raw in chunk if "external_id" in raw]
    existing = {a.external_id: a for a in Account.objects.filter(external_id__in=keys)}
    parent_keys = {raw["parent_external_id"] for _, raw in chunk if "parent_external_id" in raw}
    known_parents = set(Account.objects.filter(external_id__in=parent_keys).values_list("external_id", flat=True))
    for line, raw in chunk:
        key, changed = raw.get("external_id", ""), True
        try:
            if not key:
                raise RowError("external_id: required (the account's id in your CRM)")
            _check_duplicate(ctx, key, line)
            values = _account_values(raw, ctx)
            parent = raw.get("parent_external_id")
            if parent == key:
                raise RowError("parent_external_id: an account cannot be its own parent")
            if parent and parent not in known_parents and parent not in ctx.file_keys:
                raise RowError(f"parent_external_id: no account with external id {parent}")
            obj = existing.get(key)
            if obj is None:
                if not values.get("name"):
                    raise RowError("name: required for a new account")
                obj, action = _new(Account, external_id=key, **values), RowAction.CREATE
            else:
                changed = _assign(obj, values)
                action = RowAction.UPDATE
            _validate(obj, exclude=ctx.exclude)
        except (RowError, c.CellError) as exc:
            yield line, RowAction.REJECT, key, str(exc), None
            continue
        if parent:
            ctx.parents.append((key, parent))
        yield _outcome(line, action, key, obj, changed)


def _apply_parents(ctx: Context) -> None:
    """Link children to parents once every account of the file exists (a parent may come later in the file)."""
    for start in range(0, len(ctx.parents), CHUNK):
        pairs = ctx.parents[start : start + CHUNK]
        ids = dict(
            Account.objects.filter(external_id__in={k for pair in pairs for k in pair}).values_list("external_id", "id")
        )
        children = Account.objects.filter(external_id__in=[k for k, _ in pairs]).only("id", "external_id", "parent_id")
        parent_of, changed = dict(pairs), []
        for child in children:
            old, child.parent_id = child.parent_id, ids.get(parent_of[child.external_id])
            if old != child.parent_id:
                changed.append((child, {"parent": (old, child.parent_id)}))
        bulk_update_values(Account, [child for child, _ in changed], ["parent"])
        _audit(ctx, Account, [(child, False, diff) for child, diff in changed])


# --- contacts ---------------------------------------------------------------------------------------------


def _account_ids(chunk: list[tuple[int, dict[str, str]]]) -> dict[str, int]:
    keys = {raw["account_external_id"] for _, raw in chunk if "account_external_id" in raw}
    return dict(Account.objects.filter(external_id__in=keys).values_list("external_id", "id"))


def _account_of(raw: dict[str, str], accounts: dict[str, int]) -> int:
    key = raw.get("account_external_id")
    if not key:
        raise RowError("account_external_id: required")
    if key not in accounts:
        raise RowError(f"account_external_id: no account with external id {key}")
    return accounts[key]


def _plan_contacts(chunk: list[tuple[int, dict[str, str]]], ctx: Context):
    accounts = _account_ids(chunk)
    by_ext: dict[tuple[int, str], Contact] = {}
    by_email: dict[tuple[int, str], Contact] = {}
    for contact in Contact.objects.filter(account_id__in=set(accounts.values())):
        if contact.external_id:
            by_ext[(contact.account_id, contact.external_id)] = contact
        if contact.email:
            by_email[(contact.account_id, contact.email.lower())] = contact
    for line, raw in chunk:
        key, changed = raw.get("external_id") or raw.get("email", ""), True
        try:
            account_id = _account_of(raw, accounts)
            if not key:
                raise RowError("external_id or email: one is required so a re-import updates instead of duplicating")
            email = raw.get("email", "").lower()
            obj = by_ext.get((account_id, raw["external_id"])) if "external_id" in raw else None
            obj = obj or (by_email.get((account_id, email)) if email else None)
            _check_duplicate(ctx, ("contact", account_id, key.lower()), line)
            if email:
                _check_duplicate(ctx, ("email", account_id, email), line)
            clash = by_email.get((account_id, email)) if email else None
            if obj is not None and clash is not None and clash.pk != obj.pk:
                raise RowError(f"email: {email} is already used by another contact of this account")
            values: dict[str, Any] = {f: raw[f] for f in ("email", "phone", "title", "external_id") if f in raw}
            name = raw.get("name") or " ".join(p for p in (raw.get("first_name"), raw.get("last_name")) if p)
            if name:
                values["name"] = name
            if "role" in raw:
                values["role"] = c.parse_choice("role", "role", raw["role"])
            if "is_primary" in raw:
                values["is_primary"] = c.parse_bool("is_primary", raw["is_primary"])
                if values["is_primary"] and account_id in ctx.primary_seen:
                    raise RowError(f"is_primary: line {ctx.primary_seen[account_id]} already makes a primary contact")
            if obj is None:
                if not name:
                    raise RowError("name: required for a new contact (name, or first and last name)")
                obj, action = _new(Contact, account_id=account_id, **values), RowAction.CREATE
            else:
                changed = _assign(obj, values)
                action = RowAction.UPDATE
            _validate(obj, exclude=ctx.exclude)
        except (RowError, c.CellError) as exc:
            yield line, RowAction.REJECT, key, str(exc), None
            continue
        if raw.get("is_primary") and obj.is_primary:
            ctx.primary_seen.setdefault(account_id, line)
        yield _outcome(line, action, key, obj, changed)


# --- contracts --------------------------------------------------------------------------------------------


def _contract_values(raw: dict[str, str]) -> dict[str, Any]:
    return _parse_all(
        raw,
        {
            "name": lambda v: v,
            "start_date": lambda v: c.parse_date("start_date", v),
            "end_date": lambda v: c.parse_date("end_date", v),
            "recurring_amount": lambda v: c.parse_decimal("recurring_amount", v),
            "one_time_fees": lambda v: c.parse_decimal("one_time_fees", v),
            "seats": lambda v: c.parse_int("seats", v),
            "billing_period": lambda v: c.parse_choice("billing_period", "billing_period", v),
            "auto_renew": lambda v: c.parse_bool("auto_renew", v),
            "status": lambda v: c.parse_choice("contract_status", "status", v),
        },
    )


def _plan_contracts(chunk: list[tuple[int, dict[str, str]]], ctx: Context):
    accounts = _account_ids(chunk)
    keys = [raw["external_id"] for _, raw in chunk if "external_id" in raw]
    existing = {k.external_id: k for k in Contract.objects.filter(external_id__in=keys)}
    for line, raw in chunk:
        key, changed = raw.get("external_id", ""), True
        try:
            if not key:
                raise RowError("external_id: required (the contract's id in your CRM)")
            account_id = _account_of(raw, accounts)
            _check_duplicate(ctx, key, line)
            values = _contract_values(raw)
            obj = existing.get(key)
            if obj is None:
                missing = [f for f in ("start_date", "end_date", "recurring_amount") if f not in values]
                if missing:
                    raise RowError(f"{', '.join(missing)}: required for a new contract")
                obj, action = _new(Contract, account_id=account_id, external_id=key, **values), RowAction.CREATE
            else:
                if obj.account_id != account_id:
                    raise RowError(f"account_external_id: contract {key} belongs to another account")
                changed = _assign(obj, values)
                action = RowAction.UPDATE
            _validate(obj, exclude=ctx.exclude)
            arr = _contract_arr(obj)
            if obj.pk is None or arr != obj.arr:
                obj._import_diff["arr"] = (None if obj.pk is None else obj.arr, arr)
            obj.arr = arr
        except (RowError, c.CellError) as exc:
            yield line, RowAction.REJECT, key, str(exc), None
            continue
        yield _outcome(line, action, key, obj, changed)


def _audit_name(attname: str) -> str:
    # The audit log names a foreign key by its field ("owner"), not its column ("owner_id").
    return attname.removesuffix("_id") if attname in ("owner_id", "account_id", "parent_id") else attname


def _new(model: type[Model], **values: Any) -> Model:
    """A new object; ``_import_diff`` is what its audit entry records (every value the row set)."""
    obj = model(**values)
    obj._import_diff = {_audit_name(f): (None, v) for f, v in values.items()}
    return obj


def _assign(obj: Model, values: dict[str, Any]) -> bool:
    """Set the row's values on an existing object; False when nothing differs (the row needs no write).
    ``_import_diff`` keeps {field: (old, new)} of what changed, for the audit entry."""
    diff = {}
    for f, v in values.items():
        old = getattr(obj, f)
        if old != v:
            setattr(obj, f, v)
            diff[_audit_name(f)] = (old, v)
    obj._import_diff = diff
    return bool(diff)


def _outcome(line: int, action: str, key: str, obj: Model, changed: bool) -> tuple:
    # An update that changes nothing is reported but not written: re-running a file is cheap.
    if not changed:
        return line, action, key, "unchanged", None
    return line, action, key, "", obj


def _check_duplicate(ctx: Context, key: Any, line: int) -> None:
    first = ctx.seen.setdefault(key, line)
    if first != line:
        shown = key if isinstance(key, str) else key[-1]
        raise RowError(f"duplicate: {shown} already appears on line {first}")


PLANNERS = {"accounts": _plan_accounts, "contacts": _plan_contacts, "contracts": _plan_contracts}
MODELS = {"accounts": Account, "contacts": Contact, "contracts": Contract}
# The model fields each CSV field writes (bulk_update writes only the columns the file has).
WRITES = {"owner_email": "owner", "first_name": "name", "last_name": "name"}
NOT_WRITTEN = {"external_id", "account_external_id", "parent_external_id"}


def _write_chunk(ctx: Context, creates: list[Model], updates: list[Model]) -> None:
    model = MODELS[ctx.kind]
    now = timezone.now()
    update_fields = sorted({WRITES.get(f, f) for f in ctx.fields if f not in NOT_WRITTEN})
    if ctx.kind == "contacts":
        # The partial unique index allows one primary per account: clear the old ones first.
        primaries = [o for o in creates + updates if o.is_primary]
        if primaries:
            demoted = Contact.objects.filter(account_id__in={o.account_id for o in primaries}, is_primary=True).exclude(
                pk__in=[o.pk for o in primaries if o.pk]
            )
            former = list(demoted.only("id", "name", "account_id"))
            demoted.update(is_primary=False)
            _audit(ctx, Contact, [(o, False, {"is_primary": (True, False)}) for o in former])
        if "external_id" in ctx.fields:
            update_fields.append("external_id")
    if ctx.kind == "contracts":
        update_fields.append("arr")
    for obj in updates:
        obj.updated_at = now
    if updates and update_fields:
        bulk_update_values(model, updates, [*update_fields, "updated_at"])
    insert_rows(model, creates)
    _audit(ctx, model, [(o, True, o._import_diff) for o in creates] + [(o, False, o._import_diff) for o in updates])
    if ctx.kind == "contracts":
        created = {id(o) for o in creates}
        touched = {o.account_id for o in creates + updates}
        ctx.touched_accounts |= touched
        account_refresh_financials(account_ids=touched)
        insert_rows(
            TimelineEntry,
            [
                TimelineEntry(
                    account_id=o.account_id, kind=EntryKind.CONTRACT, occurred_at=now, source_type="contract",
                    source_id=str(o.pk),
                    title=f"Contract {'imported' if id(o) in created else 'updated by import'}: {o}",
                    data={"action": "import", "arr": str(o.arr), "status": o.status},
                )
                for o in creates + updates
            ],
        )  # fmt: skip


def _audit(ctx: Context, model: type[Model], changes: list) -> None:
    audit_rows(model, changes, actor_id=ctx.actor_id, actor_email=ctx.actor_email, job_id=ctx.job_id)


# Never validated by clean_fields here: foreign keys would cost a query per row (the planners check them with
# one query per chunk), custom fields are not imported.
UNVALIDATED = {"owner", "parent", "account", "custom_fields"}


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
    header, rows = read_rows(content)
    fields, _ignored = c.match_headers(kind, header)
    ctx = Context(kind=kind, fields=fields, apply=apply, job_id=job_id)
    if actor is not None:
        ctx.actor_id, ctx.actor_email = actor.pk, actor.email
    written = {WRITES.get(f, f) for f in fields} | {"external_id"}
    ctx.exclude = [f.name for f in MODELS[kind]._meta.fields if f.name not in written or f.name in UNVALIDATED]
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

    def flush() -> None:
        nonlocal done
        creates, updates = [], []
        for line, action, key, reason, obj in PLANNERS[kind](chunk, ctx):
            ctx.results.append([line, action, key, reason])
            ctx.counts[action] += 1
            if obj is not None:
                (creates if action == RowAction.CREATE else updates).append(obj)
        if apply:
            _write_chunk(ctx, creates, updates)
        done += len(chunk)
        chunk.clear()
        if on_chunk:
            on_chunk(ctx, done)

    for line, cells in rows:
        chunk.append((line, _values(cells, fields)))
        if len(chunk) >= CHUNK:
            flush()
    if chunk:
        flush()
    if apply and kind == "accounts" and ctx.parents:
        _apply_parents(ctx)
    return ctx
