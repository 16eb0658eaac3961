"""Global search: ranking, every kind, the user's book, the dropdown, the page, the API, query counts."""

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountTeamMember
from search import selectors
from success.models import SuccessPlan
from tests.factories import AccountFactory, ContactFactory
from tests.playbooks.factories import CTAFactory
from timeline.models import Activity

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(csm, other_csm):
    """The same word in every kind, in the CSM's book and in another CSM's."""
    mine = AccountFactory(owner=csm, name="Acme Robotics", domain="acme.example")
    theirs = AccountFactory(owner=other_csm, name="Acme Foreign", domain="acmeforeign.example")
    for account, tag in ((mine, "mine"), (theirs, "theirs")):
        ContactFactory(account=account, name=f"Ada Acmeson {tag}", email=f"ada.{tag}@acme.example")
        CTAFactory(account=account, title=f"Acme renewal risk {tag}")
        SuccessPlan.objects.create(account=account, name=f"Acme onboarding {tag}", start_date=timezone.localdate())
        Activity.objects.create(
            account=account, kind="note", occurred_at=timezone.now(), subject=f"QBR prep {tag}",
            summary="They asked about Acme single sign-on",
        )  # fmt: skip
    return {"mine": mine, "theirs": theirs}


def test_every_kind_is_found_in_the_csms_book_only(csm, world):
    found = selectors.global_search(user=csm, q="acme")
    assert [h.title for h in found["account"]] == ["Acme Robotics"]
    assert [h.title for h in found["contact"]] == ["Ada Acmeson mine"]
    assert [h.title for h in found["cta"]] == ["Acme renewal risk mine"]
    assert [h.title for h in found["plan"]] == ["Acme onboarding mine"]
    assert [h.title for h in found["note"]] == ["QBR prep mine"]
    everything = [h.title for hits in found.values() for h in hits]
    assert not any("theirs" in t or "Foreign" in t for t in everything)


def test_account_team_members_find_the_accounts_they_work(other_csm, world):
    AccountTeamMember.objects.create(account=world["mine"], user=other_csm, role="ae")
    found = selectors.global_search(user=other_csm, q="acme")
    assert {h.title for h in found["account"]} == {"Acme Robotics", "Acme Foreign"}


def test_scopes_team_and_all(manager, admin_user, csm, world):
    team = selectors.global_search(user=manager, q="acme")
    assert [h.title for h in team["account"]] == ["Acme Robotics"]
    assert len(selectors.global_search(user=csm, q="acme", scope="all")["account"]) == 2
    assert len(selectors.global_search(user=admin_user, q="acme")["account"]) == 2


def test_ranking_exact_then_prefix_then_word_then_anywhere(admin_user):
    for name in ["Megacorp Beta", "Beta", "Alpha Beta", "Betamax"]:
        AccountFactory(name=name, domain="")
    titles = [h.title for h in selectors.global_search(user=admin_user, q="beta")["account"]]
    assert titles[0] == "Beta"
    assert titles[1] == "Betamax"
    assert set(titles[2:]) == {"Megacorp Beta", "Alpha Beta"}


def test_every_word_must_match_and_bad_queries(admin_user):
    AccountFactory(name="Northwind Traders", domain="")
    AccountFactory(name="Northwind Logistics", domain="")
    assert [h.title for h in selectors.global_search(user=admin_user, q="north trad")["account"]] == [
        "Northwind Traders"
    ]
    assert selectors.global_search(user=admin_user, q="n")["account"] == []
    with pytest.raises(selectors.QueryError):
        selectors.global_search(user=admin_user, q="x" * 201)


def test_dropdown_and_page(client_as, world):
    client = client_as("csm")
    dropdown = client.get(reverse("search:results"), {"q": "acme"}, HTTP_HX_REQUEST="true")
    assert dropdown.status_code == 200
    assert dropdown.templates[0].name == "search/_dropdown.html"
    body = dropdown.content.decode()
    assert reverse("accounts:detail", args=[world["mine"].pk]) in body
    assert "Acme Foreign" not in body
    page = client.get(reverse("search:results"), {"q": "acme"})
    assert page.status_code == 200 and "search/results.html" in [t.name for t in page.templates]
    assert page.context["total"] == 5
    wide = client.get(reverse("search:results"), {"q": "acme", "scope": "all"})
    assert "Acme Foreign" in wide.content.decode()
    too_long = client.get(reverse("search:results"), {"q": "x" * 300})
    assert too_long.status_code == 400


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("search:results"), {"q": "acme"})
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_api(api_as, world):
    response = api_as("csm").get("/api/v1/search/", {"q": "acme"})
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 5
    assert {r["kind"] for r in data["results"]} == {"account", "contact", "cta", "plan", "note"}
    assert data["results"][0]["title"] == "Acme Robotics"  # a name that starts with the query ranks first
    assert data["results"][0]["url"].endswith(reverse("accounts:detail", args=[world["mine"].pk]))
    bad = api_as("csm").get("/api/v1/search/", {"q": "a", "scope": "nope", "limit": "0"})
    assert bad.status_code == 400
    assert bad.json()["code"] and set(bad.json()["fields"]) == {"q", "scope", "limit"}


def test_api_refuses_anonymous(api):
    response = api.get("/api/v1/search/", {"q": "acme"})
    assert response.status_code in (401, 403)
    assert "code" in response.json()


@pytest.mark.parametrize("role", ["admin", "manager", "csm", "viewer"])
def test_every_role_may_search(api_as, role, world):
    assert api_as(role).get("/api/v1/search/", {"q": "acme"}).status_code == 200


def test_fixed_query_count(client_as, csm, django_assert_num_queries):
    client = client_as("csm")
    client.get(reverse("search:results"), {"q": "acme"})
    # session, user, then one query per kind: accounts, contacts, CTAs, plans, notes
    with django_assert_num_queries(7):
        client.get(reverse("search:results"), {"q": "acme"}, HTTP_HX_REQUEST="true")
    for i in range(5):
        account = AccountFactory(owner=csm, name=f"Acme {i}")
        ContactFactory(account=account, name=f"Acme person {i}")
        CTAFactory(account=account, title=f"Acme CTA {i}", due_date=timezone.localdate() + dt.timedelta(i))
    with django_assert_num_queries(7):
        response = client.get(reverse("search:results"), {"q": "acme"})
    assert response.context["total"] == 15


def test_substring_search_uses_the_trigram_index_on_postgresql(admin_user):
    if connection.vendor != "postgresql":
        pytest.skip("pg_trgm indexes are PostgreSQL-only")
    AccountFactory(name="Acme")
    qs = selectors.Account.objects.filter(name__icontains="acme")
    with connection.cursor() as cursor:
        # Tiny table: make the planner show it can use the index (no seq scan, and no plain index scan, with which
        # it would walk the whole (name, id) index of the account list instead).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = qs.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "search_account_name_trgm" in plan
