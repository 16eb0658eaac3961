"""Celery as operators run it: routes, the visibility timeout against every task's time limit, and settings that
refuse production without a broker."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from csp.celery import QUEUES, app, check_visibility_timeout, task_time_limits, visibility_timeout

BASE_DIR = Path(settings.BASE_DIR)


def _queue(name: str) -> str:
    route = app.amqp.router.route({}, name)
    return route["queue"].name


def test_visibility_timeout_exceeds_every_task_time_limit():
    limits = task_time_limits()
    # Every app's tasks are registered (a worker imports the same modules), the long ones among them.
    assert "health.tasks.health_recompute_history" in limits
    assert "events.tasks.refresh_usage" in limits
    assert all(limit > 0 for limit in limits.values()), "a task without a hard time limit could run forever"
    longest = max(limits.values())
    assert longest >= 7200
    assert visibility_timeout() > longest, f"visibility_timeout {visibility_timeout()} s <= a task's limit"


def test_a_worker_refuses_a_visibility_timeout_below_a_time_limit(settings):
    previous = app.conf.broker_transport_options
    app.conf.broker_transport_options = {"visibility_timeout": 3600}
    try:
        with pytest.raises(SystemExit, match="health_recompute_history: 7200 s"):
            check_visibility_timeout()
    finally:
        app.conf.broker_transport_options = previous
    check_visibility_timeout()  # the shipped setting passes


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("events.tasks.refresh_usage", "ingest"),
        ("events.tasks.usage_sweep", "ingest"),
        ("health.tasks.health_recompute_history", "long"),
        ("health.tasks.health_recompute_all", "long"),
        ("imports.tasks.import_apply", "long"),
        ("imports.tasks.import_dry_run", "long"),
        ("accounts.tasks.contracts_expire", "long"),
        ("health.tasks.health_recompute_accounts", "default"),
        ("triggers.tasks.triggers_evaluate_accounts", "default"),
        ("triggers.tasks.notification_email_send", "default"),
    ],
)
def test_tasks_are_routed_to_their_queue(task, queue):
    assert _queue(task) == queue


def test_every_task_goes_to_a_consumed_queue():
    task_time_limits()  # registers every task
    names = [name for name in app.tasks if not name.startswith("celery.")]
    assert names
    assert {_queue(name) for name in names} <= set(QUEUES)


def _load_settings(**env) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE"}
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="csp.settings")
    code = "import django; django.setup(); from django.conf import settings; print(settings.CELERY_TASK_ALWAYS_EAGER)"
    return subprocess.run([sys.executable, "-c", code], cwd=BASE_DIR, env=clean, capture_output=True, text=True)


def test_production_without_redis_url_refuses_to_start():
    result = _load_settings(DEBUG="false", SECRET_KEY="s" * 50)
    assert result.returncode != 0
    assert "ImproperlyConfigured: REDIS_URL must be set when DEBUG is off" in result.stderr


def test_production_with_redis_url_uses_the_broker():
    result = _load_settings(DEBUG="false", SECRET_KEY="s" * 50, REDIS_URL="redis://127.0.0.1:6379/9")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_debug_without_redis_url_runs_tasks_in_process():
    # What `make run` does (DEBUG=true): the embedded defaults, tasks in-process.
    result = _load_settings(DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_a_long_task_retries_a_transient_database_error(db, monkeypatch):
    from django.db import OperationalError

    from health import services as health_services
    from health.tasks import health_recompute_history

    calls = []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return 0

    monkeypatch.setattr(health_services, "health_recompute_history", flaky)
    result = health_recompute_history.apply(kwargs={"days": 1}, throw=False)  # the retry runs in-process too
    assert result.successful(), result.traceback
    assert len(calls) == 2
    assert health_recompute_history(days=1) == 0  # a direct call runs it as well


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: a real Redis")
def test_a_broker_that_lost_its_data_is_noticed_once(monkeypatch):
    from csp import celery as csp_celery

    monkeypatch.setitem(app.conf, "task_always_eager", False)  # as in a worker: tasks go through Redis
    client = csp_celery._redis()
    client.delete(csp_celery.BROKER_MARK)  # what a restart without persistence or a flush does
    assert csp_celery.broker_lost_messages() is True
    assert csp_celery.broker_lost_messages() is False  # the broker kept its data since
    assert csp_celery.broker_lost_messages() is False
    client.delete(csp_celery.BROKER_MARK)
    assert csp_celery.broker_lost_messages() is True


def test_no_broker_data_to_lose_when_tasks_run_in_process(settings, monkeypatch):
    from csp import celery as csp_celery

    assert csp_celery.broker_lost_messages() is False  # tests run tasks in-process
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    settings.REDIS_URL = ""  # the embedded broker of `make run`
    assert csp_celery.broker_lost_messages() is False


def test_workers_keep_their_database_connection_between_tasks(db):
    # Celery's Django fixup closes every connection around each task unless db_reuse_max is set: a new PostgreSQL
    # backend per task. csp.celery closes only broken or expired ones, as Django does around requests.
    from django.db import connection

    from csp.celery import _close_old_connections

    assert app.conf.get("CELERY_DB_REUSE_MAX", 0) >= 100
    connection.ensure_connection()
    before = connection.connection
    _close_old_connections()
    assert connection.connection is before
