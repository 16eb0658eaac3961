"""Per kind, what each row of a chunk becomes: create, update (or unchanged) or reject with the reason.

A chunk is read column by column: each column's cells are parsed as one list with a per-file memo
(``validate.parse_column``), existing rows and referenced accounts come from one query each, and no model
instance is built. The per-row pass then applies the rules that tie columns together, in the order the
reasons are reported: the key, the duplicate check, the cells that cannot be read (all of them at once),
references, required values, then the model fields' own validation (``Model.clean_fields``' messages) and,
for contracts, ``Contract.clean``'s end-after-start rule.
"""

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from accounts.models import Account, BillingPeriod, Contact, Contract
from csp.models import Role
from imports import columns as c
from imports.bulk import fetch_by
from imports.models import RowAction
from imports.rows import Context, RowError, changed, check_duplicate, created, outcome
from imports.validate import column_errors, field_errors, parse_column

OWNER_ROLES = {Role.CSM, Role.MANAGER, Role.ADMIN}
Chunk = list[tuple[int, dict[str, str]]]
ZERO = Decimal("0")


def owner_parser(ctx: Context) -> Callable[[str], int]:
    def parse(email: str) -> int:
        found = ctx.owners.get(email.lower())
        if found is None:
            raise c.CellError(f"owner_email: no user with email {email}")
        if found[1] not in OWNER_ROLES:
            raise c.CellError(f"owner_email: {email} is a {found[1]} and cannot own accounts")
        return found[0]

    return parse


def _choice(table: str, name: str) -> Callable[[str], str]:
    return lambda v: c.parse_choice(table, name, v)


def _parse_columns(
    chunk: Chunk, ctx: Context, parsers: list[tuple[str, str, Callable[[str], Any] | None]]
) -> tuple[list[tuple[str, list[Any]]], list[list[str]]]:
    """Every column the file has, parsed: ([(attname, values)], per-row list of cell errors in parser order).
    ``parsers`` lists (csv field, attname, parse or None for text kept as is)."""
    columns, errors = [], [[] for _ in chunk]
    for name, attname, parse in parsers:
        if name not in ctx.fields:
            continue
        cells = [raw.get(name) for _, raw in chunk]
        if parse is None:
            columns.append((attname, cells))
            continue
        values, cell_errors = parse_column(cells, parse, ctx.parsed.setdefault(name, {}))
        columns.append((attname, values))
        if any(cell_errors):
            for i, error in enumerate(cell_errors):
                if error:
                    errors[i].append(error)
    return columns, errors


def _row_values(columns: list[tuple[str, list[Any]]], i: int) -> dict[str, Any]:
    """The row's present values by attname (a blank cell means "no value": keep the current one on update)."""
    return {attname: values[i] for attname, values in columns if values[i] is not None}


def _validate(ctx: Context, values: dict[str, Any]) -> None:
    errors = field_errors(values, ctx.checks)
    if errors:
        raise RowError(errors)


def _column_checks(ctx: Context, columns: list[tuple[str, list[Any]]]) -> list[list[str]]:
    """The model-field validation of every column of the chunk, in ``clean_fields``' order: only the columns
    with an invalid value (usually none), each as its per-row messages."""
    by_attname = dict(columns)
    found = []
    for attname, check in ctx.checks:
        if attname in by_attname:
            errors = column_errors(check, by_attname[attname])
            if errors is not None:
                found.append(errors)
    return found


def _check_row(checked: list[list[str]], i: int) -> None:
    if checked:
        errors = [errors[i] for errors in checked if errors[i]]
        if errors:
            raise RowError("; ".join(errors))


# --- accounts ---------------------------------------------------------------------------------------------


def account_parsers(ctx: Context) -> list[tuple[str, str, Callable[[str], Any] | None]]:
    return [
        ("name", "name", None), ("domain", "domain", None), ("industry", "industry", None),
        ("region", "region", None), ("tier", "tier", _choice("tier", "tier")),
        ("lifecycle_stage", "lifecycle_stage", _choice("lifecycle_stage", "lifecycle_stage")),
        ("engagement_model", "engagement_model", _choice("engagement_model", "engagement_model")),
        ("status", "status", _choice("account_status", "status")),
        ("employee_count", "employee_count", lambda v: c.parse_int("employee_count", v)),
        ("owner_email", "owner_id", owner_parser(ctx)),
    ]  # fmt: skip


