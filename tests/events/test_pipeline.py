"""Marks, claims and the refresh task: one task per account burst, broker outages, idempotency."""

import datetime as dt
from unittest import mock

import pytest
from django.db import connection, transaction
from kombu.exceptions import OperationalError as BrokerError

from accounts.models import Contact
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
    # PostgreSQL refreshes set-based (_refresh_many_pg), other databases one account at a time (rollups_refresh).
    step = "_refresh_many_pg" if connection.vendor == "postgresql" else "rollups_refresh"
    real_refresh = getattr(pipeline, step)

    def refresh_and_receive_more(*args, **kwargs):
        result = real_refresh(*args, **kwargs)
        UsageMark.objects.create(account=account, since=first, created_at=first)  # an ingest commits meanwhile
        return result

    with (
        mock.patch.object(pipeline, step, side_effect=refresh_and_receive_more),
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


def test_one_refresh_takes_on_the_other_waiting_accounts(
    post_v1, account, django_capture_on_commit_callbacks, django_assert_num_queries
):
    # Coalescing: the first task refreshes every marked account; the others' queued tasks then find nothing.
    other = AccountFactory(external_id="ACME-2")
    with (
        mock.patch.object(refresh_usage, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        post_v1("batch", {"batch": [track(mid="a1", user="u1"), track(mid="a2", user="u2")]})
        post_v1("batch", {"batch": [track(mid="b1", user="u1", group="ACME-2")]})
    assert apply_async.call_count == 2  # one task per claim, as before
    with mock.patch.object(pipeline, "notify") as notify:
        assert refresh_usage(account_ids=[account.id]) == sorted([account.id, other.id])
    notify.assert_called_once_with(sorted([account.id, other.id]))  # one account_changed for the batch
    assert AccountDailyUser.objects.filter(account=other).count() == 1
    assert AccountDailyUser.objects.filter(account=account).count() == 2
    assert UsageClaim.objects.filter(account=other).exists()  # its task is still queued...
    with django_assert_num_queries(2):  # delete its claim; any mark left? (no transaction, no lock)
        assert refresh_usage(account_ids=[other.id]) == []  # ...and finds nothing left to do
    assert not UsageMark.objects.exists() and not UsageClaim.objects.exists()


def test_set_based_refresh_writes_what_the_per_account_refresh_writes(post_v1, django_capture_on_commit_callbacks):
    accounts = [AccountFactory(external_id=f"ACME-{n}") for n in range(3)]
    contacts = [ContactFactory(account=a, external_id=f"u-{a.external_id}") for a in accounts]
    batch = [
        track(mid=f"m{i}", user=f"u-ACME-{i % 3}" if i % 4 else "", group=f"ACME-{i % 3}", event=f"E{i % 2}",
              timestamp=f"2026-11-{10 + i % 5:02d}T10:00:00Z")
        for i in range(30)
    ]  # fmt: skip
    for message in batch:
        if not message["userId"]:
            message.pop("userId")
            message["anonymousId"] = "anon"
    with mock.patch.object(refresh_usage, "apply_async"), django_capture_on_commit_callbacks(execute=True):
        assert post_v1("batch", {"batch": batch}).status_code == 200
    ids = [a.id for a in accounts]

    def written():
        return (
            sorted(AccountDailyEvent.objects.values_list("account_id", "day", "event", "count")),
            sorted(AccountDailyUser.objects.values_list("account_id", "day", "user_key", "events")),
            sorted(Contact.objects.filter(pk__in=[c.pk for c in contacts]).values_list("pk", "last_seen_at")),
        )

    marks = list(UsageMark.objects.values_list("account_id", "since", "created_at"))
    pipeline.usage_refresh(account_ids=ids)
    whole = written()
    assert len(whole[0]) > 3 and all(seen for _pk, seen in whole[2])
    AccountDailyEvent.objects.all().delete()
    AccountDailyUser.objects.all().delete()
    Contact.objects.update(last_seen_at=None)
    UsageMark.objects.bulk_create([UsageMark(account_id=a, since=s, created_at=c) for a, s, c in marks])
    for account_id in ids:
        with transaction.atomic():
            since = pipeline._take_marks(account_id)
            pipeline.rollups_refresh(account_id=account_id, since_day=since.date())
    assert written() == whole


def test_the_refresh_recomputes_health_in_place_not_queued(post_v1, account, django_capture_on_commit_callbacks):
    # Queued on the default queue, the recompute (and the triggers after it) would wait behind every other one.
    from health.models import AccountHealth, HealthPending
    from health.tasks import health_recompute_accounts

    with mock.patch.object(refresh_usage, "apply_async"), django_capture_on_commit_callbacks(execute=True):
        post_v1("batch", {"batch": [track(mid="a1", user="u1")]})
    with mock.patch.object(health_recompute_accounts, "delay") as delay:
        refresh_usage(account_ids=[account.id])
    delay.assert_not_called()
    assert AccountHealth.objects.filter(account=account).exists()
    assert not HealthPending.objects.exists()


def test_a_failed_recompute_in_place_is_queued_for_the_retry(post_v1, account, django_capture_on_commit_callbacks):
    from health import services as health_services
    from health.models import HealthPending
    from health.tasks import health_recompute_accounts

    with mock.patch.object(refresh_usage, "apply_async"), django_capture_on_commit_callbacks(execute=True):
        post_v1("batch", {"batch": [track(mid="a1", user="u1")]})
    with (
        mock.patch.object(health_services, "health_recompute", side_effect=RuntimeError("scoring broke")),
        mock.patch.object(health_recompute_accounts, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        refresh_usage(account_ids=[account.id])
    delay.assert_called_once_with([account.id])
    assert HealthPending.objects.filter(account=account).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the set-based refresh is PostgreSQL's")
def test_a_mark_of_an_account_deleted_under_an_ingest_is_consumed_with_its_events(post_v1, account):
    """Marks carry no database foreign key: an ingest racing an account's deletion can leave a mark and events of
    a deleted account. The refresh consumes the mark and deletes those events (the cascade's work) instead of
    failing on the rollups' foreign key, and still refreshes the other accounts."""
    other = AccountFactory(external_id="ACME-2")
    assert post_v1("batch", {"batch": [track(mid="a1"), track(mid="b1", group="ACME-2")]}).status_code == 200
    gone_id = account.id
    with connection.cursor() as cursor:  # the deletion committed between the ingest's lookup and its commit
        cursor.execute("DELETE FROM accounts_account WHERE id = %s", [gone_id])
    assert UsageMark.objects.filter(account_id=gone_id).exists()
    assert sorted(pipeline.usage_refresh(account_ids=[gone_id, other.id])) == [other.id]
    assert not UsageMark.objects.exists()
    assert not Event.objects.filter(account_id=gone_id).exists()
    assert AccountDailyEvent.objects.get(account=other).count == 1
