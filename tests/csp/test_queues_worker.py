"""Queues with real workers on a real Redis: routing puts each task on its queue, and a long task that Redis
redelivers while it still runs is not run a second time (and writes its snapshots once)."""

import os
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun, task_prerun, worker_init
from django.db import connections

from csp import celery as csp_celery
from csp.celery import SingleRunTask, app
from events.tasks import refresh_usage
from health import services as health_services
from health.models import HealthSnapshot, Measure, Scorecard, SnapshotSource
from health.tasks import health_recompute_history
from tests.factories import AccountFactory
from tests.workers import purge_queues

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: a real Redis for the worker test"),
]


def _wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def ran():
    """(task name, queue it was delivered from) of every task a worker starts, in order."""
    seen: list[tuple[str, str]] = []

    def record(sender=None, task=None, **kwargs):
        seen.append((task.name, (task.request.delivery_info or {}).get("routing_key")))

    def close(**kwargs):
        connections.close_all()  # in the worker's thread: the test database can be dropped afterwards

    purge_queues()
    task_prerun.connect(record, weak=False, dispatch_uid="queues-test-record")
    task_postrun.connect(close, weak=False, dispatch_uid="queues-test-close")
    yield seen
    task_prerun.disconnect(dispatch_uid="queues-test-record")
    task_postrun.disconnect(dispatch_uid="queues-test-close")
    purge_queues()


def test_history_recompute_goes_to_long_and_usage_refresh_to_ingest(transactional_db, ran):
    account = AccountFactory()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, queues=["long"]):
        health_recompute_history.delay(days=1)
        refresh_usage.delay([account.id])
        assert _wait_for(lambda: ("health.tasks.health_recompute_history", "long") in ran)
        time.sleep(1.0)  # time enough to (wrongly) take the usage refresh as well
    assert ran == [("health.tasks.health_recompute_history", "long")]
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, queues=["ingest"]):
        assert _wait_for(lambda: len(ran) == 2)
    assert ran[1] == ("events.tasks.refresh_usage", "ingest")


SLOW = 6.0  # seconds the history recompute takes here: three times the shrunk visibility timeout


def test_a_long_task_redelivered_while_running_runs_once(transactional_db, ran, monkeypatch):
    Scorecard.objects.all().delete()  # a transactional test may or may not see the migration's default card
    card = Scorecard.objects.create(name="Usage", is_default=True, yellow_from=40, green_from=70)
    Measure.objects.create(scorecard=card, key="active_users_30d", group="usage", breakpoints=[[0, 0], [10, 100]])
    accounts = AccountFactory.create_batch(3)
    runs = []
    real = health_services.health_recompute_history

    def slow_history(**kwargs):
        runs.append(kwargs)
        time.sleep(SLOW)
        return real(**kwargs)

    monkeypatch.setattr(health_services, "health_recompute_history", slow_history)
    monkeypatch.setattr(SingleRunTask, "duplicate_delay", 1)
    # Redis redelivers an unacknowledged task after 2 s here (checked every second), so the running task is
    # handed out again while it runs: what a visibility timeout below a time limit does in production, and what
    # a restarted worker does. The shipped timeout would refuse this worker (csp.celery), hence the disconnect.
    previous = app.conf.broker_transport_options
    app.conf.broker_transport_options = {
        "visibility_timeout": 2, "unacked_restore_interval": 1, "unacked_restore_throttle": 1,
    }  # fmt: skip
    worker_init.disconnect(dispatch_uid="csp-check-visibility-timeout")
    try:
        with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=30,
                          queues=["long"]):  # fmt: skip
            health_recompute_history.delay(days=2)
            assert _wait_for(lambda: HealthSnapshot.objects.exists(), timeout=30)
            # Deliveries after the run completed are dropped: give them time to arrive.
            assert _wait_for(lambda: len(ran) >= 3, timeout=15)
            time.sleep(3.0)
    finally:
        app.conf.broker_transport_options = previous
        worker_init.connect(csp_celery._check_on_worker_start, dispatch_uid="csp-check-visibility-timeout")
    deliveries = [name for name, _queue in ran if name == "health.tasks.health_recompute_history"]
    assert len(deliveries) >= 2, "Redis did not redeliver: the test proves nothing"
    assert len(runs) == 1
    snaps = HealthSnapshot.objects.filter(source=SnapshotSource.HISTORY)
    assert snaps.count() == len(accounts) * 2
    assert snaps.values("account_id", "as_of").distinct().count() == len(accounts) * 2
