"""The recompute against the database: hand-computed scores, measures, signals, query counts, tiers, history."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account, Tier
from accounts.signals import account_changed
from events.models import AccountDailyEvent, AccountDailyUser, KeyFeature
from health import services
from health.engine import compute
from health.measures import MEASURES
from health.models import AccountHealth, HealthOverride, HealthSnapshot, MissingPolicy, Scorecard, SentimentPulse
from health.signals import health_changed_many
from support.models import Ticket
from tests.factories import AccountFactory, ContractFactory
from tests.health.factories import MeasureFactory, ScorecardFactory, add_users
from timeline.models import EntryKind, TimelineEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def card(no_scorecards):
    """Users 30d (weight 3, 0→0 / 10→100), open tickets (weight 1, 0→100 / 4→0), CSM sentiment (weight 1)."""
    card = ScorecardFactory(name="Hand", is_default=True)
    MeasureFactory(scorecard=card, key="active_users_30d", weight=3, breakpoints=[[0, 0], [10, 100]])
    MeasureFactory(scorecard=card, key="open_tickets", weight=1, breakpoints=[[0, 100], [4, 0]], direction="lower")
    MeasureFactory(scorecard=card, key="csm_sentiment", weight=1, breakpoints=[[0, 0], [100, 100]])
    return card


def _tickets(account, n, *, escalated=False):
    for i in range(n):
        Ticket.objects.create(
            account=account, external_id=f"T{account.pk}-{i}-{Ticket.objects.count()}", is_escalated=escalated,
            opened_at=timezone.now() - dt.timedelta(days=1),
        )  # fmt: skip


@pytest.fixture
def account(card, today):
    account = AccountFactory()
    add_users(account, users=6, day=today)  # 6 users → 60 points
    _tickets(account, 2)  # 2 open tickets → 50 points
    return account


def test_hand_computed_score_missing_excluded(account):
    # No pulse: sentiment excluded; (60 x 3 + 50 x 1) / 4 = 57.5 → yellow.
    services.health_recompute(account_ids=[account.id])
    health = AccountHealth.objects.get(account=account)
    assert (health.score, health.band) == (57.5, "yellow")
    snap = HealthSnapshot.objects.get(account=account)
    # [raw value, points, weight, contribution]
    assert snap.breakdown["active_users_30d"] == [6.0, 60.0, 3.0, 45.0]
    assert snap.breakdown["csm_sentiment"] == [None, None, 1.0, None]


def test_hand_computed_score_missing_as_zero(account, card):
    # Sentiment scores 0 at weight 1: (180 + 50 + 0) / 5 = 46.0; with yellow from 50 that is red.
    Scorecard.objects.filter(pk=card.pk).update(missing_policy=MissingPolicy.ZERO, yellow_from=50)
    services.health_recompute(account_ids=[account.id])
    health = AccountHealth.objects.get(account=account)
    assert (health.score, health.band) == (46.0, "red")


def test_sentiment_pulse_counts(account, csm):
    # Green pulse → 100 points: (180 + 50 + 100) / 5 = 66.0
    services.sentiment_set(account=account, sentiment="green", user=csm)
    services.health_recompute(account_ids=[account.id])
    assert AccountHealth.objects.get(account=account).score == 66.0


def test_band_change_emits_one_batch_and_one_timeline_line(account, today, django_capture_on_commit_callbacks):
    batches = []
    health_changed_many.connect(lambda sender, changes, **kw: batches.append(changes), weak=False, dispatch_uid="t")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.health_recompute(account_ids=[account.id])
        assert batches == [
            [{"account_id": account.id, "old_band": None, "new_band": "yellow", "old_score": None, "new_score": 57.5}]
        ]
        with django_capture_on_commit_callbacks(execute=True):
            services.health_recompute(account_ids=[account.id])
            services.health_recompute()
        assert len(batches) == 1  # same band: no signal
        assert not TimelineEntry.objects.filter(kind=EntryKind.HEALTH).exists()  # a first score is not a change
        AccountDailyUser.objects.filter(account=account).delete()
        add_users(account, users=10, day=today)  # (300 + 50) / 4 = 87.5 → green
        with django_capture_on_commit_callbacks(execute=True):
            services.health_recompute(account_ids=[account.id])
        assert len(batches) == 2 and len(batches[1]) == 1
        change = batches[1][0]
        assert change["old_band"] == "yellow" and change["new_band"] == "green"
        assert change["old_score"] == 57.5 and change["new_score"] == 87.5
        health = AccountHealth.objects.get(account=account)
        assert (health.previous_score, health.trend) == (57.5, "up")
        line = TimelineEntry.objects.get(kind=EntryKind.HEALTH)  # written by health through timeline.services
        assert (line.account_id, line.title) == (account.id, "Health: yellow → green")
    finally:
        health_changed_many.disconnect(dispatch_uid="t")


def test_unchanged_recompute_writes_no_second_snapshot_the_same_day(account):
    services.health_recompute(account_ids=[account.id])
    services.health_recompute(account_ids=[account.id])
    assert HealthSnapshot.objects.filter(account=account).count() == 1


def _full_recompute_queries(n, today):
    for i in range(n):
        account = AccountFactory(tier=[Tier.SMB, Tier.ENTERPRISE][i % 2])
        add_users(account, users=i % 4 + 1, day=today)
        _tickets(account, 1)
        ContractFactory(account=account)
    with CaptureQueriesContext(connection) as ctx:
        stats = services.health_recompute()
    assert stats.scored == Account.objects.count()
    return len(ctx.captured_queries)


def test_full_recompute_query_count_does_not_grow(db, today):
    # The installed default scorecard uses every source; key features make the features source run its query.
    KeyFeature.objects.create(name="Reports", event_name="report_run")
    two = _full_recompute_queries(2, today)
    AccountHealth.objects.all().delete()
    twenty = _full_recompute_queries(18, today)  # 20 accounts in all
    assert two == twenty


def test_scorecard_assignment_by_tier(no_scorecards):
    default = ScorecardFactory(name="Default", is_default=True)
    MeasureFactory(scorecard=default)
    enterprise = ScorecardFactory(name="Enterprise", tiers=[Tier.ENTERPRISE])
    MeasureFactory(scorecard=enterprise)
    smb = AccountFactory(tier=Tier.SMB)
    ent = AccountFactory(tier=Tier.ENTERPRISE)
    services.health_recompute()
    assert AccountHealth.objects.get(account=smb).scorecard == default
    assert AccountHealth.objects.get(account=ent).scorecard == enterprise


def test_no_scorecard_no_score(no_scorecards):
    AccountFactory()
    assert services.health_recompute().scored == 0


def test_every_measure_raw_value(no_scorecards, today):
    card = ScorecardFactory(is_default=True)
    for key, mdef in MEASURES.items():
        MeasureFactory(scorecard=card, key=key, breakpoints=mdef.breakpoints)
    now = timezone.now()
    account = AccountFactory()
    add_users(account, users=4, day=today, events=5)
    add_users(account, users=10, day=today - dt.timedelta(days=10), events=1)
    add_users(account, users=5, day=today - dt.timedelta(days=40), events=3)
    ContractFactory(account=account, seats=20, recurring_amount=12000, arr=12000,
                    start_date=today - dt.timedelta(days=100), end_date=today + dt.timedelta(days=50))  # fmt: skip
    ContractFactory(account=account, seats=0, recurring_amount=6000, arr=6000,
                    start_date=today - dt.timedelta(days=30), end_date=today + dt.timedelta(days=300))  # fmt: skip
    KeyFeature.objects.create(name="A", event_name="kf_a")
    KeyFeature.objects.create(name="B", event_name="kf_b")
    AccountDailyEvent.objects.create(account=account, day=today - dt.timedelta(days=5), event="kf_a", count=3)
    AccountDailyEvent.objects.create(account=account, day=today, event="other", count=3)
    opened = now - dt.timedelta(days=2)
    hour, day = dt.timedelta(hours=1), dt.timedelta(days=1)
    # (opened days ago, first response after hours, solved, escalated)
    for n, (ago, hours, solved, escalated) in enumerate(
        [(2, 4, False, True), (20, 2, True, False), (100, 50, True, True)]
    ):
        opened = now - ago * day
        Ticket.objects.create(
            account=account, external_id=f"t{n}", status="solved" if solved else "open", is_escalated=escalated,
            opened_at=opened, first_response_at=opened + hours * hour, solved_at=opened + day if solved else None,
        )  # fmt: skip
    account.last_touchpoint_at = now - dt.timedelta(days=12)
    account.save()
    SentimentPulse.objects.create(account=account, sentiment="yellow", set_at=now)

    (result,) = compute(as_of=today, account_ids=[account.id])
    values = {k: v[0] for k, v in result.breakdown.items()}
    assert values == {
        "active_users_7d": 4.0,
        "active_users_30d": 10.0,
        "stickiness": 4.67,  # DAU = 14 user-days / 30 = 0.467; ÷ MAU 10 = 4.67%
        "license_utilization": 50.0,  # 10 active users ÷ 20 seats
        "key_feature_adoption": 50.0,  # 1 of 2 key features
        "days_since_last_activity": 0.0,
        "usage_change": 100.0,  # 30 events vs 15 in the previous 30 days
        "open_tickets": 1.0,
        "escalations": 1.0,  # t3 is older than 90 days
        "avg_response_hours": 3.0,  # (4 + 2) / 2
        "days_since_touchpoint": 12.0,
        "days_to_renewal": 50.0,
        "arr_change_90d": 50.0,  # 18,000 now vs 12,000 90 days ago
        "csm_sentiment": 50.0,
        # the surveys group (tests/surveys/test_integration.py feeds it answers)
        "latest_nps": None,
        "nps_trend": None,
        "survey_response_rate": None,
    }


def test_account_without_any_data(no_scorecards, today):
    card = ScorecardFactory(is_default=True)
    for key, mdef in MEASURES.items():
        MeasureFactory(scorecard=card, key=key, breakpoints=mdef.breakpoints)
    account = AccountFactory()
    (result,) = compute(as_of=today, account_ids=[account.id])
    missing = {k for k, v in result.breakdown.items() if v[0] is None}
    assert missing == {
        "stickiness", "license_utilization", "key_feature_adoption", "usage_change", "avg_response_hours",
        "days_since_touchpoint", "days_to_renewal", "arr_change_90d", "csm_sentiment", "latest_nps", "nps_trend",
        "survey_response_rate",
    }  # fmt: skip
    assert result.breakdown["days_since_last_activity"][0] == 60.0  # nothing in the 60 days read
    assert result.breakdown["active_users_30d"][0] == 0.0


def test_override_shown_then_expires(account, csm, today):
    services.health_recompute(account_ids=[account.id])
    override = services.override_create(account=account, band="red", reason="Champion left", expires_on=today, user=csm)
    health = AccountHealth.objects.select_related("override").get(account=account)
    assert (health.band, health.shown_band, health.active_override) == ("yellow", "red", override)
    # The next day the override has expired: it stops applying at once, and the recompute drops it.
    HealthOverride.objects.filter(pk=override.pk).update(expires_on=today - dt.timedelta(days=1))
    health = AccountHealth.objects.select_related("override").get(account=account)
    assert health.shown_band == "yellow"
    services.health_recompute(account_ids=[account.id])
    health = AccountHealth.objects.get(account=account)
    assert health.override_id is None and health.score == 57.5


def test_override_never_silently_replaced(account, csm, manager, today):
    first = services.override_create(account=account, band="red", reason="Risk", expires_on=today, user=csm)
    with pytest.raises(services.ValidationError) as exc:
        services.override_create(account=account, band="green", reason="Fine", expires_on=today, user=manager)
    assert "replace" in exc.value.message_dict
    second = services.override_create(
        account=account, band="green", reason="Fine", expires_on=today, user=manager, replace=True
    )
    first.refresh_from_db()
    assert first.ended_at is not None and first.ended_by == manager
    assert second.ended_at is None


@pytest.mark.parametrize(
    ("band", "reason", "days", "field"),
    [
        ("red", "  ", 1, "reason"),
        ("red", "x", -1, "expires_on"),
        ("red", "x", 400, "expires_on"),
        ("pink", "x", 1, "band"),
    ],
)
def test_override_bad_input(account, csm, today, band, reason, days, field):
    with pytest.raises(services.ValidationError) as exc:
        services.override_create(
            account=account, band=band, reason=reason, expires_on=today + dt.timedelta(days=days), user=csm
        )
    assert field in exc.value.message_dict


def test_history_recompute_from_rollups(card, today):
    account = AccountFactory()
    for back, users in ((3, 2), (2, 4), (1, 8)):
        add_users(account, users=users, day=today - dt.timedelta(days=back))
    # Only users count (no tickets → 100 points for open tickets, sentiment excluded):
    # (u x 10 x 3 + 100) / 4 with u distinct users so far: 2 → 40.0, 4 → 55.0, 8 → 85.0
    assert services.health_recompute_history(scorecard_id=card.id, days=3, today=today) == 3
    assert services.health_recompute_history(scorecard_id=card.id, days=3, today=today) == 3  # idempotent
    snaps = HealthSnapshot.objects.filter(account=account).order_by("as_of")
    assert [(s.as_of, s.score, s.source) for s in snaps] == [
        (today - dt.timedelta(days=3), 40.0, "history"),
        (today - dt.timedelta(days=2), 55.0, "history"),
        (today - dt.timedelta(days=1), 85.0, "history"),
    ]
    assert not AccountHealth.objects.exists()  # history does not touch the current score


def test_account_changed_signal_recomputes_after_commit(account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        account_changed.send(sender=None, account_ids=[account.id])
    assert AccountHealth.objects.get(account=account).score == 57.5


@pytest.mark.parametrize("copy_from", [0, 10_000])
def test_bulk_write_paths_agree(account, today, monkeypatch, copy_from):
    """COPY (PostgreSQL, forced with copy_from=0) and INSERT paths write the same rows and keep changed_at."""
    monkeypatch.setattr("health.bulk.COPY_FROM", copy_from)
    services.health_recompute()
    first = AccountHealth.objects.get(account=account)
    assert (first.score, first.band, first.changed_at is not None) == (57.5, "yellow", True)
    services.health_recompute(as_of=today + dt.timedelta(days=1))  # same score, new day: new snapshot
    again = AccountHealth.objects.get(account=account)
    assert again.changed_at == first.changed_at and again.computed_at > first.computed_at
    AccountDailyUser.objects.filter(account=account).delete()
    add_users(account, users=10, day=today)
    services.health_recompute()
    moved = AccountHealth.objects.get(account=account)
    assert (moved.score, moved.previous_score, moved.previous_band, moved.trend) == (87.5, 57.5, "yellow", "up")
    assert moved.changed_at > first.changed_at
    snaps = list(HealthSnapshot.objects.filter(account=account).order_by("id").values_list("score", "breakdown"))
    assert [s for s, _b in snaps] == [57.5, 57.5, 87.5]
    assert snaps[-1][1]["active_users_30d"] == [10.0, 100.0, 3.0, 75.0]


def test_account_deleted_during_recompute_is_skipped(card, today, monkeypatch):
    """Regression: an account deleted between the recompute's reads and its writes broke a foreign key and
    aborted the whole recompute (a scorecard change silently not applied)."""
    from health import engine

    kept, doomed = AccountFactory(), AccountFactory()
    real_prepare = engine.prepare

    def prepare_then_delete(**kwargs):
        prepared = real_prepare(**kwargs)
        Account.objects.filter(pk=doomed.pk).delete()  # deleted by a user while the scoring ran
        return prepared

    monkeypatch.setattr(services, "prepare", prepare_then_delete)
    stats = services.health_recompute()
    assert stats.scored == 1
    assert list(AccountHealth.objects.values_list("account_id", flat=True)) == [kept.pk]


def test_recompute_task_retries_an_integrity_error():
    from django.db import IntegrityError

    from health.tasks import RETRY

    assert IntegrityError in RETRY["autoretry_for"]
