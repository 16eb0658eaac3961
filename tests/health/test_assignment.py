"""Scorecard assignment by segment: segments first, then tiers, then the default; fixed query counts."""

import datetime as dt

import pytest

from health import engine
from health.assignment import account_q, segment_claims
from health.models import Scorecard
from health.scorecards import scorecard_save
from segments.models import Segment
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

MEASURE = {"key": "days_to_renewal", "weight": 1, "direction": "higher", "interpolation": "linear",
           "breakpoints": [[0, 0], [180, 100]]}  # fmt: skip


def _segment(name, region):
    rules = {"op": "and", "conditions": [{"field": "region", "operator": "eq", "value": region}]}
    return Segment.objects.create(name=name, rules=rules)


@pytest.fixture
def cards():
    Scorecard.objects.all().delete()
    default = scorecard_save(data={"name": "Default", "is_default": True}, measures=[MEASURE])
    enterprise = scorecard_save(data={"name": "Enterprise", "tiers": ["enterprise"]}, measures=[MEASURE])
    emea = scorecard_save(data={"name": "EMEA", "segments": [_segment("EMEA", "EMEA")]}, measures=[MEASURE])
    return default, enterprise, emea


def test_segment_beats_tier_and_default(cards):
    default, enterprise, emea = cards
    in_emea = AccountFactory(tier="enterprise", region="EMEA")
    ent = AccountFactory(tier="enterprise", region="APAC")
    smb = AccountFactory(tier="smb", region="APAC")
    results = {r.account_id: r.scorecard for r in engine.compute(as_of=dt.date.today())}
    assert results == {in_emea.pk: emea, ent.pk: enterprise, smb.pk: default}

    # The history delete filter agrees with the assignment.
    from accounts.models import Account

    loaded = engine.load_scorecards()
    for card in loaded:
        scored = set(Account.objects.filter(account_q(card, loaded)).values_list("id", flat=True))
        assert scored == {a for a, c in results.items() if c.id == card.id}, card.name


def test_first_scorecard_wins_when_two_segments_claim(cards):
    emea = cards[2]
    other = scorecard_save(
        data={"name": "Zulu EMEA too", "segments": [_segment("EMEA again", "EMEA")]}, measures=[MEASURE]
    )
    account = AccountFactory(region="EMEA")
    claims = segment_claims(engine.load_scorecards())
    assert claims[account.pk] == emea and claims[account.pk] != other


@pytest.mark.parametrize("n", [2, 20])
def test_claims_cost_one_query_per_segment(cards, n, django_assert_num_queries):
    AccountFactory.create_batch(n, region="EMEA")
    loaded = engine.load_scorecards()
    with django_assert_num_queries(1):  # the EMEA segment's members
        claims = segment_claims(loaded)
    assert len(claims) == n


def test_scorecard_api_sets_segments(api_as, cards):
    enterprise = cards[1]
    segment = _segment("APAC", "APAC")
    response = api_as("admin").patch(f"/api/v1/health/scorecards/{enterprise.pk}/", {"segments": [segment.pk]})
    assert response.status_code == 200, response.content
    assert list(enterprise.segments.all()) == [segment]
    response = api_as("admin").patch(f"/api/v1/health/scorecards/{enterprise.pk}/", {"segments": [999999]})
    assert response.status_code == 400
    assert "segments" in response.json()["fields"]
