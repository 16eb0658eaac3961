"""Book of business, account 360 and forms: role checks, form errors, reassignment, fixed query counts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Account, Contact, Contract
from tests.factories import AccountFactory, ContactFactory, ContractFactory

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_login(client, own_account):
    for url in [reverse("accounts:list"), reverse("accounts:detail", args=[own_account.pk]), reverse("home")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_csm_lands_on_own_book_with_totals(client_as, own_account, foreign_account):
    own_account.arr = Decimal("1234567")
    own_account.save()
    response = client_as("csm").get(reverse("accounts:list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Own Co" in body and "Foreign Co" not in body
    assert response.context["totals"] == {"accounts": 1, "arr": Decimal("1234567")}
    assert "1,234,567" in body


def test_manager_sees_team_book_and_admin_everything(client_as, own_account, foreign_account):
    team_page = client_as("manager").get(reverse("accounts:list")).content.decode()
    assert "Own Co" in team_page and "Foreign Co" not in team_page
    all_page = client_as("admin").get(reverse("accounts:list")).content.decode()
    assert "Own Co" in all_page and "Foreign Co" in all_page


def test_search_filter_sort_and_htmx_partial(client_as, csm):
    AccountFactory(name="Zeta Robotics", owner=csm, arr=10, tier="enterprise")
    AccountFactory(name="Alpha Robotics", owner=csm, arr=30, tier="smb")
    AccountFactory(name="Other", owner=csm, arr=20)
    client = client_as("csm")
    response = client.get(reverse("accounts:list"), {"q": "robot", "ordering": "-arr"}, HTTP_HX_REQUEST="true")
    assert [a.name for a in response.context["page"].object_list] == ["Alpha Robotics", "Zeta Robotics"]
    assert "<nav" not in response.content.decode()  # the partial, not the whole page
    response = client.get(reverse("accounts:list"), {"tier": "enterprise"})
    assert [a.name for a in response.context["page"].object_list] == ["Zeta Robotics"]


def test_book_sorts_by_health_on_the_page_and_the_api(client_as, api_as, csm):
    from tests.triggers.factories import set_health

    for name, score, band in [("Mid", 55, "yellow"), ("Low", 20, "red"), ("High", 90, "green")]:
        set_health(AccountFactory(name=name, owner=csm), score, band)
    client = client_as("csm")
    page = client.get(reverse("accounts:list"), {"ordering": "health", "tier": "", "lifecycle_stage": ""})
    assert "not understood" not in page.content.decode()
    assert [a.name for a in page.context["page"].object_list] == ["Low", "Mid", "High"]
    assert "ordering=health" in page.content.decode()  # the Health header is a sort link
    page = client.get(reverse("accounts:list"), {"ordering": "-health"})
    assert [a.name for a in page.context["page"].object_list] == ["High", "Mid", "Low"]
    api = api_as("csm").get("/api/v1/accounts/", {"ordering": "health", "scope": "mine", "tier": ""})
    assert api.status_code == 200
    assert [row["name"] for row in api.json()["results"]] == ["Low", "Mid", "High"]


def test_bad_filter_value_shows_a_message_not_an_error(client_as, own_account):
    response = client_as("csm").get(reverse("accounts:list"), {"arr_min": "lots"})
    assert response.status_code == 200
    assert "Some filters were not understood" in response.content.decode()


@pytest.mark.parametrize("role", ["admin", "manager", "csm", "viewer"])
def test_every_role_sees_the_account_360(client_as, own_account, role):
    ContactFactory(account=own_account, name="Dana Champion")
    ContractFactory(account=own_account)
    AccountFactory(parent=own_account, name="Own Co EMEA")
    response = client_as(role).get(reverse("accounts:detail", args=[own_account.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Dana Champion" in body and "Own Co EMEA" in body
    assert ('data-testid="edit-account"' in body) == (role in ("admin", "manager", "csm"))


def test_unknown_account_is_404(client_as):
    assert client_as("csm").get(reverse("accounts:detail", args=[999999])).status_code == 404


@pytest.mark.parametrize(
    ("role", "which", "status"),
    [("viewer", "own", 403), ("csm", "foreign", 403), ("manager", "foreign", 403), ("csm", "own", 200),
     ("admin", "foreign", 200)],
)  # fmt: skip
def test_edit_pages_by_role(client_as, own_account, foreign_account, role, which, status):
    account = own_account if which == "own" else foreign_account
    client = client_as(role)
    for name in ["accounts:edit", "accounts:contact_create", "accounts:contract_create"]:
        assert client.get(reverse(name, args=[account.pk])).status_code == status, name


def test_viewer_cannot_create_or_post(client_as, own_account):
    client = client_as("viewer")
    assert client.get(reverse("accounts:create")).status_code == 403
    assert client.post(reverse("accounts:edit", args=[own_account.pk]), {"name": "Hacked"}).status_code == 403
    assert client.post(reverse("accounts:delete", args=[own_account.pk])).status_code == 403
    own_account.refresh_from_db()
    assert own_account.name == "Own Co"


def _account_form(account, **changes):
    data = {
        "name": account.name, "domain": account.domain, "external_id": account.external_id or "",
        "parent": "", "tier": account.tier, "industry": "", "employee_count": "", "region": "",
        "lifecycle_stage": account.lifecycle_stage, "engagement_model": account.engagement_model,
        "owner": account.owner_id or "", "status": account.status, "custom_fields": "{}",
    }  # fmt: skip
    data.update(changes)
    return data


def test_csm_edits_account(client_as, own_account):
    response = client_as("csm").post(
        reverse("accounts:edit", args=[own_account.pk]),
        _account_form(own_account, lifecycle_stage="growth", custom_fields='{"plan": "Pro"}'),
    )
    assert response.status_code == 302
    own_account.refresh_from_db()
    assert own_account.lifecycle_stage == "growth"
    assert own_account.custom_fields == {"plan": "Pro"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"employee_count": "many"}, "employee_count"),
        ({"custom_fields": "[1, 2]"}, "custom_fields"),
        ({"custom_fields": "{broken"}, "custom_fields"),
        ({"parent": "999999"}, "parent"),
    ],
)
def test_account_form_errors(client_as, own_account, changes, field):
    response = client_as("csm").post(
        reverse("accounts:edit", args=[own_account.pk]), _account_form(own_account, **changes)
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    own_account.refresh_from_db()
    assert own_account.name == "Own Co"


def test_csm_cannot_give_account_to_someone_else(client_as, own_account, other_csm):
    response = client_as("csm").post(
        reverse("accounts:edit", args=[own_account.pk]), _account_form(own_account, owner=other_csm.pk)
    )
    assert response.status_code == 200
    assert "owner" in response.context["form"].errors
    own_account.refresh_from_db()
    assert own_account.owner.email == "csm@example.com"


def test_create_account_then_contact_and_contract(client_as, csm):
    client = client_as("csm")
    account = Account(name="Fresh Co", tier="smb", lifecycle_stage="onboarding", engagement_model="low_touch")
    response = client.post(reverse("accounts:create"), _account_form(account, owner=csm.pk, external_id="CRM-9"))
    created = Account.objects.get(external_id="CRM-9")
    assert response.url == reverse("accounts:detail", args=[created.pk])
    response = client.post(
        reverse("accounts:contact_create", args=[created.pk]),
        {"name": "Robin", "email": "robin@fresh.example", "role": "decision_maker", "is_primary": "on"},
    )
    assert response.status_code == 302
    assert Contact.objects.get(account=created).is_primary
    today = dt.date.today()
    response = client.post(
        reverse("accounts:contract_create", args=[created.pk]),
        {"start_date": today, "end_date": today + dt.timedelta(days=364), "recurring_amount": "2000",
         "billing_period": "month", "one_time_fees": "0", "seats": "25", "status": "active"},
    )  # fmt: skip
    assert response.status_code == 302
    created.refresh_from_db()
    assert created.arr == Decimal("24000")


def test_contract_form_shows_date_error_and_stores_nothing(client_as, own_account):
    response = client_as("csm").post(
        reverse("accounts:contract_create", args=[own_account.pk]),
        {"start_date": "2026-05-01", "end_date": "2026-01-01", "recurring_amount": "10", "billing_period": "year",
         "one_time_fees": "0", "seats": "1", "status": "active"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "end_date" in response.context["form"].errors
    assert Contract.objects.count() == 0


def test_contact_of_another_account_is_404(client_as, own_account, foreign_account):
    contact = ContactFactory(account=foreign_account)
    response = client_as("admin").get(reverse("accounts:contact_edit", args=[own_account.pk, contact.pk]))
    assert response.status_code == 404


def test_account_team_add_and_remove(client_as, own_account, other_csm):
    client = client_as("csm")
    client.post(reverse("accounts:team_add", args=[own_account.pk]), {"user": other_csm.pk, "role": "ae"})
    member = own_account.team_members.get()
    assert member.user == other_csm
    client.post(reverse("accounts:team_remove", args=[own_account.pk, member.pk]))
    assert not own_account.team_members.exists()


def test_manager_reassigns_team_accounts(client_as, own_account, manager):
    other = AccountFactory(owner=own_account.owner)
    response = client_as("manager").post(
        reverse("accounts:reassign"), {"accounts": [own_account.pk, other.pk], "owner": manager.pk}
    )
    assert response.status_code == 302
    assert Account.objects.filter(owner=manager).count() == 2


@pytest.mark.parametrize("role", ["csm", "viewer"])
def test_reassign_refused_for_csm_and_viewer(client_as, own_account, manager, role):
    response = client_as(role).post(reverse("accounts:reassign"), {"accounts": [own_account.pk], "owner": manager.pk})
    assert response.status_code == 403
    own_account.refresh_from_db()
    assert own_account.owner != manager


def test_manager_cannot_reassign_foreign_accounts(client_as, foreign_account, manager):
    response = client_as("manager").post(
        reverse("accounts:reassign"), {"accounts": [foreign_account.pk], "owner": manager.pk}
    )
    assert response.status_code == 403


def test_delete_by_manager(client_as, own_account):
    response = client_as("manager").post(reverse("accounts:delete", args=[own_account.pk]))
    assert response.status_code == 302
    assert not Account.objects.filter(pk=own_account.pk).exists()


@pytest.mark.parametrize("rows", [1, 20])
def test_book_of_business_query_count(client_as, django_assert_num_queries, manager, csm, rows):
    parent = AccountFactory(owner=csm)
    AccountFactory.create_batch(rows, owner=csm, parent=parent)
    client = client_as("manager")
    # session, user, totals aggregate (also the paginator's count), the manager's team ids (reassign picker),
    # COUNT + SELECT of the filter form's owner choices, page of accounts (owner and parent joined), reassign owners,
    # the segment filter's choices
    with django_assert_num_queries(9):
        response = client.get(reverse("accounts:list"))
    assert response.status_code == 200


@pytest.mark.parametrize("rows", [1, 10])
def test_account_360_query_count(client_as, django_assert_num_queries, own_account, csm, rows):
    for _ in range(rows):
        ContactFactory(account=own_account)
        ContractFactory(account=own_account)
        AccountFactory(parent=own_account)
    own_account.team_members.create(user=csm, role="ae")
    client = client_as("viewer")
    # session, user, account (owner, team, parent joined), contacts, contracts, children (owner joined),
    # team members (user joined); a viewer gets no add-team-member select
    with django_assert_num_queries(7):
        assert client.get(reverse("accounts:detail", args=[own_account.pk])).status_code == 200
