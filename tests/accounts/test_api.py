"""/api/v1/accounts, contacts, contracts: the role matrix, bad input, and fixed query counts."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from accounts.models import Account, Contact, Contract
from tests.factories import AccountFactory, ContactFactory, ContractFactory

pytestmark = pytest.mark.django_db


def test_anonymous_gets_401_with_error_shape():
    response = APIClient().get("/api/v1/accounts/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Token")


@pytest.mark.parametrize("role", ["admin", "manager", "csm", "viewer"])
def test_every_role_reads(api_as, own_account, role):
    client = api_as(role)
    assert client.get("/api/v1/accounts/").status_code == 200
    assert client.get(f"/api/v1/accounts/{own_account.pk}/").status_code == 200
    assert client.get("/api/v1/contacts/").status_code == 200
    assert client.get("/api/v1/contracts/").status_code == 200


@pytest.mark.parametrize(("role", "status"), [("admin", 201), ("manager", 201), ("csm", 201), ("viewer", 403)])
def test_create_account_by_role(api_as, role, status):
    response = api_as(role).post("/api/v1/accounts/", {"name": f"New {role}", "tier": "smb"})
    assert response.status_code == status, response.content
    assert Account.objects.filter(name=f"New {role}").exists() == (status == 201)


def test_csm_creates_accounts_for_themselves_only(api_as, csm, other_csm):
    response = api_as("csm").post("/api/v1/accounts/", {"name": "Mine"})
    assert response.json()["owner"] == csm.pk
    refused = api_as("csm").post("/api/v1/accounts/", {"name": "Theirs", "owner": other_csm.pk})
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert not Account.objects.filter(name="Theirs").exists()


@pytest.mark.parametrize(
    ("role", "which", "status"),
    [
        ("admin", "own", 200),
        ("admin", "foreign", 200),
        ("manager", "own", 200),  # owned by a CSM of the manager's team
        ("manager", "foreign", 403),
        ("csm", "own", 200),
        ("csm", "foreign", 403),
        ("viewer", "own", 403),
    ],
)
def test_update_account_by_role_and_ownership(api_as, own_account, foreign_account, role, which, status):
    account = own_account if which == "own" else foreign_account
    response = api_as(role).patch(f"/api/v1/accounts/{account.pk}/", {"industry": "Robotics"})
    assert response.status_code == status, response.content
    account.refresh_from_db()
    assert (account.industry == "Robotics") == (status == 200)


def test_account_team_member_csm_may_edit(api_as, csm, foreign_account):
    foreign_account.team_members.create(user=csm, role="am")
    assert api_as("csm").patch(f"/api/v1/accounts/{foreign_account.pk}/", {"region": "EMEA"}).status_code == 200


@pytest.mark.parametrize(("role", "status"), [("admin", 204), ("manager", 204), ("csm", 403), ("viewer", 403)])
def test_delete_account_by_role(api_as, own_account, role, status):
    assert api_as(role).delete(f"/api/v1/accounts/{own_account.pk}/").status_code == status
    assert Account.objects.filter(pk=own_account.pk).exists() == (status != 204)


def test_manager_reassigns_within_team_only(api_as, own_account, manager, other_csm):
    assert api_as("manager").patch(f"/api/v1/accounts/{own_account.pk}/", {"owner": manager.pk}).status_code == 200
    response = api_as("manager").patch(f"/api/v1/accounts/{own_account.pk}/", {"owner": other_csm.pk})
    assert response.status_code == 403
    own_account.refresh_from_db()
    assert own_account.owner == manager


@pytest.mark.parametrize(
    ("role", "which", "status"),
    [("admin", "foreign", 201), ("manager", "own", 201), ("csm", "own", 201), ("csm", "foreign", 403),
     ("viewer", "own", 403)],
)  # fmt: skip
def test_create_contact_and_contract_by_role(api_as, own_account, foreign_account, role, which, status):
    account = own_account if which == "own" else foreign_account
    client = api_as(role)
    contact = client.post("/api/v1/contacts/", {"account": account.pk, "name": "Pat", "role": "champion"})
    assert contact.status_code == status, contact.content
    contract = client.post(
        "/api/v1/contracts/",
        {"account": account.pk, "start_date": "2026-01-01", "end_date": "2026-12-31", "recurring_amount": "1200"},
    )
    assert contract.status_code == status, contract.content
    assert Contact.objects.filter(account=account).exists() == (status == 201)


def test_csm_cannot_change_or_delete_contacts_of_foreign_accounts(api_as, foreign_account):
    contact = ContactFactory(account=foreign_account)
    contract = ContractFactory(account=foreign_account)
    client = api_as("csm")
    assert client.patch(f"/api/v1/contacts/{contact.pk}/", {"title": "CEO"}).status_code == 403
    assert client.delete(f"/api/v1/contacts/{contact.pk}/").status_code == 403
    assert client.delete(f"/api/v1/contracts/{contract.pk}/").status_code == 403
    assert Contract.objects.filter(pk=contract.pk).exists()


def test_contract_create_updates_account_arr_through_api(api_as, own_account):
    response = api_as("csm").post(
        "/api/v1/contracts/",
        {"account": own_account.pk, "start_date": str(dt.date.today()),
         "end_date": str(dt.date.today() + dt.timedelta(days=365)), "recurring_amount": "500",
         "billing_period": "month", "one_time_fees": "900"},
    )  # fmt: skip
    assert response.status_code == 201
    assert response.json()["arr"] == "6000.00"
    account = api_as("csm").get(f"/api/v1/accounts/{own_account.pk}/").json()
    assert account["arr"] == "6000.00"
    assert account["next_renewal_date"] == str(dt.date.today() + dt.timedelta(days=365))


# --- bad input: 400 with the field named, nothing stored ---------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": "X", "employee_count": "many"}, "employee_count"),
        ({"name": "X", "tier": "galactic"}, "tier"),
        ({"name": "X", "parent": 999999}, "parent"),
        ({"name": "X", "custom_fields": "not-an-object"}, "custom_fields"),
    ],
)
def test_bad_account_input(api_as, payload, field):
    response = api_as("admin").post("/api/v1/accounts/", payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["fields"], body
    assert field in body["message"]
    assert Account.objects.count() == 0


def test_duplicate_external_id_is_400(api_as):
    AccountFactory(external_id="CRM-1")
    response = api_as("admin").post("/api/v1/accounts/", {"name": "Dup", "external_id": "CRM-1"})
    assert response.status_code == 400
    assert "external_id" in response.json()["fields"]


def test_cycle_in_hierarchy_is_400_and_nothing_changes(api_as):
    parent = AccountFactory()
    child = AccountFactory(parent=parent)
    response = api_as("admin").patch(f"/api/v1/accounts/{parent.pk}/", {"parent": child.pk})
    assert response.status_code == 400
    assert "parent" in response.json()["fields"]
    parent.refresh_from_db()
    assert parent.parent is None


def test_contract_ending_before_start_is_400_with_field(api_as, own_account):
    response = api_as("csm").post(
        "/api/v1/contracts/",
        {"account": own_account.pk, "start_date": "2026-05-01", "end_date": "2026-04-30", "recurring_amount": "10"},
    )
    assert response.status_code == 400
    assert "end_date" in response.json()["fields"]
    assert Contract.objects.count() == 0


def test_contract_patch_ending_before_stored_start_is_400(api_as, own_account):
    contract = ContractFactory(account=own_account, start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31))
    response = api_as("csm").patch(f"/api/v1/contracts/{contract.pk}/", {"end_date": "2025-12-31"})
    assert response.status_code == 400
    assert "end_date" in response.json()["fields"]
    contract.refresh_from_db()
    assert contract.end_date == dt.date(2026, 12, 31)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "Pat"}, "account"),
        ({"account": 999999, "name": "Pat"}, "account"),
        ({"account": "PLACEHOLDER", "name": "Pat", "email": "not-an-email"}, "email"),
        ({"account": "PLACEHOLDER", "name": "Pat", "role": "boss"}, "role"),
    ],
)
def test_bad_contact_input(api_as, own_account, payload, field):
    payload = {k: (own_account.pk if v == "PLACEHOLDER" else v) for k, v in payload.items()}
    response = api_as("csm").post("/api/v1/contacts/", payload)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_unknown_ids_and_paths_are_json_404(api_as):
    client = api_as("csm")
    response = client.get("/api/v1/accounts/999999/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found."}
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_invalid_filter_value_is_400(api_as):
    response = api_as("csm").get("/api/v1/accounts/?tier=galactic")
    assert response.status_code == 400
    assert "tier" in response.json()["fields"]


def test_filters_search_and_ordering(api_as, csm, other_csm):
    AccountFactory(name="Alpha Robotics", owner=csm, tier="enterprise", arr=500)
    AccountFactory(name="Beta Foods", owner=other_csm, tier="smb", arr=100)
    AccountFactory(name="Gamma Robotics", owner=other_csm, tier="enterprise", arr=900)
    client = api_as("csm")

    def names(query):
        return [a["name"] for a in client.get(f"/api/v1/accounts/?{query}").json()["results"]]

    assert names("q=robotics&ordering=-arr") == ["Gamma Robotics", "Alpha Robotics"]
    assert names("scope=mine") == ["Alpha Robotics"]
    assert names("tier=smb") == ["Beta Foods"]
    assert names("arr_min=200&ordering=arr") == ["Alpha Robotics", "Gamma Robotics"]
    assert client.get("/api/v1/accounts/?page_size=1").json()["count"] == 3


# --- the list's plain-row representation ------------------------------------------------------------


def test_account_list_rows_match_the_serializer(csm):
    """The list formats values() rows with AccountSerializer's fields: the same JSON as the serializer on model
    instances, for every field (none, blank, nested custom fields, decimals, dates, datetimes, related ids)."""
    from decimal import Decimal

    from accounts.api.serializers import AccountSerializer, account_list_data, account_list_values
    from accounts.selectors import account_list

    csm.full_name = ""
    csm.save()
    parent = AccountFactory(name="Parent", owner=None, external_id=None, employee_count=None)
    AccountFactory(
        name="Child \u2028 Ünïcode",
        parent=parent,
        owner=csm,
        custom_fields={"plan": "gold", "seats": 12, "nested": {"a": [1, None, True]}},
        employee_count=250,
        churned_on=dt.date(2026, 3, 1),
        churn_reason="Budget",
    )
    Account.objects.filter(name="Parent").update(arr=Decimal("1234567.50"), next_renewal_date=dt.date(2027, 1, 31))
    queryset = account_list(user=csm).order_by("name", "id")
    expected = [dict(row) for row in AccountSerializer(queryset, many=True).data]
    assert account_list_data(account_list_values(queryset)) == expected
    assert expected[0]["owner_name"] == "" and expected[1]["owner_name"] is None  # blank name vs no owner
    assert expected[1]["arr"] == "1234567.50"


def test_account_list_answer_is_the_serializers(api_as, own_account):
    AccountFactory(parent=own_account, owner=None, custom_fields={"x": 1})
    body = api_as("viewer").get("/api/v1/accounts/?page_size=50").json()
    from accounts.api.serializers import AccountSerializer

    expected = AccountSerializer(Account.objects.order_by("name", "id"), many=True).data
    assert body["count"] == 2
    assert body["results"] == [dict(row) for row in expected]


# --- fixed query counts ----------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 20])
def test_account_list_query_count(api_as, django_assert_num_queries, rows):
    parent = AccountFactory()
    AccountFactory.create_batch(rows, parent=parent)
    client = api_as("viewer")
    # 1 COUNT(*) for pagination (the accounts alone, no join), 1 SELECT page (plain rows, the owner's and parent's
    # names joined)
    with django_assert_num_queries(2):
        assert client.get("/api/v1/accounts/?page_size=50").status_code == 200


@pytest.mark.parametrize("rows", [1, 20])
def test_contact_and_contract_list_query_count(api_as, django_assert_num_queries, rows):
    for account in AccountFactory.create_batch(rows):
        ContactFactory(account=account)
        ContractFactory(account=account)
    client = api_as("viewer")
    with django_assert_num_queries(2):  # COUNT(*), SELECT page
        assert client.get("/api/v1/contacts/").status_code == 200
    with django_assert_num_queries(2):  # COUNT(*), SELECT page
        assert client.get("/api/v1/contracts/").status_code == 200


def test_account_retrieve_query_count(api_as, django_assert_num_queries, own_account, csm):
    AccountFactory.create_batch(3, parent=own_account)
    own_account.team_members.create(user=csm, role="ae")
    # SELECT account (owner, parent joined), prefetch team members with users, prefetch children
    with django_assert_num_queries(3):
        assert api_as("viewer").get(f"/api/v1/accounts/{own_account.pk}/").status_code == 200


def test_token_authentication(csm):
    from csp.services import api_token_rotate

    token = api_token_rotate(user=csm)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/accounts/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token wrong")
    response = client.get("/api/v1/accounts/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
