"""Key journey: the demo CSM opens the cockpit, ticks a playbook task off inline, is refused closing without an
outcome, then closes the CTA with one; the database agrees at each step."""

from django.utils import timezone

from demo.accounts import DEMO_PASSWORD, demo_seed
from demo.playbooks import playbooks_demo_seed
from playbooks.models import CTA, CTATask


def test_csm_completes_a_task_and_closes_a_cta(transactional_db, page, login):
    demo_seed()
    playbooks_demo_seed()
    login("csm@demo.csp", DEMO_PASSWORD)

    page.get_by_role("link", name="CTAs", exact=True).click()
    page.wait_for_url("**/ctas/**")
    overdue = page.get_by_test_id("group-overdue")
    assert int(page.get_by_test_id("group-count-overdue").inner_text()) >= 1

    # The first overdue CTA with an open task.
    task = (
        CTATask.objects.filter(
            cta__owner__email="csm@demo.csp", cta__status="open", completed_at=None, assignee__email="csm@demo.csp"
        )
        .order_by("cta__due_date", "cta_id", "position")
        .first()
    )
    cta = task.cta
    card = page.locator(f"#cta-{cta.pk}")
    assert card.get_by_test_id("cta-title").inner_text() == cta.title
    assert overdue.locator(f"#cta-{cta.pk}").count() == (1 if cta.due_date < timezone.localdate() else 0)

    # Tick the task inline: the card is swapped by htmx, the page is not reloaded.
    page.evaluate("window.__same_page = true")
    with page.expect_response(lambda r: r.url.endswith(f"/tasks/{task.pk}/toggle/")):
        card.get_by_test_id(f"task-toggle-{task.pk}").check()
    page.locator(f"#cta-task-{task.pk}").get_by_test_id("task-done").wait_for()
    assert page.evaluate("window.__same_page") is True
    task.refresh_from_db()
    assert task.completed_at is not None and task.completed_by.email == "csm@demo.csp"

    # Closing without an outcome is refused with a message; the CTA stays open.
    card = page.locator(f"#cta-{cta.pk}")
    with page.expect_response(lambda r: r.url.endswith(f"/ctas/{cta.pk}/close/")):
        card.get_by_test_id("close-cta").click()
    card.get_by_test_id("cta-errors").wait_for()
    assert "Pick an outcome" in card.get_by_test_id("cta-errors").inner_text()
    assert CTA.objects.get(pk=cta.pk).status == "open"

    # Close with an outcome.
    card = page.locator(f"#cta-{cta.pk}")
    card.get_by_test_id("close-outcome").select_option("success")
    card.get_by_role("textbox", name="Closing note").fill("Champion re-engaged")
    card.get_by_test_id("close-cta").click()
    card.get_by_test_id("cta-closed").wait_for()
    assert "Success" in card.get_by_test_id("cta-closed").inner_text()
    cta.refresh_from_db()
    assert (cta.status, cta.outcome, cta.outcome_note) == ("closed", "success", "Champion re-engaged")

    # After a reload the closed CTA has left the cockpit.
    page.reload()
    assert page.locator(f"#cta-{cta.pk}").count() == 0
