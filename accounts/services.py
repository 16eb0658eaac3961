"""Writes to accounts, contacts and contracts. Views, serializers and tasks call these, never ``save()``."""

import calendar
import copy
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.custom_fields import custom_field_values_clean
from accounts.models import (
    Account,
    AccountTeamMember,
    BillingPeriod,
    Contact,
    Contract,
    ContractRevision,
    ContractStatus,
    CustomFieldDefinition,
    LifecycleStage,
)
from accounts.revenue_signals import revenue_changed_on_commit
from accounts.selectors import contract_in_force_q, next_renewal_subquery
from accounts.signals import account_changed_on_commit, contract_changed
from csp.modeling import apply_fields
from csp.models import Role, User

ACCOUNT_FIELDS = frozenset(
    {
        "name", "domain", "external_id", "parent", "tier", "industry", "employee_count", "region",
        "lifecycle_stage", "engagement_model", "owner", "status", "custom_fields",
    }
)  # fmt: skip
CONTACT_FIELDS = frozenset({"name", "email", "phone", "title", "role", "is_primary", "external_id"})
CONTRACT_FIELDS = frozenset(
    {"name", "external_id", "start_date", "end_date", "recurring_amount", "billing_period", "one_time_fees",
     "seats", "auto_renew", "status", "cancelled_on"}
)  # fmt: skip
# Fields whose changes are recorded as ContractRevision rows (who, when, old, new).
REVISED_FIELDS = (
    "start_date", "end_date", "recurring_amount", "billing_period", "one_time_fees", "seats", "status", "cancelled_on",
)  # fmt: skip
ONE_DAY = dt.timedelta(days=1)


def _blank_to_none(data: dict[str, Any], *fields: str) -> None:
    # Unique nullable ids: an empty string would collide with every other empty string.
    for field in fields:
        if field in data and data[field] == "":
            data[field] = None


@transaction.atomic
def account_create(*, data: dict[str, Any]) -> Account:
    """Create an account after full model validation (unique external id, hierarchy, choices)."""
    data = dict(data)
    _blank_to_none(data, "external_id")
    data["custom_fields"] = custom_field_values_clean(data.get("custom_fields"))
    account = Account()
    apply_fields(account, data, ACCOUNT_FIELDS)
    account.full_clean()
    account.save()
    return account


@transaction.atomic
def account_update(*, account: Account, data: dict[str, Any]) -> Account:
    """Update the given fields of an account; ARR and renewal date stay derived from contracts."""
    data = dict(data)
    _blank_to_none(data, "external_id")
    was_churned = account.lifecycle_stage == LifecycleStage.CHURNED
    if "custom_fields" in data:
        data["custom_fields"] = custom_field_values_clean(data["custom_fields"])
    apply_fields(account, data, ACCOUNT_FIELDS)
    if account.lifecycle_stage == LifecycleStage.CHURNED and not was_churned and account.churned_on is None:
        # Lifecycle changes to churned are dated (revenue history); account_churn also ends the contracts.
        account.churned_on = timezone.localdate()
    account.full_clean()
    account.save()
    account_changed_on_commit([account.pk])
    return account


@transaction.atomic
def account_delete(*, account: Account) -> None:
    """Delete an account with its contacts and contracts; child accounts lose their parent."""
    account.delete()


@transaction.atomic
def account_reassign(*, account_ids: Iterable[int], owner: User) -> int:
    """Give accounts a new owner in one UPDATE; returns how many changed."""
    return (
        Account.objects.filter(id__in=list(account_ids))
        .exclude(owner=owner)
        .update(owner=owner, updated_at=timezone.now())
    )


@transaction.atomic
def account_team_set(*, account: Account, members: Iterable[tuple[User, str]]) -> None:
    """Replace an account's team with the given (user, role) pairs."""
    AccountTeamMember.objects.filter(account=account).delete()
    AccountTeamMember.objects.bulk_create(
        [AccountTeamMember(account=account, user=user, role=role) for user, role in dict.fromkeys(members)]
    )


