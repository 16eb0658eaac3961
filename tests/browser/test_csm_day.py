"""Key journey: the demo CSM's day, end to end. Log in and land on My day, tick a task off, find an account with
the keyboard-shortcut search, read its Overview, log a call, close a CTA, advance a renewal. Screenshots at desktop
and phone widths go to $CSP_SHOTS (default /tmp/shots-day-ui)."""

import datetime as dt
import os
from pathlib import Path

from django.utils import timezone

from accounts.models import Account
from accounts.renewal_models import Renewal
from accounts.renewals import renewals_open_due
from demo.accounts import DEMO_PASSWORD, demo_seed
from demo.playbooks import playbooks_demo_seed
from demo.timeline import timeline_demo_seed
from health.models import AccountHealth, HealthSnapshot
from metrics.scope import quarter_label
from playbooks.models import CTA, CTATask
from timeline.models import Activity

SHOTS = Path(os.environ.get("CSP_SHOTS", "/tmp/shots-day-ui"))


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _band_change(account: Account) -> None:
    """The account went from green to red this week (as a recompute would record it)."""
    now, today = timezone.now(), timezone.localdate()
    HealthSnapshot.objects.create(
        account=account,
        computed_at=now - dt.timedelta(days=10),
        as_of=today - dt.timedelta(days=10),
        score=78,
        band="green",
        breakdown={},
    )
    HealthSnapshot.objects.create(account=account, computed_at=now, as_of=today, score=35, band="red", breakdown={})
    AccountHealth.objects.update_or_create(account=account, defaults={
        "score": 35, "band": "red", "previous_score": 78, "previous_band": "green", "trend": "down",
        "computed_at": now, "changed_at": now})  # fmt: skip


