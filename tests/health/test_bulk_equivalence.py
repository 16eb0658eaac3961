"""The full recompute (compiled scorecards, COPY writes) and the single-account recompute give the same scores,
bands, breakdowns and trends; the compiled scorer gives exactly what ``scoring.score`` gives."""

import datetime as dt
import json
import random

import pytest
from django.utils import timezone

from accounts.models import Tier
from events.models import AccountDailyEvent, KeyFeature
from health import bulk, services
from health.compiled import CompiledScorecard
from health.engine import compile_scorecard
from health.models import AccountHealth, HealthSnapshot, Interpolation, MissingPolicy, Scorecard, SentimentPulse
from health.scoring import MeasureSpec, score
from support.models import Ticket
from tests.factories import AccountFactory, ContractFactory
from tests.health.factories import MeasureFactory, ScorecardFactory, add_users

pytestmark = pytest.mark.django_db

DUMPS = json.JSONEncoder(separators=(",", ":")).encode


def _random_specs(rnd: random.Random) -> list[MeasureSpec]:
    specs = []
    for i in range(rnd.randint(1, 8)):
        xs = sorted(rnd.sample(range(-60, 200), rnd.randint(2, 4)))
        ys = sorted(rnd.uniform(0, 100) for _ in xs)
        if rnd.random() < 0.5:
            ys.reverse()  # lower is better
        weight = rnd.choice([1, 3, 5, 0.5, 2.25, 1e-7, 15.0, 1000])
        interpolation = rnd.choice([Interpolation.LINEAR, Interpolation.STEP])
        specs.append(MeasureSpec(f"m{i}", weight, tuple(zip(xs, ys, strict=True)), interpolation))
    return specs


def _random_value(rnd: random.Random) -> float | int | None:
    kind = rnd.random()
    if kind < 0.25:
        return None
    if kind < 0.45:
        return float(rnd.randint(-80, 250))  # integral, on or between breakpoints
    if kind < 0.5:
        return rnd.randint(0, 30)  # an int from a measure that does not convert
    return rnd.uniform(-100, 300)


@pytest.mark.parametrize("policy", [MissingPolicy.EXCLUDE, MissingPolicy.ZERO])
def test_compiled_scorecard_matches_score(policy):
    rnd = random.Random(15)
    for _ in range(300):
        specs = _random_specs(rnd)
        compiled = CompiledScorecard(1, specs, [None] * len(specs), policy)
        for _ in range(20):
            values = [_random_value(rnd) for _ in specs]
            total, breakdown = score(specs, values, policy)
            assert compiled.score_json(values) == (total, DUMPS(breakdown)), (specs, values)


def _varied_accounts(today: dt.date, n: int = 24) -> list[int]:
    """Accounts covering every measure's cases: no data at all, usage in one period or both, tickets open and
    solved, contracts starting or ending, old and new pulses, touchpoints before and after the day."""
    rnd = random.Random(7)
    now = timezone.now()
    KeyFeature.objects.create(name="A", event_name="kf_a")
    KeyFeature.objects.create(name="B", event_name="kf_b")
    tiers = [Tier.SMB, Tier.MID_MARKET, Tier.ENTERPRISE]
    ids = []
    for i in range(n):
        account = AccountFactory(tier=tiers[i % 3])
        ids.append(account.id)
        if i % 6 == 0:
            continue  # nothing at all
        for ago in rnd.sample(range(60), rnd.randint(0, 4)):
            add_users(account, users=rnd.randint(1, 12), day=today - dt.timedelta(days=ago), events=rnd.randint(1, 9))
        for event in rnd.sample(["kf_a", "kf_b", "other"], rnd.randint(0, 3)):
            AccountDailyEvent.objects.create(account=account, day=today - dt.timedelta(days=rnd.randint(0, 40)),
                                             event=event, count=rnd.randint(1, 5))  # fmt: skip
        for _ in range(rnd.randint(0, 2)):
            start = today - dt.timedelta(days=rnd.randint(0, 400))
            ContractFactory(account=account, seats=rnd.randint(0, 30), arr=rnd.choice([0, 1200, 12345.67, 50000]),
                            start_date=start, end_date=start + dt.timedelta(days=rnd.randint(30, 700)))  # fmt: skip
        for t in range(rnd.randint(0, 4)):
            opened = now - dt.timedelta(days=rnd.randint(0, 120), hours=rnd.randint(0, 23))
            solved = rnd.random() < 0.5
            Ticket.objects.create(
                account=account, external_id=f"eq-{i}-{t}", status="solved" if solved else "open",
                is_escalated=rnd.random() < 0.3, opened_at=opened,
                first_response_at=opened + dt.timedelta(minutes=rnd.randint(5, 4000)),
                solved_at=opened + dt.timedelta(days=1) if solved else None,
            )  # fmt: skip
        if rnd.random() < 0.6:
            SentimentPulse.objects.create(account=account, sentiment=rnd.choice(["red", "yellow", "green"]),
                                          set_at=now - dt.timedelta(days=rnd.randint(0, 500)))  # fmt: skip
        if rnd.random() < 0.7:
            account.last_touchpoint_at = now - dt.timedelta(days=rnd.randint(-2, 120))
            account.save()
    healthy = AccountFactory(tier=Tier.SMB, last_touchpoint_at=now - dt.timedelta(days=3))  # a green one
    for ago in range(0, 60, 2):
        add_users(healthy, users=40 if ago < 30 else 20, day=today - dt.timedelta(days=ago), events=5)
    for event in ("kf_a", "kf_b"):
        AccountDailyEvent.objects.create(account=healthy, day=today, event=event, count=4)
    ContractFactory(account=healthy, seats=45, end_date=today + dt.timedelta(days=200))
    SentimentPulse.objects.create(account=healthy, sentiment="green", set_at=now)
    return [*ids, healthy.id]