def account_refresh_financials(*, account_ids: Iterable[int] | None = None, today: dt.date | None = None) -> int:
    """Recompute ARR and next renewal date, set-based: one UPDATE for any number of accounts (``None`` means
    all). ARR is the annualised recurring revenue in force today (``accounts.selectors.contract_in_force_q``,
    glossary: ARR = MRR x 12); the next renewal is ``selectors.next_renewal_subquery`` (the one definition).
    Returns how many accounts were written (PostgreSQL: only those whose figures changed)."""
    today = today or timezone.localdate()
    in_force = Contract.objects.filter(contract_in_force_q(today), account=OuterRef("pk"))
    arr_sq = in_force.values("account").annotate(total=Sum("arr")).values("total")
    arr = Coalesce(Subquery(arr_sq), Value(Decimal("0")), output_field=DecimalField(max_digits=14, decimal_places=2))
    renewal = next_renewal_subquery(today)
    qs = Account.objects.all() if account_ids is None else Account.objects.filter(_ids_q(account_ids))
    if connection.vendor != "postgresql":
        return qs.update(arr=arr, next_renewal_date=renewal)
    # Only the accounts whose figures change get a new row version: an UPDATE writes every one of the table's
    # indexes (two trigram GIN among them) for each row it touches, even when nothing differs, and most accounts
    # an import's contracts touch often keep their ARR (a re-run, a seats change).
    fresh = qs.order_by().annotate(new_arr=arr, new_renewal=renewal).values_list("id", "new_arr", "new_renewal")
    sql, params = fresh.query.sql_with_params()
    with connection.cursor() as cursor:
        # The subquery is the ORM's own compiled SQL; every value is a parameter.
        # MATERIALIZED: each account's figures are computed once (inlined, the comparison ran the ARR subquery again).
        cursor.execute(
            f"WITH f (id, new_arr, new_renewal) AS MATERIALIZED ({sql}) "
            "UPDATE accounts_account AS a SET arr = f.new_arr, next_renewal_date = f.new_renewal FROM f "
            "WHERE a.id = f.id "
            "AND (a.arr IS DISTINCT FROM f.new_arr OR a.next_renewal_date IS DISTINCT FROM f.new_renewal)",
            params,
        )
        return cursor.rowcount


def _ids_q(ids: Iterable[int]) -> Q:
    ids = list(ids)
    if connection.vendor == "postgresql" and len(ids) > 100:
        # One array parameter instead of an IN list: thousands of ids (an import's chunk) cost ~70 ms of Python to
        # compile and bind as an IN list, and the semi-join on the array finds the rows by primary key.
        return Q(id__in=RawSQL("SELECT unnest(%s::bigint[])", [ids]))
    return Q(id__in=ids)


def _contract_arr(contract: Contract) -> Decimal:
    amount = contract.recurring_amount or Decimal("0")
    return amount * 12 if contract.billing_period == BillingPeriod.MONTH else amount


@transaction.atomic
def contract_create(*, account: Account, data: dict[str, Any]) -> Contract:
    """Add a contract to an account and refresh the account's ARR and next renewal."""
    data = dict(data)
    _blank_to_none(data, "external_id")
    contract = Contract(account=account)
    apply_fields(contract, data, CONTRACT_FIELDS)
    contract.full_clean()
    contract.arr = _contract_arr(contract)
    contract.save()
    _contracts_changed([account.id])
    contract_changed.send(sender=Contract, contract=contract, action="created")
    return contract


def _contracts_changed(account_ids: list[int]) -> None:
    account_refresh_financials(account_ids=account_ids)
    account_changed_on_commit(account_ids)
    revenue_changed_on_commit(account_ids)


