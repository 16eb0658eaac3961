"""Fault tests (marker ``faults``): SDK-like clients send batches to gunicorn while a Celery worker and beat refresh
rollups, all on a private PostgreSQL and Redis, and the test breaks something mid-way: it SIGKILLs the worker inside a
task, kills Redis, or crash-restarts PostgreSQL. Clients retry what was not answered 200 with the same messageIds,
as SDKs do. Afterwards every acknowledged event is stored exactly once and the rollups converge, by themselves, to a
plain SQL aggregate of the stored events. Each test prints its figures (run with ``-s`` to see them)."""

import os
import threading
import time

import orjson
import pytest
import redis as redis_client

from tests.faults.conftest import ACCOUNTS
from tests.faults.load import LoadResult, backlog, run_load, stored, wait_converged

pytestmark = [
    pytest.mark.faults,
    # The test database is only the source of the private cluster's schema (tests.faults.conftest): this mark makes
    # pytest-django create it even when these are the only tests collected.
    pytest.mark.django_db,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
        or not os.environ.get("REDIS_URL"),
        reason="needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL): the fault tests start private servers of both",
    ),
]

CONVERGE_TIMEOUT = 45  # the sweep runs every 2 s here; a refresh of 30 accounts takes well under a second


def _in_background(target, **kwargs) -> tuple[threading.Thread, dict]:
    out: dict = {}
    thread = threading.Thread(target=lambda: out.update(result=target(**kwargs)), daemon=True)
    thread.start()
    return thread, out


def _check_stored_once(cluster, prefix: str, load: LoadResult):
    """Every acknowledged event is stored, none twice, nothing that was not sent; returns what is stored."""
    found = stored(cluster.db, prefix)
    assert load.acknowledged <= found.message_ids, f"{len(load.acknowledged - found.message_ids)} acknowledged lost"
    assert found.message_ids <= load.sent
    assert found.duplicates == 0
    assert found.rows == len(found.message_ids)
    return found


def _report(name: str, load: LoadResult, found, converged: float | None, extra: str = "") -> None:
    print(
        f"\n[faults] {name}: {load.summary()}; stored {len(found.message_ids)} distinct in {found.rows} rows, "
        f"{found.duplicates} duplicates; converged {'never' if converged is None else f'{converged:.1f} s'} after "
        f"the load ended{'; ' + extra if extra else ''}; load average {os.getloadavg()[0]:.2f}"
    )


MID_REFRESH = """
SELECT state, left(query, 60) FROM pg_stat_activity
WHERE application_name = %(app)s AND xact_start IS NOT NULL AND state IN ('active', 'idle in transaction')
  AND query ~* '^(DELETE FROM|INSERT INTO) "events_(usagemark|accountdaily)'"""


