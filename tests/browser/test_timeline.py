"""Key journey: the demo CSM opens an account's Timeline, logs a call in seconds, sees it on top."""

import datetime as dt

from accounts.models import Account
from demo.accounts import DEMO_PASSWORD, demo_seed
from timeline.models import Activity
from timeline.services import timeline_record


def test_csm_logs_a_call_and_sees_it_on_top(transactional_db, page, login):
    demo_seed()
    account = Account.objects.filter(owner__email="csm@demo.csp").order_by("name").first()
    # Something already on the feed, so "on top" means something.
    timeline_record(account=account, kind="health", title="Health: green → yellow",
                    occurred_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))  # fmt: skip
    login("csm@demo.csp", DEMO_PASSWORD)

    page.goto(f"/accounts/{account.pk}/")
    page.get_by_test_id("tab-timeline").click()
    page.wait_for_url(f"**/accounts/{account.pk}/timeline/")
    page.select_option("#id_kind", "call")
    page.fill("#id_subject", "Renewal check-in")
    page.fill("#id_summary", "Great call, the champion loves the new reports and is happy with support.")
    # The sentiment suggestion arrives while typing (htmx) and can be accepted.
    suggestion = page.get_by_test_id("sentiment-suggestion")
    suggestion.get_by_text("Positive").wait_for()
    suggestion.get_by_role("button", name="Accept").click()
    assert page.input_value("#id_sentiment") == "positive"
    page.get_by_test_id("log-submit").click()

    first = page.get_by_test_id("timeline-entry").first
    first.get_by_text("Call: Renewal check-in").wait_for()
    assert first.get_by_test_id("entry-sentiment").inner_text() == "Positive"
    assert "Health: green → yellow" in page.get_by_test_id("timeline-entry").nth(1).inner_text()
    assert page.input_value("#id_subject") == ""  # the form is ready for the next one
    activity = Activity.objects.get(subject="Renewal check-in")
    assert activity.author.email == "csm@demo.csp" and activity.sentiment == "positive"
    account.refresh_from_db()
    assert account.last_touchpoint_at == activity.occurred_at
