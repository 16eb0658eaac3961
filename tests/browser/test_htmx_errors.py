"""Global htmx error handling in Chromium: after the session ends, commenting on a CTA shows a message with a
re-login link and keeps the comment (no login page inside the card); after logging in again in another tab the
retry goes through; a network error shows its own message."""

from django.contrib.sessions.models import Session

from playbooks.models import CTAComment
from tests.factories import PASSWORD, AccountFactory, UserFactory
from tests.playbooks.factories import CTAFactory


def test_session_end_and_network_error_keep_the_input(transactional_db, page, login):
    csm = UserFactory(role="csm", email="casey@example.com")
    cta = CTAFactory(account=AccountFactory(owner=csm), owner=csm)
    login("casey@example.com", PASSWORD)
    page.goto(f"/ctas/{cta.pk}/")
    card = page.locator(f"#cta-{cta.pk}")

    Session.objects.all().delete()  # the session ends (expiry, logout elsewhere)
    card.get_by_test_id("comment-input").fill("Called the champion, renewal looks good")
    with page.expect_response(lambda r: r.url.endswith(f"/ctas/{cta.pk}/comments/")) as answer:
        card.get_by_title("Comment").click()
    assert answer.value.status == 401
    alert = page.get_by_test_id("htmx-error")
    alert.wait_for()
    assert "session has ended" in alert.inner_text()
    assert page.get_by_test_id("relogin").get_attribute("href").startswith("/login/?next=")
    assert card.get_by_test_id("comment-input").input_value() == "Called the champion, renewal looks good"
    assert page.locator("#id_username").count() == 0  # no login form injected into the card
    assert not CTAComment.objects.exists()

    # Log in again in another tab (same browser), come back and retry: it goes through.
    other = page.context.new_page()
    other.goto("/login/")
    other.fill("#id_username", "casey@example.com")
    other.fill("#id_password", PASSWORD)
    other.click("button[type=submit]")
    other.wait_for_load_state()
    other.close()
    with page.expect_response(lambda r: r.url.endswith(f"/ctas/{cta.pk}/comments/")) as answer:
        card.get_by_title("Comment").click()
    assert answer.value.status == 200
    page.locator(f"#cta-{cta.pk} [data-testid=cta-comments]").get_by_text("Called the champion").wait_for()
    assert CTAComment.objects.get().body == "Called the champion, renewal looks good"

    # The network fails: a message, the input stays.
    page.route("**/comments/", lambda route: route.abort())
    page.locator(f"#cta-{cta.pk}").get_by_test_id("comment-input").fill("Second note")
    page.locator(f"#cta-{cta.pk}").get_by_title("Comment").click()
    page.get_by_test_id("htmx-error").get_by_text("cannot be reached").wait_for()
    assert page.locator(f"#cta-{cta.pk}").get_by_test_id("comment-input").input_value() == "Second note"