def _wait_mid_refresh(cluster, app_name: str, timeout: float) -> tuple | None:
    """The worker's database session while it is inside a rollup refresh transaction (polled every few ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = cluster.db.rows(MID_REFRESH, {"app": app_name})
        if rows:
            return rows[0]
        time.sleep(0.003)
    return None


def _unacked_tasks(redis_url: str) -> list[str]:
    """Names of the tasks Redis handed out and is still waiting to be acknowledged for (kombu's ``unacked``)."""
    client = redis_client.Redis.from_url(redis_url)
    try:
        return [orjson.loads(raw)[0]["headers"]["task"] for raw in client.hvals("unacked")]
    finally:
        client.close()


def _wait_queued(redis_url: str, queue: str, timeout: float) -> int:
    """The number of tasks waiting in a queue, once there is one (0 if none came within ``timeout``)."""
    client = redis_client.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if waiting := client.llen(queue):
                return waiting
            time.sleep(0.005)
        return 0
    finally:
        client.close()


def test_worker_killed_mid_task(cluster, stack, prefix):
    thread, out = _in_background(
        run_load, port=stack.web_port, write_key=cluster.write_key, prefix=prefix, clients=3, duration=7,
        accounts=ACCOUNTS,
    )  # fmt: skip
    caught = _wait_mid_refresh(cluster, stack.WORKER_APP, timeout=6)
    stack.kill_worker()
    killed_at = time.monotonic()
    unacked = _unacked_tasks(stack.redis.url())  # read after the kill: nothing can acknowledge it any more
    time.sleep(1.0)  # events keep arriving while no worker runs
    stack.start_worker()
    restarted = time.monotonic() - killed_at
    thread.join()
    load = out["result"]
    left = backlog(cluster.db, prefix)
    converged = wait_converged(cluster.db, prefix, CONVERGE_TIMEOUT)
    found = _check_stored_once(cluster, prefix, load)
    _report(
        "worker killed mid-task", load, found, converged,
        f"killed in {caught}, unacknowledged tasks {unacked}, new worker ready {restarted:.1f} s after the kill, "
        f"marks/claims pending when the load ended {left}",
    )  # fmt: skip
    assert caught is not None, "the worker never entered a rollup refresh: the kill did not land mid-task"
    assert "events.tasks.refresh_usage" in unacked, "the refresh finished before the kill"
    assert load.acknowledged == load.sent, "a client gave up"
    assert not load.failures  # ingestion does not depend on the worker
    assert converged is not None, f"rollups did not converge within {CONVERGE_TIMEOUT} s: {backlog(cluster.db, prefix)}"


def test_redis_killed_during_ingestion(cluster, stack, redis, prefix):
    thread, out = _in_background(
        run_load, port=stack.web_port, write_key=cluster.write_key, prefix=prefix, clients=3, duration=8,
        accounts=ACCOUNTS,
    )  # fmt: skip
    time.sleep(1.5)
    queued = _wait_queued(redis.url(), "ingest", timeout=5)
    redis.kill()
    down_at = time.monotonic()
    time.sleep(3.0)
    redis.start()  # empty: without persistence every queued task is gone
    up_at = time.monotonic()
    thread.join()
    load = out["result"]
    left = backlog(cluster.db, prefix)
    converged = wait_converged(cluster.db, prefix, CONVERGE_TIMEOUT)
    found = _check_stored_once(cluster, prefix, load)
    _report(
        "Redis killed during ingestion", load, found, converged,
        f"{queued} refresh tasks queued when Redis was killed, "
        f"Redis down {up_at - down_at:.1f} s, {load.acknowledged_between(down_at, up_at)} events acknowledged "
        f"meanwhile, marks/claims pending when the load ended {left}",
    )  # fmt: skip
    assert queued, "no refresh task was waiting in Redis: the restart lost nothing"
    assert load.acknowledged == load.sent, "a client gave up"
    # The events and marks are safe in PostgreSQL: ingestion answers 200 while Redis is down.
    assert not load.failures
    assert load.acknowledged_between(down_at, up_at) > 0
    assert converged is not None, f"rollups did not converge within {CONVERGE_TIMEOUT} s: {backlog(cluster.db, prefix)}"
    assert stack.web.poll() is None and stack.worker.poll() is None and stack.beat.poll() is None


def test_database_restart_during_ingestion(cluster, stack, prefix):
    thread, out = _in_background(
        run_load, port=stack.web_port, write_key=cluster.write_key, prefix=prefix, clients=3, duration=8,
        accounts=ACCOUNTS,
    )  # fmt: skip
    worker_pid = stack.worker.pid
    time.sleep(2.5)
    started = time.monotonic()
    cluster.pg.restart("immediate")  # a crash: no checkpoint, recovery from the WAL on start
    restarted = time.monotonic()
    thread.join()
    load = out["result"]
    left = backlog(cluster.db, prefix)
    converged = wait_converged(cluster.db, prefix, CONVERGE_TIMEOUT)
    found = _check_stored_once(cluster, prefix, load)
    _report(
        "PostgreSQL crash-restarted during ingestion", load, found, converged,
        f"restart took {restarted - started:.1f} s, marks/claims pending when the load ended {left}",
    )  # fmt: skip
    assert load.failures, "no call failed: the restart did not land during the load"
    assert load.acknowledged == load.sent, "a client gave up: the web server did not recover"
    assert converged is not None, f"rollups did not converge within {CONVERGE_TIMEOUT} s: {backlog(cluster.db, prefix)}"
    # Recovered without a restart: the same gunicorn, worker and beat processes.
    assert stack.web.poll() is None and stack.worker.poll() is None and stack.beat.poll() is None
    assert stack.worker.pid == worker_pid
