"""Renewals board (htmx stage changes), a renewal's page (call, sign, churn), expansions, and the book summary."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Contract
from accounts.renewal_models import ExpansionOpportunity, Renewal, RenewalCallChange
from metrics.selectors import book_summary
from tests.factories import AccountFactory, ContractFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def renewal(csm):
    today = timezone.localdate()
    contract = ContractFactory(
        account=AccountFactory(owner=csm, name="Acme"),
        start_date=today - dt.timedelta(days=300),
        end_date=today + dt.timedelta(days=20),
        recurring_amount=Decimal("24000"),
    )
    return Renewal.objects.create(contract=contract, account=contract.account, owner=csm, expected_arr=contract.arr)


@pytest.mark.parametrize("role", ["admin", "manager", "csm", "viewer"])
def test_board_renders_for_every_role(client_as, renewal, role):
    response = client_as(role).get(reverse("metrics:renewals"))
    assert response.status_code == 200
    assert b"Acme" in response.content  # the CSM's own, the manager's team's, everyone's for admins and viewers


def test_board_shows_other_books_to_nobody_but_their_scope(client_as, renewal, other_csm):
    response = client_as("manager").get(reverse("metrics:renewals"))
    assert b"Acme" in response.content
    other = ContractFactory(
        account=AccountFactory(owner=other_csm, name="Elsewhere"), end_date=renewal.contract.end_date
    )
    Renewal.objects.create(contract=other, account=other.account, owner=other_csm, expected_arr=other.arr)
    assert b"Elsewhere" not in client_as("csm").get(reverse("metrics:renewals")).content
    assert b"Elsewhere" in client_as("admin").get(reverse("metrics:renewals")).content


def test_bad_quarter_is_a_400_page(client_as):
    assert client_as("csm").get(reverse("metrics:renewals"), {"quarter": "soon"}).status_code == 400


def test_htmx_stage_change_returns_the_board(client_as, renewal):
    url = reverse("metrics:renewal_stage", args=[renewal.pk])
    response = client_as("csm").post(url, {"stage": "in_progress"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b'data-testid="column-in_progress"' in response.content and b"<html" not in response.content
    renewal.refresh_from_db()
    assert renewal.stage == "in_progress"


@pytest.mark.parametrize("role", ["viewer"])
def test_wrong_role_is_refused(client_as, renewal, role):
    client = client_as(role)
    assert client.post(reverse("metrics:renewal_stage", args=[renewal.pk]), {"stage": "in_progress"}).status_code == 403
    assert (
        client.post(reverse("metrics:renewal_call", args=[renewal.pk]), {"forecast_call": "commit"}).status_code == 403
    )
    detail = reverse("metrics:renewal_detail", args=[renewal.pk])
    assert client.post(detail, {"action": "churn", "reason": "x"}).status_code == 403
    assert client.post(reverse("metrics:expansions"), {"account": renewal.account_id, "title": "x"}).status_code == 403


def test_other_csm_may_not_change_the_renewal(client, renewal, other_csm):
    client.force_login(other_csm)
    assert client.post(reverse("metrics:renewal_stage", args=[renewal.pk]), {"stage": "verbal_yes"}).status_code == 403


def test_sign_from_the_page_creates_the_next_contract(client_as, renewal):
    url = reverse("metrics:renewal_detail", args=[renewal.pk])
    response = client_as("csm").post(url, {"action": "sign", "arr": "30000"})
    assert response.status_code == 302
    renewal.refresh_from_db()
    assert renewal.stage == "signed"
    assert renewal.next_contract.arr == Decimal("30000.00")
    assert renewal.next_contract.start_date == renewal.contract.end_date + dt.timedelta(days=1)
    assert Contract.objects.filter(account=renewal.account).count() == 2


def test_churn_without_a_reason_is_a_form_error(client_as, renewal):
    url = reverse("metrics:renewal_detail", args=[renewal.pk])
    response = client_as("csm").post(url, {"action": "churn", "reason": ""})
    assert response.status_code == 400
    renewal.refresh_from_db()
    assert renewal.stage == "not_started"
    response = client_as("csm").post(url, {"action": "churn", "reason": "Acquired by a competitor"})
    assert response.status_code == 302
    renewal.account.refresh_from_db()
    assert renewal.account.churned_on == renewal.contract.end_date + dt.timedelta(days=1)


def test_inline_call_keeps_history(client_as, renewal):
    url = reverse("metrics:renewal_call", args=[renewal.pk])
    response = client_as("csm").post(url, {"forecast_call": "at_risk", "risk_reason": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and b"risk reason" in response.content
    response = client_as("manager").post(url, {"forecast_call": "at_risk", "risk_reason": "No champion"})
    assert response.status_code == 200 and b'data-testid="call-cell"' in response.content
    change = RenewalCallChange.objects.get()
    assert (change.new_call, change.changed_by.email) == ("at_risk", "manager@example.com")


def test_expansion_logged_by_a_csm(client_as, renewal):
    data = {"account": renewal.account_id, "title": "Upsell analytics", "amount_arr": "5000", "stage": "identified"}
    response = client_as("csm").post(reverse("metrics:expansions"), data)
    assert response.status_code == 302
    assert ExpansionOpportunity.objects.get().owner.email == "csm@example.com"
    page = client_as("viewer").get(reverse("metrics:expansions"))
    assert b"Upsell analytics" in page.content and b"expansion-form" not in page.content


def test_book_summary_and_its_template(csm, rf, django_assert_num_queries):
    today = timezone.localdate()
    ContractFactory(
        account=AccountFactory(owner=csm), start_date=today - dt.timedelta(days=400), recurring_amount=12000
    )
    # revenue summary (1 statement) + health mix (1)
    with django_assert_num_queries(2):
        book = book_summary(user=csm, today=today)
    assert book["arr"] == Decimal("12000.00")
    assert book["nrr_pct"] == Decimal("100.00")
    request = rf.get("/")
    request.user = csm
    html = render_to_string("metrics/_book_summary.html", {"book": book, "user": csm}, request=request)
    assert "$12,000" in html and 'data-glossary="nrr"' in html