def _past_footprint(contract: Contract, today: dt.date) -> tuple | None:
    """What a contract contributes to days before ``today``: (first day, last day, ARR), or None."""
    if contract.status == ContractStatus.DRAFT or (
        contract.status == ContractStatus.CANCELLED and contract.cancelled_on is None
    ):
        return None
    last = min(contract.end_date, today - ONE_DAY)
    if contract.cancelled_on is not None:
        last = min(last, contract.cancelled_on - ONE_DAY)
    if last < contract.start_date:
        return None
    return (contract.start_date, last, _contract_arr(contract))


def _is_admin(user: User | None) -> bool:
    # ``None`` is the system (imports, demo seeding, tasks): trusted like an admin, and recorded as such.
    return user is None or user.role == Role.ADMIN


def _record_revisions(contract: Contract, before: Contract, user: User | None, note: str = "") -> None:
    rows = [
        ContractRevision(
            contract=contract,
            field=field,
            old_value="" if getattr(before, field) is None else str(getattr(before, field)),
            new_value="" if getattr(contract, field) is None else str(getattr(contract, field)),
            changed_by=user,
            note=note[:200],
        )
        for field in REVISED_FIELDS
        if getattr(before, field) != getattr(contract, field)
    ]
    ContractRevision.objects.bulk_create(rows)


@transaction.atomic
def contract_update(*, contract: Contract, data: dict[str, Any], user: User | None = None) -> Contract:
    """Change a contract and refresh its account's derived figures. Revenue history is append-only: a change
    that alters the MRR of a day before today (amount, dates, status of a contract that already counted) is
    for admins only, and every change of an amount, date or status is recorded as a ContractRevision.
    Upgrades and downgrades go through ``contract_amend``, renewals through ``contract_renew``."""
    data = dict(data)
    _blank_to_none(data, "external_id")
    # Compare with what is stored, not with the instance (a caller may hold a modified one).
    before = Contract.objects.select_for_update().get(pk=contract.pk)
    apply_fields(contract, data, CONTRACT_FIELDS)
    if contract.status == ContractStatus.CANCELLED and contract.cancelled_on is None:
        # A cancellation is dated: from today (or from its start when it has not started yet).
        contract.cancelled_on = max(timezone.localdate(), contract.start_date)
    contract.full_clean()
    contract.arr = _contract_arr(contract)
    today = timezone.localdate()
    if not _is_admin(user) and _past_footprint(before, today) != _past_footprint(contract, today):
        raise ValidationError(
            "This change rewrites revenue of past days. Record an upgrade or downgrade (amend) or a "
            "cancellation from today instead; only admins correct past amounts."
        )
    contract.save()
    _record_revisions(contract, before, user)
    _contracts_changed([contract.account_id])
    contract_changed.send(sender=Contract, contract=contract, action="updated")
    return contract


def _check_effective(user: User | None, effective_date: dt.date, field: str = "effective_date") -> None:
    if not _is_admin(user) and effective_date < timezone.localdate():
        raise ValidationError({field: "Only admins may date a revenue change in the past."})


def _copy_terms(contract: Contract) -> dict[str, Any]:
    return {
        "name": contract.name,
        "recurring_amount": contract.recurring_amount,
        "billing_period": contract.billing_period,
        "seats": contract.seats,
        "auto_renew": contract.auto_renew,
        "status": ContractStatus.ACTIVE,
    }


def _new_contract(*, account_id: int, previous: Contract, data: dict[str, Any]) -> Contract:
    _blank_to_none(data, "external_id")
    new = Contract(account_id=account_id, previous=previous)
    apply_fields(new, data, CONTRACT_FIELDS)
    new.full_clean()
    new.arr = _contract_arr(new)
    new.save()
    return new


