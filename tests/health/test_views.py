"""Health pages: the Health tab explanation, overrides and pulses from the tab, the scorecard admin, the book of
business column. Permissions, bad input and fixed query counts."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from events.models import AccountDailyUser
from health import services
from health.models import HealthOverride, HealthSnapshot, Scorecard, SentimentPulse
from tests.factories import AccountFactory
from tests.health.factories import MeasureFactory, ScorecardFactory, add_users

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def card(no_scorecards):
    card = ScorecardFactory(name="Hand", is_default=True)
    MeasureFactory(scorecard=card, key="active_users_30d", weight=3, breakpoints=[[0, 0], [100, 100]])
    MeasureFactory(scorecard=card, key="open_tickets", weight=1, breakpoints=[[0, 100], [4, 0]], direction="lower")
    return card


@pytest.fixture
def account(card, csm, today):
    """Scored twice: 41 active users 14 days ago, 12 today."""
    account = AccountFactory(owner=csm)
    add_users(account, users=41, day=today - dt.timedelta(days=14))
    services.health_recompute(account_ids=[account.id], as_of=today - dt.timedelta(days=14))
    AccountDailyUser.objects.filter(account=account).delete()
    add_users(account, users=12, day=today)
    services.health_recompute(account_ids=[account.id])
    return account


def test_health_tab_explains_the_score(client_as, account):
    # Before: (41 x 3 + 100) / 4 = 55.75 → 55.8 (contribution 30.75); now: (12 x 3 + 100) / 4 = 34.0 (9.0).
    response = client_as("viewer").get(reverse("health:account", args=[account.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="health-score">34.0<' in html
    assert "Active users (30 days) fell from 41 to 12 over 14 days: -21.8 points" in html
    assert "Open tickets" in html and "Breakdown" in html
    assert 'id="health-chart-data"' in html and "vendor/chartjs/chart.umd.min.js" in html
    assert 'data-testid="tab-health"' in html
    assert 'data-testid="override-form"' not in html  # viewers change nothing


def test_health_tab_without_score(client_as, card):
    account = AccountFactory()
    response = client_as("csm").get(reverse("health:account", args=[account.pk]))
    assert response.status_code == 200
    assert 'data-testid="health-empty"' in response.content.decode()


def test_health_tab_needs_login(client, account):
    response = client.get(reverse("health:account", args=[account.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_health_tab_query_count_is_fixed(client_as, account, django_assert_num_queries):
    client = client_as("csm")
    for _ in range(20):
        services.health_recompute(account_ids=[account.id])
    HealthSnapshot.objects.filter(account=account).update(as_of=timezone.localdate())
    # session, user, account (+owner, parent), team membership (can_edit: owner → none), current health
    # (+scorecard, override, created_by), 180 days of snapshots (+scorecard), overrides, latest pulse.
    with django_assert_num_queries(7):
        client.get(reverse("health:account", args=[account.pk]))


def test_csm_overrides_from_the_tab(client_as, account, today):
    url = reverse("health:override_create", args=[account.pk])
    response = client_as("csm").post(url, {"band": "green", "reason": "Renewal signed", "expires_on": today})
    assert response.status_code == 302
    response = client_as("csm").get(reverse("health:account", args=[account.pk]))
    html = response.content.decode()
    assert 'data-testid="health-override"' in html and "Renewal signed" in html
    assert 'data-band="green"' in html


def test_override_bad_input_shows_form_errors(client_as, account, today):
    url = reverse("health:override_create", args=[account.pk])
    response = client_as("csm").post(url, {"band": "green", "reason": "", "expires_on": today})
    assert response.status_code == 400
    assert "reason" in response.context["override_form"].errors
    response = client_as("csm").post(url, {"band": "green", "reason": "x", "expires_on": today - dt.timedelta(days=1)})
    assert response.status_code == 400
    assert "expires_on" in response.context["override_form"].errors
    assert not HealthOverride.objects.exists()


def test_second_override_needs_replace(client_as, account, today):
    url = reverse("health:override_create", args=[account.pk])
    client_as("csm").post(url, {"band": "green", "reason": "a", "expires_on": today})
    response = client_as("csm").post(url, {"band": "red", "reason": "b", "expires_on": today})
    assert response.status_code == 400
    assert "replace" in response.context["override_form"].errors
    response = client_as("csm").post(url, {"band": "red", "reason": "b", "expires_on": today, "replace": "on"})
    assert response.status_code == 302
    assert HealthOverride.objects.filter(ended_at__isnull=True).get().band == "red"


@pytest.mark.parametrize("role", ["viewer"])
def test_override_refused_for_wrong_role(client_as, account, today, role):
    url = reverse("health:override_create", args=[account.pk])
    response = client_as(role).post(url, {"band": "green", "reason": "x", "expires_on": today})
    assert response.status_code == 403


def test_override_refused_for_csm_not_on_the_account(client, other_csm, account, today):
    client.force_login(other_csm)
    url = reverse("health:override_create", args=[account.pk])
    assert client.post(url, {"band": "green", "reason": "x", "expires_on": today}).status_code == 403
    assert client.post(reverse("health:sentiment_set", args=[account.pk]), {"sentiment": "red"}).status_code == 403


def test_end_override(client_as, account, csm, today):
    override = services.override_create(account=account, band="red", reason="x", expires_on=today, user=csm)
    url = reverse("health:override_end", args=[account.pk, override.pk])
    assert client_as("viewer").post(url).status_code == 403
    assert client_as("csm").post(url).status_code == 302
    override.refresh_from_db()
    assert override.ended_at is not None


def test_sentiment_pulse_from_the_tab(client_as, account, django_capture_on_commit_callbacks):
    url = reverse("health:sentiment_set", args=[account.pk])
    assert client_as("csm").post(url, {"sentiment": "purple"}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as("csm").post(url, {"sentiment": "red", "note": "Exec sponsor unhappy"})
    assert response.status_code == 302
    assert SentimentPulse.objects.get().sentiment == "red"
    assert client_as("viewer").post(url, {"sentiment": "red"}).status_code == 403


# --- scorecard admin ---------------------------------------------------------------------------------------


def _form(**overrides):
    data = {
        "name": "Enterprise", "description": "", "tiers": ["enterprise"], "yellow_from": "40", "green_from": "70",
        "missing_policy": "exclude", "m-TOTAL_FORMS": "2", "m-INITIAL_FORMS": "0", "m-MIN_NUM_FORMS": "0",
        "m-MAX_NUM_FORMS": "1000", "m-0-key": "active_users_30d", "m-0-weight": "2", "m-0-direction": "higher",
        "m-0-interpolation": "linear", "m-0-breakpoints": "0:0, 10:60, 50:100", "m-1-key": "open_tickets",
        "m-1-weight": "1", "m-1-direction": "lower", "m-1-interpolation": "step", "m-1-breakpoints": "",
    }  # fmt: skip
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", ["manager", "csm", "viewer"])
def test_scorecard_admin_refused_for_other_roles(client_as, card, role):
    client = client_as(role)
    assert client.get(reverse("health:scorecard_list")).status_code == 403
    assert client.post(reverse("health:scorecard_create"), _form()).status_code == 403
    assert client.post(reverse("health:scorecard_history", args=[card.pk])).status_code == 403
    assert client.post(reverse("health:scorecard_delete", args=[card.pk])).status_code == 403


def test_admin_creates_a_scorecard(client_as, card, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as("admin").post(reverse("health:scorecard_create"), _form())
    assert response.status_code == 302
    new = Scorecard.objects.get(name="Enterprise")
    assert new.tiers == ["enterprise"]
    measures = list(new.measures.order_by("position"))
    assert [(m.key, m.weight, m.group) for m in measures] == [
        ("active_users_30d", 2, "usage"),
        ("open_tickets", 1, "support"),
    ]
    assert measures[0].breakpoints == [[0, 0], [10, 60], [50, 100]]
    assert measures[1].breakpoints == [[0, 100], [5, 50], [15, 0]]  # the registry's defaults
    assert measures[1].interpolation == "step"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"yellow_from": "80"}, "green_from"),
        ({"m-0-breakpoints": "0:0, 10"}, None),
        ({"m-0-breakpoints": "0:100, 10:0"}, None),  # higher is better but points fall
        ({"m-0-weight": "0"}, None),
        ({"m-1-key": "active_users_30d"}, None),  # used twice
        ({"m-0-key": "", "m-1-key": ""}, None),  # no measure
    ],
)
def test_scorecard_form_errors(client_as, card, overrides, field):
    response = client_as("admin").post(reverse("health:scorecard_create"), _form(**overrides))
    assert response.status_code == 400
    form, formset = response.context["form"], response.context["formset"]
    assert form.errors or any(f.errors for f in formset.forms)
    if field:
        assert field in form.errors
    assert not Scorecard.objects.filter(name="Enterprise").exists()


def test_tier_claimed_twice_is_an_error(client_as, card):
    ScorecardFactory(name="Big", tiers=["enterprise"])
    response = client_as("admin").post(reverse("health:scorecard_create"), _form())
    assert response.status_code == 400
    assert "already scored by Big" in str(response.context["form"].errors["tiers"])


def test_admin_edits_and_recomputes_history(client_as, card, account, django_capture_on_commit_callbacks):
    client = client_as("admin")
    response = client.get(reverse("health:scorecard_edit", args=[card.pk]))
    assert response.status_code == 200 and "0:0, 100:100" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("health:scorecard_history", args=[card.pk]))
    assert response.status_code == 302
    assert HealthSnapshot.objects.filter(account=account, source="history").count() == 180


def test_default_scorecard_cannot_be_deleted(client_as, card):
    response = client_as("admin").post(reverse("health:scorecard_delete", args=[card.pk]))
    assert response.status_code == 302
    assert Scorecard.objects.filter(pk=card.pk).exists()


def test_scorecard_list_query_count_is_fixed(client_as, card, django_assert_num_queries):
    client = client_as("admin")
    for i in range(19):
        MeasureFactory(scorecard=ScorecardFactory(name=f"S{i}"))
    # session, user, scorecards, their measures and segments (prefetches)
    with django_assert_num_queries(5):
        response = client.get(reverse("health:scorecard_list"))
    assert response.content.decode().count("/health/scorecards/") >= 20


# --- book of business column ----------------------------------------------------------------------------------


def test_book_of_business_shows_health_with_fixed_queries(client_as, card, csm):
    """The list's query count is owned by the accounts app (its filters change); health must add no query:
    score, band, trend and override come in the accounts query's joins, so 1 and 20 rows cost the same."""
    client = client_as("csm")

    def render(n):
        while Account.objects.count() < n:
            AccountFactory(owner=csm)
        services.health_recompute()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("accounts:list"))
        return response.content.decode(), [q["sql"] for q in ctx.captured_queries]

    one_html, one = render(1)
    services.override_create(
        account=Account.objects.first(), band="green", reason="x", expires_on=timezone.localdate(), user=csm
    )
    html, twenty = render(20)
    assert len(one) == len(twenty)
    health_queries = [q for q in twenty if "health_accounthealth" in q]
    assert len(health_queries) == 1 and 'FROM "accounts_account"' in health_queries[0]  # a join, not a query
    assert "health_healthoverride" in health_queries[0]
    assert one_html.count('data-testid="health-badge"') == 1
    assert html.count('data-testid="health-badge"') == 20
    assert html.count("bi-pin-angle-fill") == 1
