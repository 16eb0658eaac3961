"""Writes to accounts, contacts and contracts. Views, serializers and tasks call these, never ``save()``."""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import (
    Account,
    AccountTeamMember,
    BillingPeriod,
    Contact,
    Contract,
    ContractStatus,
)
from accounts.selectors import next_renewal_subquery
from accounts.signals import account_changed_on_commit, contract_changed
from csp.modeling import apply_fields
from csp.models import User

ACCOUNT_FIELDS = frozenset(
    {
        "name", "domain", "external_id", "parent", "tier", "industry", "employee_count", "region",
        "lifecycle_stage", "engagement_model", "owner", "status", "custom_fields",
    }
)  # fmt: skip
CONTACT_FIELDS = frozenset({"name", "email", "phone", "title", "role", "is_primary", "external_id"})
CONTRACT_FIELDS = frozenset(
    {"name", "external_id", "start_date", "end_date", "recurring_amount", "billing_period", "one_time_fees",
     "seats", "auto_renew", "status"}
)  # fmt: skip


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
    apply_fields(account, data, ACCOUNT_FIELDS)
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
    """Recompute ARR and next renewal date from active contracts, set-based: one UPDATE for any number of
    accounts (``None`` means all). ARR is the sum of active contracts' annualised recurring amount (glossary:
    ARR = MRR x 12); the next renewal is ``selectors.next_renewal_subquery`` (the one definition)."""
    today = today or timezone.localdate()
    active = Contract.objects.filter(account=OuterRef("pk"), status=ContractStatus.ACTIVE)
    arr_sq = active.values("account").annotate(total=Sum("arr")).values("total")
    qs = Account.objects.all() if account_ids is None else Account.objects.filter(id__in=list(account_ids))
    return qs.update(
        arr=Coalesce(Subquery(arr_sq), Value(Decimal("0")), output_field=DecimalField(max_digits=14, decimal_places=2)),
        next_renewal_date=next_renewal_subquery(today),
    )


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
    account_refresh_financials(account_ids=[account.id])
    account_changed_on_commit([account.id])
    contract_changed.send(sender=Contract, contract=contract, action="created")
    return contract


@transaction.atomic
def contract_update(*, contract: Contract, data: dict[str, Any]) -> Contract:
    """Change a contract and refresh its account's derived figures."""
    data = dict(data)
    _blank_to_none(data, "external_id")
    apply_fields(contract, data, CONTRACT_FIELDS)
    contract.full_clean()
    contract.arr = _contract_arr(contract)
    contract.save()
    account_refresh_financials(account_ids=[contract.account_id])
    account_changed_on_commit([contract.account_id])
    contract_changed.send(sender=Contract, contract=contract, action="updated")
    return contract


@transaction.atomic
def contract_delete(*, contract: Contract) -> None:
    """Remove a contract and refresh its account's derived figures."""
    account_id = contract.account_id
    contract_changed.send(sender=Contract, contract=contract, action="deleted")
    contract.delete()
    account_refresh_financials(account_ids=[account_id])
    account_changed_on_commit([account_id])


@transaction.atomic
def contracts_expire(*, today: dt.date | None = None) -> int:
    """Mark active contracts that ended before today as expired and refresh the accounts they touch."""
    today = today or timezone.localdate()
    ended = Contract.objects.filter(status=ContractStatus.ACTIVE, end_date__lt=today)
    account_ids = set(ended.values_list("account_id", flat=True))
    count = ended.update(status=ContractStatus.EXPIRED, updated_at=timezone.now())
    # Accounts whose renewal date just passed need a new one even if no contract changed status.
    account_ids |= set(Account.objects.filter(next_renewal_date__lt=today).values_list("id", flat=True))
    if account_ids:
        account_refresh_financials(account_ids=account_ids, today=today)
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
