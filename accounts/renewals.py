"""Writes for renewals and expansion opportunities. Views, the API and the periodic task call these.

A renewal opens by itself ``settings.RENEWAL_OPEN_DAYS`` before its contract ends (``renewals_open_due``,
idempotent: one renewal per contract). Closing it goes through the revenue ledger's own services so the
history stays append-only: signed -> ``contract_renew`` creates the next term; churned -> ``account_churn``
dates the lost logo and stops its contracts from counting.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import Account, BillingPeriod, Contract, ContractStatus
from accounts.renewal_models import (
    CLOSED_STAGES,
    ExpansionOpportunity,
    ExpansionStage,
    ForecastCall,
    Renewal,
    RenewalCallChange,
    RenewalStage,
)
from accounts.services import account_churn, contract_renew
from csp.modeling import apply_fields
from csp.models import User

EXPANSION_FIELDS = frozenset({"title", "amount_arr", "stage", "expected_close", "notes", "owner"})


def renewal_open_days() -> int:
    return int(getattr(settings, "RENEWAL_OPEN_DAYS", 120))


@transaction.atomic
def renewals_open_due(*, today: dt.date | None = None, days: int | None = None) -> int:
    """Open a renewal for every active contract ending within ``days`` (default ``RENEWAL_OPEN_DAYS``) that has
    none yet, was not already renewed (no successor contract) and whose account has not churned. One INSERT;
    running it again opens nothing twice (unique contract). Returns how many were opened."""
    today = today or timezone.localdate()
    days = renewal_open_days() if days is None else days
    due = (
        Contract.objects.filter(
            status=ContractStatus.ACTIVE,
            end_date__gte=today,
            end_date__lte=today + dt.timedelta(days=days),
            cancelled_on__isnull=True,
            account__churned_on__isnull=True,
        )
        .exclude(Exists(Renewal.objects.filter(contract=OuterRef("pk"))))
        .exclude(Exists(Contract.objects.filter(previous=OuterRef("pk"))))
        .select_related("account")
    )
    created = Renewal.objects.bulk_create(
        [
            Renewal(contract=c, account=c.account, owner_id=c.account.owner_id, expected_arr=c.arr)
            for c in due.order_by("end_date", "id")
        ],
        ignore_conflicts=True,  # a concurrent run may have opened the same renewal a moment ago
    )
    return len(created)


def _next_term(contract: Contract, renewal: Renewal, data: dict[str, Any]) -> dict[str, Any]:
    """Changed terms of the next contract: priced at the expected ARR unless ``arr`` is given; dates and seats only
    when given (``contract_renew`` defaults to the day after the old end, for the same term)."""
    arr = Decimal(str(data["arr"])) if data.get("arr") not in (None, "") else renewal.expected_arr
    amount = arr / 12 if contract.billing_period == BillingPeriod.MONTH else arr
    terms: dict[str, Any] = {"recurring_amount": amount.quantize(Decimal("0.01"))}
    for key in ("start_date", "end_date", "seats"):
        if data.get(key) not in (None, ""):
            terms[key] = data[key]
    return terms


@transaction.atomic
def renewal_set_stage(*, renewal: Renewal, stage: str, user: User, data: dict[str, Any] | None = None) -> Renewal:
    """Move a renewal to ``stage``. Signed creates the next contract (``data``: start_date, end_date, arr, seats
    override the defaults); churned closes the logo on ``data['churned_on']`` (default: the day after the contract
    ends) with ``data['reason']`` (required). A closed renewal does not move again."""
    data = data or {}
    if stage not in RenewalStage.values:
        raise ValidationError({"stage": f"Unknown stage {stage!r}."})
    renewal = Renewal.objects.select_for_update().select_related("contract", "account").get(pk=renewal.pk)
    if renewal.stage in CLOSED_STAGES:
        if stage == renewal.stage:
            return renewal
        raise ValidationError({"stage": f"This renewal is closed ({renewal.get_stage_display()})."})
    today = timezone.localdate()
    if stage == RenewalStage.SIGNED:
        renewal.next_contract = contract_renew(
            contract=renewal.contract, data=_next_term(renewal.contract, renewal, data), user=user
        )
        renewal.closed_on = today
    elif stage == RenewalStage.CHURNED:
        reason = (data.get("reason") or renewal.risk_reason or "").strip()
        if not reason:
            raise ValidationError({"reason": "Say why the customer churned."})
        # Default: the day after the contract ends (its MRR stops there); today if that day has passed, since only
        # admins may date revenue changes in the past.
        churned_on = data.get("churned_on") or max(renewal.contract.end_date + dt.timedelta(days=1), today)
        account_churn(account=renewal.account, churned_on=churned_on, reason=reason, user=user)
        renewal.closed_on = today
        renewal.risk_reason = reason
    renewal.stage = stage
    renewal.save()
    return renewal


@transaction.atomic
def renewal_set_call(*, renewal: Renewal, call: str, user: User, risk_reason: str | None = None) -> Renewal:
    """Record the CSM's forecast call (commit / at risk / will churn) with who and when; every change of the call or
    of the risk reason is kept in ``RenewalCallChange``."""
    if call not in ForecastCall.values:
        raise ValidationError({"forecast_call": f"Unknown call {call!r}."})
    reason = renewal.risk_reason if risk_reason is None else risk_reason.strip()
    if call in (ForecastCall.AT_RISK, ForecastCall.WILL_CHURN) and not reason:
        raise ValidationError({"risk_reason": "Give a risk reason for an at-risk or will-churn call."})
    if call == renewal.forecast_call and reason == renewal.risk_reason:
        return renewal
    now = timezone.now()
    RenewalCallChange.objects.create(
        renewal=renewal,
        old_call=renewal.forecast_call,
        new_call=call,
        risk_reason=reason,
        changed_by=user,
        changed_at=now,
    )
    renewal.forecast_call, renewal.risk_reason = call, reason
    renewal.forecast_call_by, renewal.forecast_call_at = user, now
    renewal.save(update_fields=["forecast_call", "risk_reason", "forecast_call_by", "forecast_call_at", "updated_at"])
    return renewal


@transaction.atomic
def renewal_update(*, renewal: Renewal, data: dict[str, Any]) -> Renewal:
    """Change the expected ARR or the owner of an open renewal."""
    apply_fields(renewal, data, frozenset({"expected_arr", "owner"}))
    renewal.full_clean(exclude=["contract", "account", "next_contract"])
    renewal.save()
    return renewal


@transaction.atomic
def expansion_create(*, account: Account, data: dict[str, Any], user: User) -> ExpansionOpportunity:
    """Log an expansion opportunity on an account; it belongs to its author unless an owner is given."""
    expansion = ExpansionOpportunity(account=account, owner=user, created_by=user)
    apply_fields(expansion, data, EXPANSION_FIELDS)
    expansion.full_clean()
    expansion.save()
    return expansion


@transaction.atomic
def expansion_update(*, expansion: ExpansionOpportunity, data: dict[str, Any]) -> ExpansionOpportunity:
    """Change an expansion opportunity (title, ARR, stage, expected close, notes, owner)."""
    apply_fields(expansion, data, EXPANSION_FIELDS)
    if expansion.stage not in ExpansionStage.values:
        raise ValidationError({"stage": "Unknown stage."})
    expansion.full_clean()
    expansion.save()
    return expansion


@transaction.atomic
def expansion_delete(*, expansion: ExpansionOpportunity) -> None:
    """Remove an expansion opportunity logged by mistake."""
    expansion.delete()
