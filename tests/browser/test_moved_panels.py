"""Panels that moved to their own layer (issue 10) still show where users look: the support ticket panel in the
Usage tab (support/views.py, loaded by htmx) and the notification bell (the notifications app)."""

import os

from csp.models import Role
from notifications.services import notification_send
from tests.factories import PASSWORD, AccountFactory, UserFactory
from tests.support.factories import TicketFactory

SHOTS = os.environ.get("CSP_SHOTS_DIR")


def test_usage_tab_shows_tickets_and_the_bell_counts(transactional_db, page, login):
    csm = UserFactory(role=Role.CSM, email="csm.panels@example.com")
    account = AccountFactory(owner=csm, name="Panel Corp")
    TicketFactory(account=account, external_id="ZD-77", subject="Export is slow", is_escalated=True)
    notification_send(user=csm, title="CTA assigned to you: Panel Corp", email=False)
    login(csm.email, PASSWORD)

    page.goto(f"/accounts/{account.pk}/usage/")
    panel = page.get_by_test_id("ticket-panel")
    panel.get_by_text("#ZD-77 Export is slow").wait_for()
    assert "escalated" in panel.get_by_test_id("tickets").inner_text()
    assert panel.get_by_test_id("resolution-rate").inner_text() == "0.0%"
    assert page.get_by_test_id("unread-count").inner_text() == "1"
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "usage-tab-tickets.png"), full_page=True)
    page.get_by_test_id("notification-bell").click()
    page.wait_for_url("**/notifications/")
    assert "CTA assigned to you: Panel Corp" in page.get_by_test_id("notification-list").inner_text()
