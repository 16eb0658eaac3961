"""Marks, claims and the refresh task: one task per account burst, broker outages, idempotency."""

import datetime as dt
from unittest import mock

import pytest
from kombu.exceptions import OperationalError as BrokerError

from events import pipeline
from events.models import AccountDailyEvent, AccountDailyUser, Event, UsageClaim, UsageMark
from events.tasks import refresh_usage, usage_sweep
from tests.events.test_tracking import track
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return AccountFactory(external_id="ACME-1")


def test_a_thousand_events_of_one_account_make_one_task(post_v1, account, django_capture_on_commit_callbacks):
    with (
        mock.patch.object(refresh_usage, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        for start in range(0, 1000, 100):
            batch = [track(mid=f"m{i}", user=f"u{i % 7}") for i in range(start, start + 100)]
            assert post_v1("batch", {"batch": batch}).status_code == 200
    assert apply_async.call_count == 1
    assert apply_async.call_args.kwargs["args"] == ([account.id],)
    assert UsageMark.objects.filter(account=account).count() == 10  # one per call, all waiting for the task
    assert UsageClaim.objects.filter(account=account).exists()
    refresh_usage(account_ids=[account.id])
    assert AccountDailyEvent.objects.get(account=account).count == 1000
    assert AccountDailyUser.objects.filter(account=account).count() == 7
    assert not UsageMark.objects.exists() and not UsageClaim.objects.exists()


def test_broker_down_still_accepts_and_the_sweep_catches_up(post_v1, account, django_capture_on_commit_callbacks):
    with (
        mock.patch.object(refresh_usage, "apply_async", side_effect=BrokerError("redis down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = post_v1("track", track())
    assert response.status_code == 200
    assert Event.objects.count() == 1
    assert UsageMark.objects.filter(account=account).exists()
    assert not UsageClaim.objects.exists()  # the claim was dropped, so the sweep may enqueue
    assert not AccountDailyEvent.objects.exists()
    assert usage_sweep() == 1  # in-process here: enqueues and runs the refresh
    assert AccountDailyEvent.objects.get(account=account).count == 1
    assert not UsageMark.objects.exists()


def test_sweep_reenqueues_stale_claims(account):
    UsageMark.objects.create(
        account=account, since=dt.datetime(2026, 11, 20, tzinfo=dt.UTC), created_at=dt.datetime.now(dt.UTC)
    )
    UsageClaim.objects.create(account=account, enqueued_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    with mock.patch.object(refresh_usage, "apply_async") as apply_async:
        assert pipeline.sweep() == [account.id]
    apply_async.assert_called_once()


def test_sweep_leaves_live_claims_alone(account):
    UsageMark.objects.create(
        account=account, since=dt.datetime(2026, 11, 20, tzinfo=dt.UTC), created_at=dt.datetime.now(dt.UTC)
    )
    UsageClaim.objects.create(account=account, enqueued_at=dt.datetime.now(dt.UTC))
    with mock.patch.object(refresh_usage, "apply_async") as apply_async:
        assert pipeline.sweep() == []
    apply_async.assert_not_called()


def test_sweep_releases_live_claims_when_the_broker_lost_its_queues(account):
    # Redis came back empty: the task of a claim made a minute ago is gone and would otherwise wait STALE_CLAIM.
    UsageMark.objects.create(
        account=account, since=dt.datetime(2026, 11, 20, tzinfo=dt.UTC), created_at=dt.datetime.now(dt.UTC)
    )
    UsageClaim.objects.create(account=account, enqueued_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    with (
        mock.patch.object(pipeline, "broker_lost_messages", return_value=True),
        mock.patch.object(refresh_usage, "apply_async") as apply_async,
    ):
        assert pipeline.sweep() == [account.id]
    apply_async.assert_called_once()
    assert apply_async.call_args.kwargs["args"] == ([account.id],)
    assert UsageClaim.objects.get(account=account).enqueued_at > dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)


def test_refresh_is_idempotent_and_recomputes_only_from_the_mark(post_v1, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_v1("batch", {"batch": [track(mid="a", timestamp="2026-11-01T10:00:00Z"), track(mid="b")]})
    before = sorted(AccountDailyEvent.objects.values_list("day", "count"))
    assert before == [(dt.date(2026, 11, 1), 1), (dt.date(2026, 11, 20), 1)]
    assert refresh_usage(account_ids=[account.id]) == []  # no mark left: nothing to do
    pipeline.mark_dirty({account.id: dt.datetime(2026, 11, 20, tzinfo=dt.UTC)})
    refresh_usage(account_ids=[account.id])
    assert sorted(AccountDailyEvent.objects.values_list("day", "count")) == before


def test_marks_arriving_during_a_refresh_get_a_follow_up(account):
    first = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    UsageMark.objects.create(account=account, since=first, created_at=first)
    real_refresh = pipeline.rollups_refresh

    def refresh_and_receive_more(**kwargs):
        real_refresh(**kwargs)
        UsageMark.objects.create(account=account, since=first, created_at=first)  # an ingest commits meanwhile

    with (
        mock.patch.object(pipeline, "rollups_refresh", side_effect=refresh_and_receive_more),
        mock.patch.object(refresh_usage, "apply_async") as apply_async,
    ):
        pipeline.usage_refresh(account_ids=[account.id])
    apply_async.assert_called_once_with(args=([account.id],), retry=False)
    assert UsageMark.objects.count() == 1


def test_last_seen_only_moves_forward(post_v1, account, django_capture_on_commit_callbacks):
    contact = ContactFactory(account=account, external_id="u1")
    with django_capture_on_commit_callbacks(execute=True):
        post_v1("track", track(mid="new", timestamp="2026-11-20T10:00:00Z"))
        post_v1("track", track(mid="old", timestamp="2026-10-01T10:00:00Z"))  # history import, older
    contact.refresh_from_db()
    assert contact.last_seen_at == dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)


def test_identify_and_group_do_not_count_as_activity(post_v1, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_v1("group", {"userId": "u9", "groupId": "ACME-1"})
        post_v1("identify", {"userId": "u9", "traits": {}})
    assert Event.objects.filter(account=account).count() == 2
    assert not AccountDailyUser.objects.exists()
