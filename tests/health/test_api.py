"""Health API: roles, bad input with the field named, and fixed query counts of every list endpoint."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from health import services
from health.models import HealthOverride, Scorecard
from tests.factories import AccountFactory
from tests.health.factories import MeasureFactory, ScorecardFactory, add_users

pytestmark = pytest.mark.django_db

SCORECARDS = "/api/v1/health/scorecards/"
CURRENT = "/api/v1/health/current/"
SNAPSHOTS = "/api/v1/health/snapshots/"
OVERRIDES = "/api/v1/health/overrides/"
SENTIMENT = "/api/v1/health/sentiment/"


@pytest.fixture
def card(no_scorecards):
    card = ScorecardFactory(name="Hand", is_default=True)
    MeasureFactory(scorecard=card, key="active_users_30d", weight=1, breakpoints=[[0, 0], [10, 100]])
    return card


@pytest.fixture
def account(card, csm):
    account = AccountFactory(owner=csm)
    add_users(account, users=3, day=timezone.localdate())
    services.health_recompute(account_ids=[account.id])
    return account


def _scorecard_body(**overrides):
    body = {
        "name": "Enterprise",
        "tiers": ["enterprise"],
        "missing_policy": "zero",
        "measures": [
            {"key": "active_users_30d", "weight": 2, "breakpoints": [[0, 0], [20, 100]]},
            {"key": "open_tickets", "weight": 1, "direction": "lower"},
        ],
    }
    body.update(overrides)
    return body


def test_anonymous_is_refused(card):
    client = APIClient()
    for url in (SCORECARDS, CURRENT, SNAPSHOTS, OVERRIDES, SENTIMENT):
        assert client.get(url).status_code == 401


@pytest.mark.parametrize("role", ["manager", "csm", "viewer"])
def test_scorecard_writes_are_admin_only(api_as, card, role):
    client = api_as(role)
    assert client.get(SCORECARDS).status_code == 200
    assert client.post(SCORECARDS, _scorecard_body(), format="json").status_code == 403
    assert client.patch(f"{SCORECARDS}{card.pk}/", {"name": "x"}, format="json").status_code == 403
    assert client.delete(f"{SCORECARDS}{card.pk}/").status_code == 403
    assert client.post(f"{SCORECARDS}{card.pk}/recompute-history/").status_code == 403


def test_admin_creates_and_updates_a_scorecard(api_as, card):
    client = api_as("admin")
    response = client.post(SCORECARDS, _scorecard_body(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["tiers"] == ["enterprise"]
    assert [(m["key"], m["group"], m["weight"]) for m in body["measures"]] == [
        ("active_users_30d", "usage", 2.0), ("open_tickets", "support", 1.0),
    ]  # fmt: skip
    response = client.patch(f"{SCORECARDS}{body['id']}/", {"green_from": 80}, format="json")
    assert response.status_code == 200
    assert response.json()["green_from"] == 80 and len(response.json()["measures"]) == 2


def test_make_default_moves_the_flag(api_as, card):
    response = api_as("admin").post(SCORECARDS, _scorecard_body(is_default=True), format="json")
    assert response.status_code == 201, response.json()
    assert list(Scorecard.objects.filter(is_default=True).values_list("name", flat=True)) == ["Enterprise"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"tiers": ["galactic"]}, "tiers"),
        ({"yellow_from": 90, "green_from": 50}, "green_from"),
        ({"missing_policy": "guess"}, "missing_policy"),
        ({"measures": []}, "measures"),
        ({"measures": [{"key": "nps", "weight": 1}]}, "measures"),
        ({"measures": [{"key": "stickiness", "weight": 0}]}, "measures"),
        ({"measures": [{"key": "stickiness", "weight": 1, "breakpoints": [[0, 100], [10, 0]]}]}, "measures"),
        ({"measures": [{"key": "stickiness", "weight": 1, "breakpoints": [[5, 0], [1, 100]]}]}, "measures"),
        ({"measures": [{"key": "stickiness", "weight": 1, "breakpoints": [[0, 0], [1, 900]]}]}, "measures"),
    ],
)
def test_scorecard_bad_input_names_the_field(api_as, card, body, field):
    response = api_as("admin").post(SCORECARDS, _scorecard_body(**body), format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"], response.json()
    assert response.json()["code"] == "invalid"


def test_default_scorecard_delete_is_refused(api_as, card):
    response = api_as("admin").delete(f"{SCORECARDS}{card.pk}/")
    assert response.status_code == 400
    assert "is_default" in response.json()["fields"]


def test_recompute_history_is_queued(api_as, card, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as("admin").post(f"{SCORECARDS}{card.pk}/recompute-history/")
    assert response.status_code == 202
    assert account.health_snapshots.filter(source="history").count() == 180


@pytest.mark.parametrize("n", [1, 20])
def test_list_query_counts_are_fixed(api_as, card, csm, n, django_assert_num_queries):
    for i in range(n):
        MeasureFactory(scorecard=ScorecardFactory(name=f"S{i}"))
        account = AccountFactory(owner=csm)
        services.override_create(account=account, band="red", reason="x", expires_on=timezone.localdate(), user=csm)
        services.sentiment_set(account=account, sentiment="red", user=csm)
    services.health_recompute()
    client = api_as("viewer")
    # count, scorecards, their measures and segments (prefetches)
    with django_assert_num_queries(4):
        assert client.get(SCORECARDS).status_code == 200
    # count, current rows (+account, scorecard, override, override creator)
    with django_assert_num_queries(2):
        assert len(client.get(CURRENT).json()["results"]) == n
    # count, snapshots
    with django_assert_num_queries(2):
        assert len(client.get(SNAPSHOTS).json()["results"]) == n
    # count, overrides (+account, owner, creator, ender)
    with django_assert_num_queries(2):
        assert len(client.get(OVERRIDES).json()["results"]) == n
    # count, pulses (+account, set_by)
    with django_assert_num_queries(2):
        assert len(client.get(SENTIMENT).json()["results"]) == n


def test_current_and_snapshot_filters(api_as, account):
    client = api_as("viewer")
    body = client.get(CURRENT, {"band": "red"}).json()
    assert [r["account"] for r in body["results"]] == [account.pk]
    assert body["results"][0]["score"] == 30.0 and body["results"][0]["shown_band"] == "red"
    assert client.get(CURRENT, {"band": "green"}).json()["count"] == 0
    assert client.get(CURRENT, {"band": "purple"}).status_code == 400
    body = client.get(SNAPSHOTS, {"account": account.pk}).json()
    assert body["results"][0]["breakdown"]["active_users_30d"]["value"] == 3.0
    assert client.get(SNAPSHOTS, {"since": "not-a-date"}).status_code == 400


def test_csm_overrides_through_the_api(api_as, account):
    today = timezone.localdate()
    client = api_as("csm")
    body = {"account": account.pk, "band": "green", "reason": "Renewal signed", "expires_on": str(today)}
    response = client.post(OVERRIDES, body, format="json")
    assert response.status_code == 201 and response.json()["is_active"] is True
    response = client.post(OVERRIDES, {**body, "band": "yellow"}, format="json")
    assert response.status_code == 400 and "replace" in response.json()["fields"]
    current = client.get(CURRENT).json()["results"][0]
    assert current["shown_band"] == "green" and current["band"] == "red"
    assert current["override"]["reason"] == "Renewal signed"
    override_id = HealthOverride.objects.get().pk
    assert api_as("viewer").post(f"{OVERRIDES}{override_id}/end/").status_code == 403
    response = client.post(f"{OVERRIDES}{override_id}/end/")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert client.post(f"{OVERRIDES}{override_id}/end/").status_code == 400


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"band": "blue"}, "band"),
        ({"expires_on": "2000-01-01"}, "expires_on"),
        ({"expires_on": "soon"}, "expires_on"),
        ({"account": 999999}, "account"),
    ],
)
def test_override_bad_input(api_as, account, change, field):
    body = {"account": account.pk, "band": "green", "reason": "x", "expires_on": str(timezone.localdate()), **change}
    response = api_as("csm").post(OVERRIDES, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_override_refused_for_wrong_role(api_as, account, other_csm):
    body = {"account": account.pk, "band": "green", "reason": "x", "expires_on": str(timezone.localdate())}
    assert api_as("viewer").post(OVERRIDES, body, format="json").status_code == 403
    client = APIClient()
    client.force_authenticate(other_csm)
    assert client.post(OVERRIDES, body, format="json").status_code == 403
    assert client.post(SENTIMENT, {"account": account.pk, "sentiment": "red"}, format="json").status_code == 403


def test_sentiment_through_the_api(api_as, account, django_capture_on_commit_callbacks):
    client = api_as("csm")
    assert client.post(SENTIMENT, {"account": account.pk, "sentiment": "pink"}, format="json").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SENTIMENT, {"account": account.pk, "sentiment": "green"}, format="json")
    assert response.status_code == 201
    # 3 users → 30 points; the card has no sentiment measure, so the score stays; the recompute ran.
    assert account.health_snapshots.count() == 1
    assert api_as("viewer").post(SENTIMENT, {"account": account.pk, "sentiment": "red"}).status_code == 403
