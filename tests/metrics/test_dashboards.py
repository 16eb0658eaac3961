"""Dashboards: the role matrix and refusals, the figures against the hand-built Q1 2025 ledger, drill-downs, CSV
exports, htmx bodies, and query counts that do not grow with the number of accounts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from csp.models import Role
from segments.models import Segment
from tests.factories import AccountFactory, ContractFactory, TeamFactory, UserFactory
from tests.metrics.ledger_fixtures import build_q1_ledger

pytestmark = pytest.mark.django_db
PAGES = ["team", "portfolio", "forecast", "cohorts", "backtest"]
# Who may open which dashboard: CSMs their book (team view), not the company-wide pages.
ALLOWED = {
    "admin": set(PAGES),
    "manager": set(PAGES),
    "viewer": set(PAGES),
    "csm": {"team", "forecast", "cohorts"},
}


@pytest.fixture
def ledger(csm):
    accounts = build_q1_ledger(owner=csm)
    rules = {"op": "and", "conditions": [{"field": "tier", "operator": "eq", "value": "smb"}]}
    Segment.objects.create(name="All SMB", rules=rules)
    return accounts


@pytest.mark.parametrize("role", ["admin", "manager", "csm", "viewer"])
@pytest.mark.parametrize("page", PAGES)
def test_role_matrix(client_as, ledger, role, page):
    response = client_as(role).get(reverse(f"metrics:{page}"), {"period": "2025-Q1"})
    assert response.status_code == (200 if page in ALLOWED[role] else 403)


def test_anonymous_goes_to_login(client):
    response = client.get(reverse("metrics:team"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_filters_outside_the_scope_are_refused_not_emptied(client_as, csm, manager, other_csm):
    other_team = TeamFactory()
    outsider = UserFactory(role=Role.CSM, team=other_team)
    team_url = reverse("metrics:team")
    assert client_as("manager").get(team_url, {"team": other_team.pk}).status_code == 403
    assert client_as("manager").get(team_url, {"csm": outsider.pk}).status_code == 403
    assert client_as("manager").get(team_url, {"team": manager.team_id}).status_code == 200
    assert client_as("manager").get(team_url, {"csm": csm.pk}).status_code == 200
    assert client_as("csm").get(team_url, {"csm": other_csm.pk}).status_code == 403
    assert client_as("csm").get(team_url, {"team": other_team.pk}).status_code == 403
    assert client_as("csm").get(team_url, {"team": csm.team_id}).status_code == 200  # the team view of their team
    assert client_as("csm").get(team_url, {"company": "1"}).status_code == 403
    assert (
        client_as("csm").get(reverse("metrics:drilldown"), {"figure": "book", "csm": other_csm.pk}).status_code == 403
    )
    assert client_as("viewer").get(team_url, {"team": other_team.pk}).status_code == 200


@pytest.mark.parametrize("params", [{"period": "someday"}, {"start": "2025-13-01", "end": "2025-01-01"}, {"tier": "x"}])
def test_bad_filters_are_a_400_page(client_as, params):
    response = client_as("admin").get(reverse("metrics:team"), params)
    assert response.status_code == 400
    assert b"not understood" in response.content


def test_team_dashboard_figures_match_the_hand_built_ledger(client_as, ledger):
    response = client_as("manager").get(reverse("metrics:team"), {"period": "2025-Q1"})
    data = response.context["summary"]
    # start 2800; expansion B 300 + H 200; contraction C 150; churned D 500 + E 300; new F 200 + G 150
    assert str(data["mrr_start"]) == "2800.00"
    assert str(data["nrr_pct"]) == "83.93"  # (2800 + 500 - 150 - 800) / 2800
    assert str(data["grr_pct"]) == "66.07"  # (2800 - 150 - 800) / 2800
    body = response.content.decode()
    assert "83.93%" in body and 'data-glossary="nrr"' in body
    assert 'data-chart="chart-waterfall"' in body and 'data-testid="table-waterfall"' in body
    row = next(r for r in response.context["csm_rows"] if r["owner"].email == "csm@example.com")
    assert row["accounts"] == 11


def test_drilldown_lists_the_accounts_behind_a_number(client_as, ledger):
    url = reverse("metrics:drilldown")
    response = client_as("manager").get(url, {"period": "2025-Q1", "figure": "churned"})
    assert [a.name for a in response.context["page"]] == ["D", "E"]
    response = client_as("manager").get(url, {"period": "2025-Q1", "figure": "reactivation"})
    assert [a.name for a in response.context["page"]] == ["G"]
    csv = client_as("manager").get(url, {"period": "2025-Q1", "figure": "new", "csv": "accounts"})
    assert csv["Content-Type"].startswith("text/csv")
    assert [line.split(",")[1] for line in csv.content.decode().splitlines()[1:]] == ["F", "G"]
    assert client_as("manager").get(url, {"figure": "nonsense"}).status_code == 404


@pytest.mark.parametrize(
    ("page", "tables"),
    [
        ("team", ["summary", "trend", "csms", "renewals"]),
        ("portfolio", ["summary", "trend", "tiers", "segments", "renewals"]),
        ("forecast", ["quarters", "contracts"]),
        ("cohorts", ["revenue", "logos"]),
        ("backtest", ["bands", "measures"]),
    ],
)
def test_every_table_exports_csv(client_as, ledger, page, tables):
    for table in tables:
        response = client_as("admin").get(reverse(f"metrics:{page}"), {"period": "2025-Q1", "csv": table})
        assert response.status_code == 200, table
        assert response["Content-Type"].startswith("text/csv")
        lines = response.content.decode().splitlines()
        assert lines and "," in lines[0], table  # a header, then the rows (some tables are empty here)
    assert client_as("admin").get(reverse(f"metrics:{page}"), {"csv": "nope"}).status_code == 404


def test_htmx_filter_change_answers_the_body_only(client_as, ledger):
    response = client_as("manager").get(reverse("metrics:team"), {"period": "2025-Q1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"<html" not in response.content and b'data-testid="kpis"' in response.content


def _grow(owner, n):
    for _ in range(n):
        ContractFactory(account=AccountFactory(owner=owner))


def _count(client, url, params):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("page", PAGES)
def test_query_count_does_not_grow_with_accounts(client_as, csm, page):
    client = client_as("admin")
    url = reverse(f"metrics:{page}")
    _grow(csm, 3)
    small = _count(client, url, {})
    _grow(csm, 12)
    _grow(UserFactory(role=Role.CSM), 5)
    assert _count(client, url, {}) == small


# Every page: session + user (2) and the filter pickers: teams, CSMs, segments (3) = 5, plus:
PINNED = {
    # revenue summary + movement ids (2), the 12-month trend from the ledger's snapshots (1), per CSM: books, ARR,
    # health, overdue CTAs, owners (5), renewals by quarter (1)
    "team": 5 + 2 + 1 + 5 + 1,
    # revenue summary + movement ids (2), the 12-month trend (1), health mix (1), 3 tiers (3), segments list (1)
    # and one summary per segment (none here), renewals by quarter (1)
    "portfolio": 5 + 2 + 1 + 1 + 3 + 1 + 1,
    # the band rates: renewal events with their snapshot ids (1; the snapshots only when some exist), the contracts (1)
    "forecast": 5 + 2,
    # first starts per account (1), the MRR in force at each of the 12 month ends (12)
    "cohorts": 5 + 1 + 12,
    # renewal events with snapshot ids (1); the snapshots are not read when no event has one
    "backtest": 5 + 1,
}


@pytest.mark.parametrize("page", PAGES)
def test_pinned_query_count(client_as, csm, page, django_assert_num_queries):
    _grow(csm, 4)
    client = client_as("manager")
    with django_assert_num_queries(PINNED[page]):
        assert client.get(reverse(f"metrics:{page}")).status_code == 200


def test_a_running_period_ends_today():
    import datetime as dt

    from metrics.scope import parse_filters

    user = UserFactory(role=Role.ADMIN)
    today = dt.date(2026, 11, 28)
    flt = parse_filters(user, {"period": "this_quarter"}, today=today)
    assert (flt.start, flt.end) == (dt.date(2026, 10, 1), today)
    flt = parse_filters(user, {"period": "2026-Q3"}, today=today)
    assert (flt.start, flt.end) == (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    flt = parse_filters(user, {"start": "2026-11-01", "end": "2026-12-31"}, today=today)
    assert flt.end == dt.date(2026, 12, 31)  # an explicit range is taken as asked