def plan_accounts(chunk: Chunk, ctx: Context) -> Iterator[tuple]:
    keys = {raw["external_id"] for _, raw in chunk if "external_id" in raw}
    read = ["id", "external_id", *sorted({"name", *ctx.update_attnames})]
    existing = {row[1]: dict(zip(read, row, strict=True)) for row in fetch_by(Account, "external_id", keys, read)}
    parent_keys = {raw["parent_external_id"] for _, raw in chunk if "parent_external_id" in raw}
    known_parents = {k for (k,) in fetch_by(Account, "external_id", parent_keys, ["external_id"])}
    columns, cell_errors = _parse_columns(chunk, ctx, account_parsers(ctx))
    checked = _column_checks(ctx, [("external_id", [raw.get("external_id") for _, raw in chunk]), *columns])
    for i, (line, raw) in enumerate(chunk):
        key, is_changed = raw.get("external_id", ""), True
        try:
            if not key:
                raise RowError("external_id: required (the account's id in your CRM)")
            check_duplicate(ctx, key, line)
            if cell_errors[i]:
                raise RowError("; ".join(cell_errors[i]))
            values = _row_values(columns, i)
            parent = raw.get("parent_external_id")
            if parent == key:
                raise RowError("parent_external_id: an account cannot be its own parent")
            if parent and parent not in known_parents and parent not in ctx.file_keys:
                raise RowError(f"parent_external_id: no account with external id {parent}")
            current = existing.get(key)
            if current is None:
                if not values.get("name"):
                    raise RowError("name: required for a new account")
                planned, action = created({"external_id": key, **values}), RowAction.CREATE
            else:
                planned = changed(current["id"], current, values)
                action, is_changed = RowAction.UPDATE, bool(planned.diff)
            _check_row(checked, i)
        except RowError as exc:
            yield line, RowAction.REJECT, key, str(exc), None
            continue
        if parent:
            ctx.parents.append((key, parent))
        yield outcome(line, action, key, planned, is_changed)


# --- contacts ---------------------------------------------------------------------------------------------


def account_ids(chunk: Chunk) -> dict[str, int]:
    keys = {raw["account_external_id"] for _, raw in chunk if "account_external_id" in raw}
    return dict(fetch_by(Account, "external_id", keys, ["external_id", "id"]))


def _account_of(raw: dict[str, str], accounts: dict[str, int]) -> int:
    key = raw.get("account_external_id")
    if not key:
        raise RowError("account_external_id: required")
    if key not in accounts:
        raise RowError(f"account_external_id: no account with external id {key}")
    return accounts[key]


CONTACT_READ = ["id", "account_id", "external_id", "email", "name", "phone", "title", "role", "is_primary"]


def plan_contacts(chunk: Chunk, ctx: Context) -> Iterator[tuple]:
    accounts = account_ids(chunk)
    by_ext: dict[tuple[int, str], dict] = {}
    by_email: dict[tuple[int, str], dict] = {}
    for row in fetch_by(Contact, "account_id", set(accounts.values()), CONTACT_READ):
        contact = dict(zip(CONTACT_READ, row, strict=True))
        if contact["external_id"]:
            by_ext[(contact["account_id"], contact["external_id"])] = contact
        if contact["email"]:
            by_email[(contact["account_id"], contact["email"].lower())] = contact
    for line, raw in chunk:
        key, is_changed = raw.get("external_id") or raw.get("email", ""), True
        try:
            account_id = _account_of(raw, accounts)
            if not key:
                raise RowError("external_id or email: one is required so a re-import updates instead of duplicating")
            email = raw.get("email", "").lower()
            current = by_ext.get((account_id, raw["external_id"])) if "external_id" in raw else None
            current = current or (by_email.get((account_id, email)) if email else None)
            check_duplicate(ctx, ("contact", account_id, key.lower()), line)
            if email:
                check_duplicate(ctx, ("email", account_id, email), line)
            clash = by_email.get((account_id, email)) if email else None
            if current is not None and clash is not None and clash["id"] != current["id"]:
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
            if current is None:
                if not name:
                    raise RowError("name: required for a new contact (name, or first and last name)")
                planned, action = created({"account_id": account_id, **values}), RowAction.CREATE
            else:
                planned = changed(current["id"], current, values)
                action, is_changed = RowAction.UPDATE, bool(planned.diff)
            _validate(ctx, values)
        except (RowError, c.CellError) as exc:
            yield line, RowAction.REJECT, key, str(exc), None
            continue
        if raw.get("is_primary") and planned.values.get("is_primary"):
            ctx.primary_seen.setdefault(account_id, line)
        yield outcome(line, action, key, planned, is_changed)