@transaction.atomic
def contract_amend(
    *, contract: Contract, effective_date: dt.date, data: dict[str, Any], user: User | None = None
) -> Contract:
    """Upgrade, downgrade or otherwise amend a contract from ``effective_date``: a new contract (``previous``
    = the old one) carries the changed terms from that day to the old end date (unless ``data`` says
    otherwise), and the old one stops counting that day (``cancelled_on``). Past days keep their MRR."""
    _check_effective(user, effective_date)
    if not (contract.start_date <= effective_date <= contract.end_date):
        raise ValidationError({"effective_date": "The amendment must take effect within the contract's term."})
    if contract.cancelled_on is not None and contract.cancelled_on <= effective_date:
        raise ValidationError({"effective_date": "This contract no longer counts on that day."})
    if contract.status == ContractStatus.DRAFT:
        raise ValidationError("A draft contract is edited, not amended.")
    terms = _copy_terms(contract) | {"end_date": contract.end_date} | dict(data) | {"start_date": effective_date}
    new = _new_contract(account_id=contract.account_id, previous=contract, data=terms)
    before = copy.copy(contract)
    contract.cancelled_on = effective_date
    contract.status = ContractStatus.CANCELLED
    contract.save(update_fields=["cancelled_on", "status", "updated_at"])
    _record_revisions(contract, before, user, note=f"amended by contract #{new.pk}")
    _contracts_changed([contract.account_id])
    contract_changed.send(sender=Contract, contract=new, action="amended")
    return new


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _next_term_end(contract: Contract, start: dt.date) -> dt.date:
    """The same term length again: whole months when the old term was whole months, else the same days."""
    after = contract.end_date + ONE_DAY
    months = (after.year - contract.start_date.year) * 12 + after.month - contract.start_date.month
    if months > 0 and _add_months(contract.start_date, months) == after:
        return _add_months(start, months) - ONE_DAY
    return start + (contract.end_date - contract.start_date)


@transaction.atomic
def contract_renew(*, contract: Contract, data: dict[str, Any], user: User | None = None) -> Contract:
    """Renew a contract: a new contract (``previous`` = the old one) from the day after the old end date for
    the same term, with the old terms unless ``data`` changes them (price, seats, period, dates)."""
    if contract.status == ContractStatus.DRAFT:
        raise ValidationError("A draft contract cannot be renewed.")
    if contract.successors.filter(start_date__gt=contract.end_date).exists():
        raise ValidationError("This contract has already been renewed.")
    data = dict(data)
    start = data.pop("start_date", None) or contract.end_date + ONE_DAY
    terms = _copy_terms(contract) | {"end_date": _next_term_end(contract, start)} | data | {"start_date": start}
    new = _new_contract(account_id=contract.account_id, previous=contract, data=terms)
    _contracts_changed([contract.account_id])
    contract_changed.send(sender=Contract, contract=new, action="renewed")
    return new


def _cancel(contract: Contract, effective_date: dt.date, user: User | None, reason: str) -> None:
    before = copy.copy(contract)
    contract.status = ContractStatus.CANCELLED
    contract.cancelled_on = effective_date
    contract.save(update_fields=["status", "cancelled_on", "updated_at"])
    _record_revisions(contract, before, user, note=reason or "cancelled")


@transaction.atomic
def contract_cancel(*, contract: Contract, effective_date: dt.date, user: User | None = None, reason: str = "") -> None:
    """Cancel a contract from ``effective_date`` (it counts until the day before). Dated, recorded."""
    _check_effective(user, effective_date)
    if effective_date < contract.start_date:
        raise ValidationError({"effective_date": "A contract cannot be cancelled before it starts."})
    if contract.cancelled_on is not None and contract.cancelled_on <= effective_date:
        raise ValidationError({"effective_date": "This contract is already cancelled from an earlier day."})
    _cancel(contract, effective_date, user, reason)
    _contracts_changed([contract.account_id])
    contract_changed.send(sender=Contract, contract=contract, action="cancelled")


