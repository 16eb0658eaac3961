"""Event-driven recomputes coalesce: waiting accounts, one task per burst, one task takes every waiting account."""

import datetime as dt
from unittest import mock

import pytest
from django.db import OperationalError
from django.utils import timezone

from accounts.signals import account_changed
from health import services
from health.models import AccountHealth, HealthPending
from health.tasks import health_recompute_accounts
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_a_burst_of_changes_makes_one_task(django_capture_on_commit_callbacks):
    account = AccountFactory()
    with (
        mock.patch.object(health_recompute_accounts, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        for _ in range(5):
            account_changed.send(sender=None, account_ids=[account.id])
    delay.assert_called_once_with([account.id])  # the other four found it already waiting
    assert HealthPending.objects.filter(account=account).exists()
    assert health_recompute_accounts(account_ids=[account.id]) == 1
    assert AccountHealth.objects.filter(account=account).exists()
    assert not HealthPending.objects.exists()


def test_one_task_takes_every_waiting_account_and_the_others_find_nothing(django_capture_on_commit_callbacks):
    first, second = AccountFactory(), AccountFactory()
    with (
        mock.patch.object(health_recompute_accounts, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        account_changed.send(sender=None, account_ids=[first.id])
        account_changed.send(sender=None, account_ids=[second.id])
    assert delay.call_count == 2
    assert health_recompute_accounts(account_ids=[first.id]) == 2
    assert health_recompute_accounts(account_ids=[second.id]) == 0
    assert AccountHealth.objects.count() == 2


def test_a_failed_recompute_leaves_the_accounts_waiting_for_the_retry():
    account = AccountFactory()
    services._pending_add([account.id])
    with (
        mock.patch.object(services, "health_recompute", side_effect=OperationalError("gone")),
        pytest.raises(OperationalError),
    ):
        services.health_recompute_pending(account_ids=[account.id])
    assert HealthPending.objects.filter(account=account).exists()


def test_a_stale_waiting_account_is_enqueued_again_a_fresh_one_is_not():
    fresh, stale = AccountFactory(), AccountFactory()
    now = timezone.now()
    HealthPending.objects.create(account=fresh, queued_at=now)
    HealthPending.objects.create(account=stale, queued_at=now - services.STALE_PENDING - dt.timedelta(seconds=1))
    assert services._pending_add([fresh.id, stale.id]) == [stale.id]  # its task was lost: a new one is due
    assert HealthPending.objects.get(account=stale).queued_at > now - dt.timedelta(minutes=1)


def test_a_deleted_account_is_not_marked():
    account = AccountFactory()
    gone = account.id
    account.delete()
    assert services._pending_add([gone]) == []
