"""Fixes a user hit across the UI: favicon, htmx requests after the session ended, labels, pluralisation,
the pulse form's default, the health chart's title, contract terms, tables on phones."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from health.forms import SentimentForm
from health.models import HealthSnapshot
from health.selectors import _fmt, chart_data
from tests.factories import AccountFactory, ContractFactory
from triggers.forms import TriggerForm

pytestmark = pytest.mark.django_db


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert client.get(response["Location"]).status_code == 200
    assert 'rel="icon"' in client.get(reverse("login")).content.decode()


def test_htmx_request_after_the_session_ended_gets_401_not_the_login_page(client):
    url = reverse("accounts:list")
    response = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/ctas/?mine=1")
    assert response.status_code == 401
    assert response["HX-Reswap"] == "none"
    assert response["X-Login-Url"] == "/login/?next=/ctas/"
    assert "<form" not in response.content.decode()
    assert client.get(url).status_code == 302  # a normal page load still goes to the login page


def test_pages_load_the_global_htmx_error_handler(client_as):
    body = client_as("csm").get(reverse("accounts:list")).content.decode()
    assert "csp/htmx-errors.js" in body and 'id="htmx-alert"' in body
    assert 'class="table-responsive"' in body  # the table scrolls inside its wrapper at phone width


def test_labels_are_proper_words():
    form = TriggerForm()
    labels = {name: str(form[name].label) for name in form.fields}
    assert labels["open_cta"] == "Open a CTA"
    assert labels["cta_type"] == "CTA type"
    assert labels["webhook_url"] == "Webhook URL"


def test_pulse_form_has_no_preselected_band():
    html = str(SentimentForm())
    assert "selected" not in html.replace('value="" selected', "")
    assert not SentimentForm(data={"sentiment": "", "note": ""}).is_valid()


def test_one_day_is_singular():
    assert _fmt(1, "days") == "1 day"
    assert _fmt(2, "days") == "2 days"
    assert _fmt(1, "hours") == "1 hour"


def test_health_chart_title_says_what_it_shows(db):
    account = AccountFactory()
    today = timezone.localdate()

    def snaps(days):
        return [HealthSnapshot(account=account, as_of=today - dt.timedelta(days=d), score=50, band="yellow",
                               computed_at=timezone.now()) for d in range(days)]  # fmt: skip

    assert chart_data(snaps(90))["title"] == f"Since {today - dt.timedelta(days=89):%Y-%m-%d} (90 days)"
    assert chart_data(snaps(180))["title"] == "Last 180 days"


def test_one_definition_of_current_term_and_next_renewal(client_as, csm):
    """A term containing today but labelled "expired" (the nightly job ran early) is the current term: the
    header's next renewal, the health measure and the contract list agree."""
    from accounts.services import account_refresh_financials
    from health.measures import contracts_source

    today = timezone.localdate()
    account = AccountFactory(owner=csm)
    current = ContractFactory(account=account, start_date=today - dt.timedelta(days=200),
                              end_date=today + dt.timedelta(days=133), status="expired")  # fmt: skip
    ContractFactory(account=account, start_date=today + dt.timedelta(days=134),
                    end_date=today + dt.timedelta(days=500), status="active")  # fmt: skip
    old = ContractFactory(account=account, start_date=today - dt.timedelta(days=600),
                          end_date=today - dt.timedelta(days=201), status="active")  # fmt: skip
    account_refresh_financials(account_ids=[account.pk])
    account.refresh_from_db()
    assert account.next_renewal_date == current.end_date
    assert contracts_source([account.pk], today)[account.pk]["next_end"] == current.end_date
    page = client_as("csm").get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert f"{current.end_date:%Y-%m-%d}</strong>" in page
    term = page.split(f'data-testid="contract-term-{current.pk}">', 1)[1][:80]
    assert "Current" in term and "Expired" not in term
    assert "Ended" in page.split(f'data-testid="contract-term-{old.pk}">', 1)[1][:80]