@transaction.atomic
def account_churn(*, account: Account, churned_on: dt.date, reason: str = "", user: User | None = None) -> Account:
    """Mark an account churned on a date: lifecycle stage churned, dated with its reason, and every contract
    still counting on or after that day cancelled from it (recorded), so its MRR is 0 from ``churned_on``."""
    _check_effective(user, churned_on, field="churned_on")
    account.lifecycle_stage = LifecycleStage.CHURNED
    account.churned_on = churned_on
    account.churn_reason = reason[:200]
    account.save(update_fields=["lifecycle_stage", "churned_on", "churn_reason", "updated_at"])
    counting = (
        Contract.objects.filter(account=account, end_date__gte=churned_on)
        .exclude(status=ContractStatus.DRAFT)
        .exclude(cancelled_on__lte=churned_on)
        .exclude(status=ContractStatus.CANCELLED, cancelled_on__isnull=True)
    )
    for contract in counting:  # an account's handful of contracts, each cancellation recorded
        _cancel(contract, max(churned_on, contract.start_date), user, reason or "account churned")
    _contracts_changed([account.id])
    return account


@transaction.atomic
def contract_delete(*, contract: Contract, user: User | None = None) -> None:
    """Remove a contract and refresh its account's derived figures. A contract that already counted toward
    past MRR is history: only admins may delete it."""
    if not _is_admin(user) and _past_footprint(contract, timezone.localdate()) is not None:
        raise ValidationError("This contract is part of past revenue; cancel it instead (only admins delete it).")
    account_id = contract.account_id
    contract_changed.send(sender=Contract, contract=contract, action="deleted")
    contract.delete()
    _contracts_changed([account_id])


@transaction.atomic
def contracts_expire(*, today: dt.date | None = None) -> int:
    """Mark active contracts that ended before today as expired and refresh the accounts they touch."""
    today = today or timezone.localdate()
    ended = Contract.objects.filter(status=ContractStatus.ACTIVE, end_date__lt=today)
    count = ended.update(status=ContractStatus.EXPIRED, updated_at=timezone.now())
    # ARR in force moves with the calendar (contracts starting, cancellations taking effect, renewal dates
    # passing) even when no contract changed: refresh every account, one set-based UPDATE.
    account_refresh_financials(today=today)
    return count


@transaction.atomic
def contact_create(*, account: Account, data: dict[str, Any]) -> Contact:
    """Add a contact; a new primary contact takes the flag from the previous one."""
    contact = Contact(account=account)
    apply_fields(contact, data, CONTACT_FIELDS)
    if contact.is_primary:
        Contact.objects.filter(account=account, is_primary=True).update(is_primary=False)
    contact.full_clean()
    contact.save()
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, data: dict[str, Any]) -> Contact:
    """Change a contact; becoming primary clears the flag on the account's other contacts."""
    apply_fields(contact, data, CONTACT_FIELDS)
    if contact.is_primary:
        Contact.objects.filter(account_id=contact.account_id, is_primary=True).exclude(pk=contact.pk).update(
            is_primary=False
        )
    contact.full_clean()
    contact.save()
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact) -> None:
    """Remove a contact."""
    contact.delete()


CUSTOM_FIELD_DEFINITION_FIELDS = frozenset(
    {"key", "label", "field_type", "choices", "required", "help_text", "position", "is_active"}
)


@transaction.atomic
def custom_field_definition_save(*, definition: CustomFieldDefinition | None = None, data: dict[str, Any]):
    """Create (no ``definition``) or change a typed account field. Its values on accounts are left as they are."""
    definition = definition or CustomFieldDefinition()
    data = dict(data)
    if isinstance(data.get("choices"), list):
        data["choices"] = [str(c).strip() for c in data["choices"] if str(c).strip()]
    apply_fields(definition, data, CUSTOM_FIELD_DEFINITION_FIELDS)
    definition.full_clean()
    definition.save()
    return definition


@transaction.atomic
def custom_field_definition_delete(*, definition: CustomFieldDefinition) -> None:
    """Forget a definition; the values stay on the accounts as untyped custom fields."""
    definition.delete()
