"""Forms for humans, in Chromium: the parent account is searched by name (Tom Select asking the server), team
members are picked from a searchable multi-select, the scorecard editor fits a laptop screen."""

import os
from pathlib import Path

from accounts.models import Account
from csp.models import Team
from health.models import Scorecard
from tests.factories import PASSWORD, AccountFactory, UserFactory
from tests.health.factories import MeasureFactory, ScorecardFactory

SHOTS = Path(os.environ.get("CSP_SHOTS", "/tmp/shots-day-ui"))


def test_parent_picker_and_multi_select(transactional_db, page, login):
    admin = UserFactory(role="admin", email="admin@example.com")
    child = AccountFactory(name="Child Ltd", owner=admin)
    parent = AccountFactory(name="Umbrella Holdings", domain="umbrella.example")
    AccountFactory.create_batch(5)
    login(admin.email, PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"/accounts/{child.pk}/edit/")
    picker = page.locator(".ts-wrapper").filter(has=page.locator("#id_parent-ts-control"))
    picker.click()
    # Typed as one input event into Tom Select's own input (focused by fill): keys sent one by one right after the
    # click could reach the page before Tom Select had moved the focus (a person never types that fast).
    with page.expect_response(lambda r: "/accounts/picker/" in r.url and "q=umbrel" in r.url) as answer:
        page.locator("#id_parent-ts-control").fill("umbrel")
    assert answer.value.status == 200, answer.value.text()
    assert "Umbrella Holdings" in answer.value.text(), (answer.value.url, answer.value.text())
    page.locator(".ts-dropdown .option", has_text="Umbrella Holdings").click()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "07-account-form-parent-picker.png"), full_page=True)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"**/accounts/{child.pk}/")
    assert Account.objects.get(pk=child.pk).parent_id == parent.pk

    # Team members: a searchable multi-select with chips, not Ctrl-click.
    members = [UserFactory(full_name=name) for name in ("Priya Shah", "Lee Chen", "Noah Williams")]
    page.goto("/admin/teams/new/")
    page.fill("#id_name", "Enterprise")
    control = page.locator("#id_members-ts-control")
    for typed, name in (("pri", "Priya Shah"), ("noah", "Noah Williams")):
        control.click()
        control.fill(typed)
        page.locator(".ts-dropdown .option", has_text=name).click()
    page.keyboard.press("Escape")
    page.screenshot(path=str(SHOTS / "08-team-form-multi-select.png"), full_page=True)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/admin/teams/")
    team = Team.objects.get(name="Enterprise")
    assert set(team.members.values_list("id", flat=True)) == {members[0].pk, members[2].pk}


def test_scorecard_editor_fits_its_content(transactional_db, page, login):
    admin = UserFactory(role="admin", email="admin@example.com")
    card = ScorecardFactory(name="Enterprise card")
    for key in ("active_users_30d", "days_since_last_touchpoint"):
        MeasureFactory(scorecard=card, key=key, group="usage")
    login(admin.email, PASSWORD)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"/health/scorecards/{card.pk}/")
    page.get_by_test_id("scorecard-form").wait_for()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "09-scorecard-editor.png"), full_page=True)
    # Nothing sticks out of the page; every measure input is at least as wide as its content needs.
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    widths = page.eval_on_selector_all(".scorecard-measures input[type=text]", "els => els.map(e => e.clientWidth)")
    assert widths and min(widths) >= 100
    assert Scorecard.objects.filter(pk=card.pk).exists()
