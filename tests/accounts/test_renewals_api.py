"""/api/v1/renewals/ and /api/v1/expansions/: every role reads, only those who may change the account write."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.renewal_models import ExpansionOpportunity, Renewal
from tests.factories import AccountFactory, ContractFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def renewal(csm):
    today = timezone.localdate()
    contract = ContractFactory(
        account=AccountFactory(owner=csm),
        start_date=today - dt.timedelta(days=300),
        end_date=today + dt.timedelta(days=30),
    )
    return Renewal.objects.create(contract=contract, account=contract.account, owner=csm, expected_arr=contract.arr)


@pytest.mark.parametrize("role", ["admin", "manager", "csm", "viewer"])
def test_every_role_reads(api_as, renewal, role):
    response = api_as(role).get("/api/v1/renewals/")
    assert response.status_code == 200
    body = response.json()
    items = body["results"] if isinstance(body, dict) else body
    assert [r["id"] for r in items] == [renewal.pk]


def test_list_query_count_is_fixed(api_as, renewal, csm, django_assert_num_queries):
    for _ in range(4):
        c = ContractFactory(account=AccountFactory(owner=csm))
        Renewal.objects.create(contract=c, account=c.account, owner=csm, expected_arr=c.arr)
    # session user (force_authenticate: none), count, the page with account, contract and owner joined
    with django_assert_num_queries(2):
        assert api_as("admin").get("/api/v1/renewals/").status_code == 200


def test_viewer_and_other_csm_are_refused(api_as, api, renewal, other_csm):
    url = f"/api/v1/renewals/{renewal.pk}/"
    assert api_as("viewer").patch(url, {"expected_arr": "1"}, format="json").status_code == 403
    assert api_as("viewer").post(url + "stage/", {"stage": "in_progress"}, format="json").status_code == 403
    api.force_authenticate(other_csm)
    assert api.post(url + "call/", {"forecast_call": "commit"}, format="json").status_code == 403
    assert api.post(url + "stage/", {"stage": "in_progress"}, format="json").status_code == 403


def test_owner_moves_calls_and_signs(api_as, renewal):
    client = api_as("csm")
    url = f"/api/v1/renewals/{renewal.pk}/"
    assert client.patch(url, {"expected_arr": "15000.00"}, format="json").json()["expected_arr"] == "15000.00"
    response = client.post(url + "call/", {"forecast_call": "at_risk"}, format="json")
    assert response.status_code == 400 and response.json()["code"]  # a risk reason is required
    response = client.post(url + "call/", {"forecast_call": "at_risk", "risk_reason": "Budget"}, format="json")
    assert response.json()["forecast_call"] == "at_risk"
    assert len(client.get(url).json()["call_changes"]) == 1
    response = client.post(url + "stage/", {"stage": "signed"}, format="json")
    assert response.status_code == 200
    renewal.refresh_from_db()
    assert renewal.next_contract.arr == Decimal("15000.00")
    assert client.post(url + "stage/", {"stage": "churned", "reason": "x"}, format="json").status_code == 400


def test_expansions_crud_with_role_checks(api_as, api, csm, other_csm):
    mine = AccountFactory(owner=csm)
    theirs = AccountFactory(owner=other_csm)
    client = api_as("csm")
    response = client.post(
        "/api/v1/expansions/", {"account": mine.pk, "title": "Seats", "amount_arr": "1200"}, format="json"
    )
    assert response.status_code == 201 and response.json()["owner"] == csm.pk
    assert client.post("/api/v1/expansions/", {"account": theirs.pk, "title": "x"}, format="json").status_code == 403
    assert (
        api_as("viewer").post("/api/v1/expansions/", {"account": mine.pk, "title": "x"}, format="json").status_code
        == 403
    )
    pk = response.json()["id"]
    assert client.patch(f"/api/v1/expansions/{pk}/", {"stage": "won"}, format="json").json()["stage"] == "won"
    api.force_authenticate(other_csm)
    assert api.delete(f"/api/v1/expansions/{pk}/").status_code == 403
    assert client.delete(f"/api/v1/expansions/{pk}/").status_code == 204
    assert not ExpansionOpportunity.objects.exists()