def test_csm_day_end_to_end(transactional_db, browser, live_server, page, login):
    demo_seed()
    playbooks_demo_seed()
    timeline_demo_seed()
    mine = Account.objects.filter(owner__email="csm@demo.csp", status="active").order_by("name")
    target = mine.first()
    _band_change(target)
    renewals_open_due()  # the daily task: renewals open RENEWAL_OPEN_DAYS before their contract ends

    # 1. Log in: the CSM lands on My day, with CTAs due, renewals and the health change.
    login("csm@demo.csp", DEMO_PASSWORD)
    assert page.url.rstrip("/") == live_server.url
    page.get_by_role("heading", name="My day").wait_for()
    assert page.get_by_test_id("day-cta").count() >= 1
    assert target.name in page.get_by_test_id("day-health").inner_text()
    page.set_viewport_size({"width": 1366, "height": 900})
    _shot(page, "01-my-day-desktop")

    # 2. Tick a task off from the list (htmx swaps the line; the page is not reloaded).
    task_lines = page.get_by_test_id("day-task")
    if task_lines.count():
        line = task_lines.first
        line_id = line.get_attribute("id")
        page.evaluate("window.__same_page = true")
        line.get_by_test_id("task-done").click()
        page.locator(f"#{line_id}").get_by_test_id("task-undo").wait_for()
        assert page.evaluate("window.__same_page") is True
        kind, pk = line_id.split("-")[1:]
        if kind == "cta":
            assert CTATask.objects.get(pk=pk).completed_at is not None

    # 3. Search from anywhere with "/": type, arrow down, Enter opens the account.
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "global-search"
    page.keyboard.type(target.name[:6])
    page.get_by_test_id("search-hit").first.wait_for()
    _shot(page, "02-search-dropdown-desktop")
    hit = page.locator(f'a.search-hit[href="/accounts/{target.pk}/"]')
    assert hit.count() == 1
    while page.evaluate("document.activeElement.getAttribute('href')") != f"/accounts/{target.pk}/":
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/accounts/{target.pk}/")

    # 4. The Overview answers "how is this customer" at a glance.
    overview = page.get_by_test_id("overview")
    overview.wait_for()
    assert "35" in page.get_by_test_id("overview-health").inner_text()
    assert page.get_by_test_id("overview-health").locator("svg").count() == 1
    assert "ARR" in page.get_by_test_id("overview-renewal").inner_text()
    _shot(page, "03-account-overview-desktop")

    # Ctrl-K also focuses the search, from any page.
    page.keyboard.press("Control+k")
    assert page.evaluate("document.activeElement.id") == "global-search"
    page.keyboard.press("Escape")

    # 5. Log a call from the overview's "Log a touchpoint".
    page.get_by_test_id("overview-log").click()
    page.wait_for_url(f"**/accounts/{target.pk}/timeline/**")
    page.select_option("#id_kind", "call")
    page.fill("#id_subject", "Health dropped: recovery call")
    page.fill("#id_summary", "Walked through the usage drop with the champion; agreed a training session.")
    page.get_by_test_id("log-submit").click()
    page.get_by_test_id("timeline-entry").first.get_by_text("Health dropped: recovery call").wait_for()
    activity = Activity.objects.get(subject="Health dropped: recovery call")
    assert activity.author.email == "csm@demo.csp" and activity.account_id == target.pk

    # 6. Back home, open the most pressing CTA and close it with an outcome.
    page.get_by_role("link", name="csp").first.click()
    page.get_by_role("heading", name="My day").wait_for()
    first_cta = page.get_by_test_id("day-cta").first
    first_cta.locator("a.fw-semibold").click()
    page.wait_for_url("**/ctas/*/")
    cta = CTA.objects.get(pk=int(page.url.rstrip("/").split("/")[-1]))
    card = page.locator(f"#cta-{cta.pk}")
    card.get_by_test_id("close-outcome").select_option("success")
    card.get_by_role("textbox", name="Closing note").fill("Recovery call done, training booked")
    card.get_by_test_id("close-cta").click()
    card.get_by_test_id("cta-closed").wait_for()
    cta.refresh_from_db()
    assert (cta.status, cta.outcome) == ("closed", "success")
    # ... and it has left My day.
    page.goto("/")
    assert page.locator(f'[data-testid="day-cta"] a[href="/ctas/{cta.pk}/"]').count() == 0

    # 6b. Advance a renewal: on the renewals board of its quarter, the CSM moves it from "not started" on.
    renewal = (
        Renewal.objects.filter(owner__email="csm@demo.csp", stage="not_started")
        .select_related("account", "contract")
        .order_by("contract__end_date")
        .first()
    )
    assert renewal is not None
    page.goto(f"/renewals/?quarter={quarter_label(renewal.contract.end_date)}")
    card = (
        page.get_by_test_id("column-not_started").get_by_test_id("renewal-card").filter(has_text=renewal.account.name)
    )
    with page.expect_response(lambda r: "/stage/" in r.url):
        card.first.get_by_test_id("stage-select").select_option("in_progress")
    page.get_by_test_id("column-in_progress").get_by_text(renewal.account.name).first.wait_for()
    renewal.refresh_from_db()
    assert renewal.stage == "in_progress"
    _shot(page, "06-renewal-advanced")

    # 7. Phone width: My day, the search and the overview stay usable (nothing wider than the screen).
    phone = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    tab = phone.new_page()
    tab.goto("/login/")
    tab.fill("#id_username", "csm@demo.csp")
    tab.fill("#id_password", DEMO_PASSWORD)
    tab.click("button[type=submit]")
    tab.get_by_role("heading", name="My day").wait_for()
    overflow = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert tab.evaluate(overflow) <= 0
    _shot(tab, "04-my-day-phone")
    tab.keyboard.press("/")
    tab.keyboard.type(target.name[:6])
    tab.get_by_test_id("search-hit").first.wait_for()
    _shot(tab, "05-search-phone")
    tab.goto(f"/accounts/{target.pk}/")
    tab.get_by_test_id("overview").wait_for()
    assert tab.evaluate(overflow) <= 0
    _shot(tab, "06-account-overview-phone")
    phone.close()
