"""Key journey: the demo CSM logs in, sees their book, opens an account, edits it, sees the change."""

from accounts.models import Account
from demo.accounts import DEMO_PASSWORD, demo_seed


def test_csm_works_an_account(transactional_db, page, login):
    demo_seed()
    login("csm@demo.csp", DEMO_PASSWORD)
    page.get_by_role("link", name="Accounts", exact=True).click()
    page.wait_for_url("**/accounts/")

    # The book of business shows only the CSM's own accounts by default, with totals.
    own = Account.objects.filter(owner__email="csm@demo.csp").order_by("name")
    assert page.get_by_test_id("total-accounts").inner_text() == str(own.count())
    first = own.first()
    row_link = page.get_by_test_id("account-table").get_by_role("link", name=first.name, exact=True)
    row_link.click()
    page.wait_for_url(f"**/accounts/{first.pk}/")
    assert page.get_by_test_id("account-name").inner_text() == first.name

    # Edit: move the account to the Growth stage and rename it.
    page.get_by_test_id("edit-account").click()
    page.fill("#id_name", f"{first.name} (renamed)")
    page.select_option("#id_lifecycle_stage", "growth")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"**/accounts/{first.pk}/")
    assert page.get_by_test_id("account-name").inner_text() == f"{first.name} (renamed)"
    assert page.get_by_test_id("account-stage").inner_text() == "Growth"
    first.refresh_from_db()
    assert first.lifecycle_stage == "growth"

    # A form error is shown, not a crash, and nothing is stored.
    page.get_by_test_id("edit-account").click()
    page.fill("#id_name", "")
    page.get_by_role("button", name="Save").click()
    assert page.locator(".invalid-feedback, .errorlist").first.is_visible()
    first.refresh_from_db()
    assert first.name.endswith("(renamed)")
