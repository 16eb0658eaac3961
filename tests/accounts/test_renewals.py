"""Renewals: auto-open (idempotent), stage changes through the revenue ledger, the forecast call's history."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts import renewals
from accounts.models import Contract, ContractStatus, LifecycleStage
from accounts.renewal_models import ExpansionOpportunity, ForecastCall, Renewal, RenewalCallChange, RenewalStage
from accounts.selectors import account_mrr_on
from accounts.tasks import renewals_open_due
from tests.factories import AccountFactory, ContractFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 15)


@pytest.fixture
def account(csm):
    return AccountFactory(owner=csm)


def test_open_due_opens_once_within_the_window_only(account, settings):
    settings.RENEWAL_OPEN_DAYS = 120
    due = ContractFactory(
        account=account, start_date=dt.date(2025, 10, 1), end_date=dt.date(2026, 9, 30), recurring_amount=12000
    )
    ContractFactory(account=account, start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31))  # 199 days out
    ContractFactory(
        account=account, start_date=dt.date(2025, 7, 1), end_date=dt.date(2026, 7, 31), status=ContractStatus.DRAFT
    )
    assert renewals.renewals_open_due(today=TODAY) == 1
    assert renewals.renewals_open_due(today=TODAY) == 0  # idempotent
    renewal = Renewal.objects.get()
    assert renewal.contract == due
    assert renewal.owner == account.owner
    assert renewal.expected_arr == Decimal("12000")
    assert renewal.stage == RenewalStage.NOT_STARTED


def test_open_due_skips_renewed_cancelled_and_churned(account, settings):
    old = ContractFactory(account=account, start_date=dt.date(2025, 8, 1), end_date=dt.date(2026, 7, 31))
    ContractFactory(account=account, start_date=dt.date(2026, 8, 1), end_date=dt.date(2027, 7, 31), previous=old)
    ContractFactory(
        account=account,
        start_date=dt.date(2025, 8, 1),
        end_date=dt.date(2026, 8, 31),
        status=ContractStatus.CANCELLED,
        cancelled_on=dt.date(2026, 3, 1),
    )
    churned = AccountFactory(churned_on=dt.date(2026, 5, 1))
    ContractFactory(account=churned, start_date=dt.date(2025, 8, 1), end_date=dt.date(2026, 7, 31))
    assert renewals.renewals_open_due(today=TODAY) == 0


def test_task_runs_the_service(account, settings):
    settings.RENEWAL_OPEN_DAYS = 400
    ContractFactory(account=account)
    assert renewals_open_due.delay().get() == 1
    assert renewals_open_due.delay().get() == 0


def test_signed_creates_the_next_contract(account, csm):
    today = timezone.localdate()
    contract = ContractFactory(
        account=account,
        start_date=today - dt.timedelta(days=300),
        end_date=today + dt.timedelta(days=64),
        recurring_amount=Decimal("12000"),
    )
    renewals.renewals_open_due(today=today)
    renewal = Renewal.objects.get(contract=contract)
    renewals.renewal_update(renewal=renewal, data={"expected_arr": Decimal("15000")})
    renewals.renewal_set_stage(renewal=renewal, stage=RenewalStage.IN_PROGRESS, user=csm)
    renewal = renewals.renewal_set_stage(renewal=renewal, stage=RenewalStage.SIGNED, user=csm)
    nxt = renewal.next_contract
    assert nxt.previous == contract
    assert nxt.start_date == contract.end_date + dt.timedelta(days=1)
    assert nxt.arr == Decimal("15000")
    assert renewal.closed_on == today
    day_after = contract.end_date + dt.timedelta(days=1)
    assert account_mrr_on(day=day_after, accounts=[account.id]) == {account.id: Decimal("1250.00")}
    with pytest.raises(ValidationError):
        renewals.renewal_set_stage(renewal=renewal, stage=RenewalStage.CHURNED, user=csm, data={"reason": "x"})
    assert Contract.objects.filter(account=account).count() == 2


def test_churned_closes_the_logo_with_a_dated_reason(account, csm):
    today = timezone.localdate()
    contract = ContractFactory(
        account=account, start_date=today - dt.timedelta(days=300), end_date=today + dt.timedelta(days=30)
    )
    renewals.renewals_open_due(today=today)
    renewal = Renewal.objects.get()
    with pytest.raises(ValidationError):
        renewals.renewal_set_stage(renewal=renewal, stage=RenewalStage.CHURNED, user=csm)  # no reason
    renewals.renewal_set_stage(renewal=renewal, stage=RenewalStage.CHURNED, user=csm, data={"reason": "Budget cut"})
    account.refresh_from_db()
    assert account.churned_on == contract.end_date + dt.timedelta(days=1)
    assert account.churn_reason == "Budget cut"
    assert account.lifecycle_stage == LifecycleStage.CHURNED
    assert account_mrr_on(day=contract.end_date, accounts=[account.id])  # counted to its last day
    assert account_mrr_on(day=account.churned_on, accounts=[account.id]) == {}
    renewal.refresh_from_db()
    assert renewal.stage == RenewalStage.CHURNED and renewal.closed_on == today


def test_forecast_call_history_keeps_who_and_when(account, csm, manager):
    contract = ContractFactory(account=account)
    renewal = Renewal.objects.create(contract=contract, account=account, owner=csm, expected_arr=contract.arr)
    renewals.renewal_set_call(renewal=renewal, call=ForecastCall.COMMIT, user=csm)
    with pytest.raises(ValidationError):
        renewals.renewal_set_call(renewal=renewal, call=ForecastCall.AT_RISK, user=csm, risk_reason="")
    renewals.renewal_set_call(renewal=renewal, call=ForecastCall.AT_RISK, user=manager, risk_reason="Champion left")
    renewals.renewal_set_call(renewal=renewal, call=ForecastCall.AT_RISK, user=manager)  # no change, no history
    renewal.refresh_from_db()
    assert renewal.forecast_call == ForecastCall.AT_RISK
    assert renewal.forecast_call_by == manager and renewal.forecast_call_at is not None
    changes = list(
        RenewalCallChange.objects.order_by("changed_at", "id").values_list("old_call", "new_call", "changed_by")
    )
    assert changes == [("", "commit", csm.id), ("commit", "at_risk", manager.id)]


def test_expansion_create_and_update(account, csm):
    exp = renewals.expansion_create(
        account=account, data={"title": "Analytics add-on", "amount_arr": Decimal("6000")}, user=csm
    )
    assert exp.owner == csm and exp.created_by == csm
    renewals.expansion_update(expansion=exp, data={"stage": "won"})
    assert ExpansionOpportunity.objects.get().stage == "won"
    with pytest.raises(ValidationError):
        renewals.expansion_create(account=account, data={"title": "", "amount_arr": Decimal("-1")}, user=csm)