CURRENT = ("account_id", "scorecard_id", "score", "band", "previous_score", "previous_band", "trend", "fingerprint",
           "override_id")  # fmt: skip


def _state(ids: list[int]) -> dict:
    snaps = HealthSnapshot.objects.filter(account_id__in=ids).order_by("account_id", "id")
    current = AccountHealth.objects.filter(account_id__in=ids).order_by("account_id")
    return {
        "snapshots": [(s.account_id, s.scorecard_id, s.as_of, s.score, s.band, s.breakdown, s.source) for s in snaps],
        "current": list(current.values_list(*CURRENT)),
    }


def test_bulk_and_single_account_paths_give_identical_results(monkeypatch):
    today = timezone.localdate()
    # The migration's default scorecard (13 measures) plus a tier scorecard scoring missing data as zero, in steps.
    assert Scorecard.objects.get(is_default=True).measures.count() == 13
    tier_card = ScorecardFactory(tiers=[Tier.ENTERPRISE], missing_policy=MissingPolicy.ZERO, yellow_from=30)
    for key, weight in [("active_users_7d", 2), ("escalations", 1.5), ("latest_nps", 1), ("csm_sentiment", 3)]:
        MeasureFactory(scorecard=tier_card, key=key, weight=weight, interpolation=Interpolation.STEP,
                       breakpoints=[[0, 0], [1, 40], [5, 80], [50, 100]])  # fmt: skip
    ids = _varied_accounts(today)

    def recompute_each():
        for account_id in ids:
            services.health_recompute(account_ids=[account_id])

    def recompute_all():
        monkeypatch.setattr(bulk, "COPY_FROM", 1)  # the COPY writes of a large recompute
        services.health_recompute()
        monkeypatch.undo()

    states = []
    for first in (recompute_all, recompute_each):
        HealthSnapshot.objects.all().delete()
        AccountHealth.objects.all().delete()
        first()
        # A second pass the same day: the fingerprints match, so nothing new is written; trends stay.
        (recompute_each if first is recompute_all else recompute_all)()
        states.append(_state(ids))
    bulk_first, single_first = states
    assert len(bulk_first["snapshots"]) == len(ids) and len(bulk_first["current"]) == len(ids)
    assert {row[3] for row in bulk_first["current"]} >= {"red", "yellow", "green"}  # a varied set indeed
    assert bulk_first["snapshots"] == single_first["snapshots"]
    assert bulk_first["current"] == single_first["current"]


def test_compiled_scorecards_are_reused_until_the_scorecard_changes(no_scorecards):
    card = ScorecardFactory(is_default=True)
    measure = MeasureFactory(scorecard=card, key="active_users_30d", weight=2, breakpoints=[[0, 0], [10, 100]])
    MeasureFactory(scorecard=card, key="open_tickets", weight=1, breakpoints=[[0, 100], [4, 0]])

    def compiled():
        return compile_scorecard(Scorecard.objects.prefetch_related("measures").get(pk=card.pk))

    first = compiled()
    assert compiled() is first  # an event-driven recompute does not compile again
    assert first.score_json([5.0, 2.0])[0] == round((50 * 2 + 50) / 3, 1)
    measure.weight = 1
    measure.save()
    changed = compiled()
    assert changed is not first and changed.score_json([5.0, 2.0])[0] == 50.0
    card.missing_policy = MissingPolicy.ZERO
    card.save()
    assert compiled().score_json([None, 2.0])[0] == 25.0  # missing counts as 0 points now
