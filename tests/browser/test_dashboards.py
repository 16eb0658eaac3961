"""Every dashboard rendered in Chromium as each role, with its charts drawn and no console error; an htmx filter
change and a renewal's stage change on the board."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.renewal_models import Renewal
from csp.models import Role
from health.models import HealthSnapshot
from tests.factories import PASSWORD, AccountFactory, ContractFactory, TeamFactory, UserFactory
from tests.metrics.ledger_fixtures import build_q1_ledger

PAGES = {
    "admin": ["team", "portfolio", "renewals", "cohorts", "health-backtest"],
    "manager": ["team", "portfolio", "renewals", "cohorts", "health-backtest"],
    "viewer": ["team", "portfolio", "renewals", "cohorts", "health-backtest"],
    "csm": ["team", "renewals", "cohorts"],
}


@pytest.fixture
def people(transactional_db):
    team = TeamFactory(name="North")
    manager = UserFactory(role=Role.MANAGER, email="manager@example.com", team=team, full_name="Mia Manager")
    team.manager = manager
    team.save()
    csm = UserFactory(role=Role.CSM, email="csm@example.com", team=team, full_name="Cam Csm")
    users = {
        "admin": UserFactory(role=Role.ADMIN, email="admin@example.com", full_name="Ada Admin"),
        "manager": manager,
        "csm": csm,
        "viewer": UserFactory(role=Role.VIEWER, email="viewer@example.com", full_name="Vic Viewer"),
    }
    build_q1_ledger(owner=csm)
    today = timezone.localdate()
    for i, (score, band) in enumerate([(80, "green"), (55, "yellow"), (20, "red")]):
        account = AccountFactory(owner=csm, name=f"Upcoming {i}")
        old = ContractFactory(
            account=account, start_date=today - dt.timedelta(days=700), end_date=today - dt.timedelta(days=335)
        )
        if band != "red":
            ContractFactory(
                account=account,
                start_date=old.end_date + dt.timedelta(days=1),
                end_date=today + dt.timedelta(days=30 + i),
            )
        HealthSnapshot.objects.create(
            account=account,
            as_of=old.end_date - dt.timedelta(days=100),
            score=score,
            band=band,
            computed_at=timezone.now() - dt.timedelta(days=435),
            breakdown={"usage": {"points": score, "missing": False}},
        )
    contract = ContractFactory(
        account=AccountFactory(owner=csm, name="Renewing Co"),
        start_date=today - dt.timedelta(days=300),
        end_date=today + dt.timedelta(days=10),
        recurring_amount=Decimal("24000"),
    )
    Renewal.objects.create(contract=contract, account=contract.account, owner=csm, expected_arr=contract.arr)
    return users


def _watch(page):
    """Console errors, page errors and failed responses. A failed response's console line is replaced by the
    response itself, so that the favicon (not served by this change) can be told apart and ignored."""
    problems = []

    def on_console(msg):
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            problems.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 and "favicon" not in r.url else None,
    )
    return problems


@pytest.mark.parametrize("role", ["admin", "manager", "csm", "viewer"])
def test_dashboards_render_for_each_role_without_console_errors(people, page, login, role):
    errors = _watch(page)
    login(people[role].email, PASSWORD)
    for slug in PAGES[role]:
        page.goto(f"/dashboards/{slug}/?period=2025-Q1")
        page.get_by_test_id("dashboard-body").wait_for()
        charts = page.locator("canvas[data-chart]")
        assert charts.count() >= 1, slug
        # Every chart was drawn by Chart.js.
        assert page.evaluate("[...document.querySelectorAll('canvas[data-chart]')].every(c => Chart.getChart(c))"), slug
        assert page.locator("[data-glossary]").count() >= 1, slug
        page.screenshot(path=f"/tmp/shots-dash/{role}-{slug}.png", full_page=True)
    page.goto("/renewals/")
    page.get_by_test_id("renewal-board").wait_for()
    page.screenshot(path=f"/tmp/shots-dash/{role}-board.png", full_page=True)
    assert errors == []


def test_htmx_filter_and_board_stage_change(people, page, login):
    errors = _watch(page)
    login("manager@example.com", PASSWORD)
    page.goto("/dashboards/team/?period=2025-Q1")
    assert page.get_by_test_id("kpi-nrr_pct").inner_text().endswith("%")
    with page.expect_response(lambda r: "/dashboards/team/" in r.url and "period=last_quarter" in r.url):
        page.select_option("#f-period", "last_quarter")
    page.wait_for_url("**period=last_quarter**")
    page.get_by_test_id("kpi-nrr_pct").wait_for()
    assert page.evaluate("[...document.querySelectorAll('canvas[data-chart]')].every(c => Chart.getChart(c))")
    # Drill down from a number to the accounts behind it.
    page.goto("/dashboards/team/?period=2025-Q1")
    page.get_by_test_id("kpi-churned_mrr").click()
    page.get_by_test_id("drill-table").wait_for()
    assert page.get_by_test_id("drill-table").locator("tbody tr").count() == 2

    page.goto("/renewals/")
    card = page.get_by_test_id("column-not_started").get_by_test_id("renewal-card").first
    with page.expect_response(lambda r: "/stage/" in r.url):
        card.get_by_test_id("stage-select").select_option("verbal_yes")
    page.get_by_test_id("column-verbal_yes").get_by_role("link", name="Renewing Co").wait_for()
    assert Renewal.objects.get().stage == "verbal_yes"
    assert errors == []
