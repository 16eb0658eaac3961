"""The Content-Security-Policy allows no inline script: the pages with charts (Chart.js), htmx swaps and small
behaviours must still work in a real Chromium, with no CSP violation in the console."""

import pytest
from django.utils import timezone

from accounts.models import Account
from demo.accounts import DEMO_PASSWORD, demo_seed
from demo.playbooks import playbooks_demo_seed
from events.models import AccountDailyUser

SHOTS = "/tmp/shots-trust-a"


def _watch(page):
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def test_pages_work_under_the_csp(transactional_db, page, login):
    import os

    os.makedirs(SHOTS, exist_ok=True)
    demo_seed()
    playbooks_demo_seed()
    account = Account.objects.filter(owner__email="csm@demo.csp").order_by("id").first()
    today = timezone.localdate()
    AccountDailyUser.objects.create(account=account, day=today, user_key="u1", events=3)
    from health.models import Scorecard
    from health.services import health_recompute
    from tests.health.factories import MeasureFactory, ScorecardFactory

    if not Scorecard.objects.filter(is_default=True).exists():
        card = ScorecardFactory(name="Default", is_default=True)
        MeasureFactory(scorecard=card, key="active_users_30d", weight=1, breakpoints=[[0, 0], [10, 100]])
    health_recompute(account_ids=[account.pk])
    problems = _watch(page)
    login("admin@demo.csp", DEMO_PASSWORD)

    # Chart.js pages: the chart is drawn from the static script (a canvas with a size).
    for name, url in [
        ("health", f"/health/accounts/{account.pk}/"),
        ("usage", f"/accounts/{account.pk}/usage/"),
        ("console", "/ingestion/"),
    ]:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=f"{SHOTS}/csp-{name}.png", full_page=True)
        assert page.locator("canvas").count() >= 1, name
        page.wait_for_function("() => !!window.Chart && Object.keys(Chart.instances).length > 0")

    # The trigger form shows only the chosen condition's settings (moved out of an inline script).
    page.goto("/triggers/new/")
    page.select_option("#id_condition_type", "health_band")
    page.screenshot(path=f"{SHOTS}/csp-trigger-form.png", full_page=True)
    assert page.locator("[data-param]:visible").count() >= 1

    # A confirm on delete (was an inline onsubmit): dismissing it keeps the account.
    page.goto(f"/accounts/{account.pk}/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    delete = page.locator("form[data-confirm] button", has_text="Delete")
    if delete.count():
        delete.first.click()
        page.wait_for_timeout(300)
        assert Account.objects.filter(pk=account.pk).exists()

    # htmx still swaps (the notification badge loads through hx-get on every page).
    page.goto("/accounts/")
    page.wait_for_load_state("networkidle")
    page.locator("[data-select-all]").first.check() if page.locator("[data-select-all]").count() else None

    # The API docs (Swagger UI) run from files, not inline scripts.
    page.goto("/api/docs/")
    page.locator(".swagger-ui .info .title").first.wait_for()
    page.screenshot(path=f"{SHOTS}/csp-api-docs.png")

    violations = [p for p in problems if "Content Security Policy" in p or "Refused to" in p]
    assert violations == [], violations
    assert [p for p in problems if "Uncaught" in p] == []


@pytest.mark.parametrize("path", ["/login/"])
def test_login_page_has_the_policy(transactional_db, page, path):
    response = page.goto(path)
    assert "script-src 'self'" in response.headers["content-security-policy"]
