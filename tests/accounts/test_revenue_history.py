"""Revenue history is append-only: amendments, renewals, dated cancellation and churn; past edits are for admins
and recorded (who, when, old, new); the API exposes the same services."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts import services
from accounts.models import ContractRevision, ContractStatus, LifecycleStage
from accounts.selectors import account_mrr_on
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
D = dt.date


def _monthly(account, start, end, amount="100"):
    data = {"start_date": start, "end_date": end, "recurring_amount": Decimal(amount), "billing_period": "month"}
    return services.contract_create(account=account, data=data)


def test_amend_keeps_past_days_and_links_the_contracts():
    account = AccountFactory()
    old = _monthly(account, D(2025, 1, 1), D(2025, 12, 31))
    new = services.contract_amend(contract=old, effective_date=D(2025, 6, 10), data={"recurring_amount": 250})
    old.refresh_from_db()
    assert (old.cancelled_on, old.status, new.previous, new.start_date, new.end_date) == (
        D(2025, 6, 10), ContractStatus.CANCELLED, old, D(2025, 6, 10), D(2025, 12, 31),
    )  # fmt: skip
    assert account_mrr_on(day=D(2025, 6, 9)) == {account.id: Decimal("100.00")}
    assert account_mrr_on(day=D(2025, 6, 10)) == {account.id: Decimal("250.00")}
    assert set(old.revisions.values_list("field", flat=True)) == {"status", "cancelled_on"}


def test_non_admins_cannot_rewrite_past_revenue_but_admins_can_and_are_recorded(csm, admin_user):
    account = AccountFactory(owner=csm)
    contract = _monthly(account, TODAY - dt.timedelta(days=60), TODAY + dt.timedelta(days=300))
    with pytest.raises(ValidationError):
        services.contract_update(contract=contract, data={"recurring_amount": Decimal("500")}, user=csm)
    with pytest.raises(ValidationError):
        services.contract_amend(
            contract=contract, effective_date=TODAY - dt.timedelta(days=1), data={"recurring_amount": 5}, user=csm
        )
    with pytest.raises(ValidationError):
        services.contract_delete(contract=contract, user=csm)
    # A change that touches only the future is fine for the CSM (seats do not change revenue either); the
    # refused change above left the instance modified, and the stored row is what counts.
    with pytest.raises(ValidationError):
        services.contract_update(contract=contract, data={"seats": 12}, user=csm)
    contract.refresh_from_db()
    services.contract_update(contract=contract, data={"seats": 12}, user=csm)
    contract.refresh_from_db()
    services.contract_update(contract=contract, data={"recurring_amount": Decimal("500")}, user=admin_user)
    revision = ContractRevision.objects.get(contract=contract, field="recurring_amount")
    assert (revision.old_value, revision.new_value, revision.changed_by) == ("100.00", "500", admin_user)
    assert revision.changed_at is not None
    assert ContractRevision.objects.get(contract=contract, field="seats").changed_by == csm


def test_cancellation_is_dated_and_counts_until_the_day_before():
    account = AccountFactory()
    contract = _monthly(account, D(2025, 1, 1), D(2025, 12, 31))
    services.contract_cancel(contract=contract, effective_date=D(2025, 4, 1), reason="budget cut")
    assert account_mrr_on(day=D(2025, 3, 31)) == {account.id: Decimal("100.00")}
    assert account_mrr_on(day=D(2025, 4, 1)) == {}
    assert ContractRevision.objects.filter(contract=contract, note="budget cut").count() == 2


def test_status_cancelled_without_a_date_gets_today(csm):
    account = AccountFactory(owner=csm)
    contract = _monthly(account, TODAY - dt.timedelta(days=10), TODAY + dt.timedelta(days=100))
    services.contract_update(contract=contract, data={"status": ContractStatus.CANCELLED}, user=csm)
    contract.refresh_from_db()
    assert contract.cancelled_on == TODAY
    assert account_mrr_on(day=TODAY - dt.timedelta(days=1)) == {account.id: Decimal("100.00")}


def test_lifecycle_change_to_churned_is_dated():
    account = AccountFactory()
    services.account_update(account=account, data={"lifecycle_stage": LifecycleStage.CHURNED})
    account.refresh_from_db()
    assert account.churned_on == TODAY


def test_api_amend_renew_cancel_churn_and_revisions(api_as, csm):
    account = AccountFactory(owner=csm)
    contract = _monthly(account, TODAY - dt.timedelta(days=30), TODAY + dt.timedelta(days=334))
    client = api_as("csm")
    amended = client.post(
        f"/api/v1/contracts/{contract.pk}/amend/", {"effective_date": TODAY.isoformat(), "recurring_amount": "300"}
    )
    assert amended.status_code == 201, amended.json()
    assert (amended.json()["previous"], amended.json()["recurring_amount"]) == (contract.pk, "300.00")
    backdated = client.post(f"/api/v1/contracts/{amended.json()['id']}/cancel/", {"effective_date": "2020-01-01"})
    assert backdated.status_code == 400
    renewed = client.post(f"/api/v1/contracts/{amended.json()['id']}/renew/", {})
    assert renewed.status_code == 201
    assert renewed.json()["start_date"] == (TODAY + dt.timedelta(days=335)).isoformat()
    revisions = api_as("viewer").get(f"/api/v1/contracts/{contract.pk}/revisions/").json()
    assert {r["field"] for r in revisions} == {"status", "cancelled_on"}
    assert api_as("viewer").post(f"/api/v1/contracts/{contract.pk}/renew/", {}).status_code == 403
    churned = client.post(f"/api/v1/accounts/{account.pk}/churn/", {"churned_on": TODAY.isoformat(), "reason": "x"})
    assert churned.status_code == 200 and churned.json()["churned_on"] == TODAY.isoformat()
    assert account_mrr_on(day=TODAY, accounts=[account.pk]) == {}


def test_contract_change_page_records_an_upgrade_and_refuses_other_roles(client, csm, viewer):
    account = AccountFactory(owner=csm)
    contract = _monthly(account, TODAY - dt.timedelta(days=30), TODAY + dt.timedelta(days=300))
    url = f"/accounts/{account.pk}/contracts/{contract.pk}/change/"
    client.force_login(viewer)
    assert client.get(url).status_code == 403
    client.force_login(csm)
    assert client.get(url).status_code == 200
    response = client.post(url, {"action": "amend", "effective_date": TODAY.isoformat(), "recurring_amount": "180"})
    assert response.status_code == 302
    assert account_mrr_on(day=TODAY, accounts=[account.pk]) == {account.pk: Decimal("180.00")}
    refused = client.post(url, {"action": "cancel", "effective_date": "2020-01-01"})
    assert refused.status_code == 200 and b"Only admins" in refused.content