# --- contracts --------------------------------------------------------------------------------------------

CONTRACT_PARSERS = [
    ("name", "name", None),
    ("start_date", "start_date", lambda v: c.parse_date("start_date", v)),
    ("end_date", "end_date", lambda v: c.parse_date("end_date", v)),
    ("recurring_amount", "recurring_amount", lambda v: c.parse_decimal("recurring_amount", v)),
    ("one_time_fees", "one_time_fees", lambda v: c.parse_decimal("one_time_fees", v)),
    ("seats", "seats", lambda v: c.parse_int("seats", v)),
    ("billing_period", "billing_period", _choice("billing_period", "billing_period")),
    ("auto_renew", "auto_renew", lambda v: c.parse_bool("auto_renew", v)),
    ("status", "status", _choice("contract_status", "status")),
]
CONTRACT_READ = ["id", "external_id", "account_id", "name", "start_date", "end_date", "recurring_amount",
                 "billing_period", "one_time_fees", "seats", "auto_renew", "status", "arr"]  # fmt: skip
REQUIRED_NEW_CONTRACT = ("start_date", "end_date", "recurring_amount")


def contract_text(values: dict[str, Any]) -> str:
    """``str(contract)`` (``Contract.__str__``) from its values."""
    # isoformat: YYYY-MM-DD as the model's strftime gives it, at a fraction of the cost.
    return values.get("name") or f"Contract {values['start_date'].isoformat()} - {values['end_date'].isoformat()}"


def contract_arr(values: dict[str, Any]) -> Decimal:
    """``accounts.services._contract_arr`` from values (a new contract's billing period defaults to yearly)."""
    amount = values.get("recurring_amount") or ZERO
    return amount * 12 if values.get("billing_period", BillingPeriod.YEAR) == BillingPeriod.MONTH else amount


def plan_contracts(chunk: Chunk, ctx: Context) -> Iterator[tuple]:
    accounts = account_ids(chunk)
    keys = {raw["external_id"] for _, raw in chunk if "external_id" in raw}
    existing = {
        row[1]: dict(zip(CONTRACT_READ, row, strict=True))
        for row in fetch_by(Contract, "external_id", keys, CONTRACT_READ)
    }
    columns, cell_errors = _parse_columns(chunk, ctx, CONTRACT_PARSERS)
    checked = _column_checks(ctx, [("external_id", [raw.get("external_id") for _, raw in chunk]), *columns])
    for i, (line, raw) in enumerate(chunk):
        key, is_changed = raw.get("external_id", ""), True
        try:
            if not key:
                raise RowError("external_id: required (the contract's id in your CRM)")
            account_id = _account_of(raw, accounts)
            check_duplicate(ctx, key, line)
            if cell_errors[i]:
                raise RowError("; ".join(cell_errors[i]))
            values = _row_values(columns, i)
            current = existing.get(key)
            if current is None:
                missing = [f for f in REQUIRED_NEW_CONTRACT if f not in values]
                if missing:
                    raise RowError(f"{', '.join(missing)}: required for a new contract")
                planned = created({"account_id": account_id, "external_id": key, **values})
                action = RowAction.CREATE
            else:
                if current["account_id"] != account_id:
                    raise RowError(f"account_external_id: contract {key} belongs to another account")
                planned = changed(current["id"], current, values)
                action, is_changed = RowAction.UPDATE, bool(planned.diff)
            _check_row(checked, i)
            merged = planned.values
            if merged["end_date"] < merged["start_date"]:  # Contract.clean
                raise RowError("end_date: The end date must be on or after the start date.")
            arr = contract_arr(merged)
            old_arr = None if current is None else current["arr"]  # a new row's arr is in its values
            if current is not None and arr != old_arr:
                planned.diff["arr"] = (old_arr, arr)
            merged["arr"] = arr
        except RowError as exc:
            yield line, RowAction.REJECT, key, str(exc), None
            continue
        yield outcome(line, action, key, planned, is_changed)
