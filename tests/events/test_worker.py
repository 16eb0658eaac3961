"""Through a real Redis broker to a real Celery worker: an ingest ends with refreshed rollups."""

import os
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connection

from csp.celery import QUEUES, app
from events.models import AccountDailyEvent, AccountDailyUser, UsageMark
from tests.events.test_tracking import track
from tests.factories import AccountFactory
from tests.workers import purge_queues

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: a real Redis for the worker test"),
]


def _wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _close_worker_connection(**kwargs):
    connection.close()  # runs in the worker thread: the test database can be dropped afterwards


def test_worker_refreshes_rollups_after_ingest(transactional_db, post_v1):
    account = AccountFactory(external_id="ACME-1")
    purge_queues()  # leftovers of earlier runs on this Redis db are not ours
    task_postrun.connect(_close_worker_connection, weak=False, dispatch_uid="events-worker-test")
    try:
        _ingest_and_wait(account, post_v1)
    finally:
        task_postrun.disconnect(dispatch_uid="events-worker-test")
    assert AccountDailyEvent.objects.get(account=account).count == 50
    assert AccountDailyUser.objects.filter(account=account).count() == 3


def _ingest_and_wait(account, post_v1):
    with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=10, queues=QUEUES):
        batch = [track(mid=f"m{i}", user=f"u{i % 3}") for i in range(50)]
        response = post_v1("batch", {"batch": batch})
        assert response.status_code == 200
        assert _wait_for(lambda: not UsageMark.objects.filter(account=account).exists())
