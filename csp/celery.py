"""The Celery application. Periodic tasks are declared in code here (beat_schedule), not in a database; queues and
routes in settings (``CELERY_TASK_ROUTES``). ``SingleRunTask`` is the base of the long tasks (queue ``long``)."""

import logging
import os
from functools import cache

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import task_postrun, task_prerun, worker_init
from kombu.transport import TRANSPORT_ALIASES

# The embedded broker of `make run` (csp/embedded_broker.py): kombu's filesystem transport, with atomic writes.
TRANSPORT_ALIASES.setdefault("cspfs", "csp.embedded_broker:Transport")

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csp.settings")

# The queues of CELERY_TASK_ROUTES (csp/settings.py); a worker consuming all of them runs every task.
QUEUES = ("ingest", "default", "long")

app = Celery("csp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Contracts whose end date passed stop counting toward ARR; refresh the denormalised figures nightly.
    "contracts-expire-nightly": {
        "task": "accounts.tasks.contracts_expire",
        "schedule": crontab(hour=1, minute=5),
    },
    # Renewals open by themselves RENEWAL_OPEN_DAYS before their contract ends (idempotent).
    "renewals-open-daily": {
        "task": "accounts.tasks.renewals_open_due",
        "schedule": crontab(hour=1, minute=20),
    },
    # Revenue ledger: rebuild every account's monthly MRR snapshots after the nightly contract expiry.
    "metrics-ledger-refresh-nightly": {
        "task": "metrics.tasks.ledger_refresh_all",
        "schedule": crontab(hour=1, minute=35),
    },
    # Every account rescored once a day, so day-based measures (days since activity, to renewal) move on.
    "health-recompute-nightly": {
        "task": "health.tasks.health_recompute_all",
        "schedule": crontab(hour=2, minute=15),
    },
    # Usage: enqueue rollup refreshes left without a task (Redis was down) and attribute late-matched events.
    "usage-sweep": {
        "task": "events.tasks.usage_sweep",
        # CSP_USAGE_SWEEP_EVERY (seconds) shortens the period: the fault tests watch rollups converge by themselves.
        "schedule": float(os.environ.get("CSP_USAGE_SWEEP_EVERY") or 60),
    },
    # The ingestion rejection log keeps INGEST_REJECTION_RETENTION_DAYS days.
    "ingest-rejections-purge": {
        "task": "events.tasks.rejections_purge",
        "schedule": crontab(hour=3, minute=40),
    },
    # Triggers: date-based conditions (renewal, no touchpoint), usage and utilization, segment entered/left.
    "triggers-evaluate": {
        "task": "triggers.tasks.triggers_evaluate_periodic",
        # CSP_TRIGGERS_EVERY (seconds) shortens the period: the browser test watches a trigger fire by itself.
        "schedule": float(os.environ.get("CSP_TRIGGERS_EVERY") or 0) or crontab(minute="*/15"),
    },
    # Surveys: scheduled relationship surveys that are due, then reminders (queue "long").
    "surveys-run-scheduled": {
        "task": "surveys.tasks.surveys_run_scheduled",
        "schedule": crontab(minute=20),
    },
}


logger = logging.getLogger(__name__)


def visibility_timeout(celery_app: Celery = app) -> int:
    """Seconds Redis waits for an acknowledgement before handing a task to another worker (kombu's default 1 h)."""
    return int((celery_app.conf.broker_transport_options or {}).get("visibility_timeout", 3600))


def task_time_limits(celery_app: Celery = app) -> dict[str, int]:
    """The hard time limit of every registered task (the app's default where a task sets none)."""
    celery_app.loader.import_default_modules()  # every app's tasks module, as a worker imports them
    default = celery_app.conf.task_time_limit
    return {name: int(task.time_limit or default or 0) for name, task in celery_app.tasks.items()}


def check_visibility_timeout(celery_app: Celery = app) -> None:
    """Refuse a configuration where a task may still be running when Redis redelivers it."""
    limits = task_time_limits(celery_app)
    name, longest = max(limits.items(), key=lambda item: item[1])
    timeout = visibility_timeout(celery_app)
    if timeout <= longest:
        raise SystemExit(
            f"The broker visibility_timeout ({timeout} s, CELERY_VISIBILITY_TIMEOUT) must exceed the longest task "
            f"time limit ({name}: {longest} s), or Redis hands a running task to a second worker."
        )


@worker_init.connect(dispatch_uid="csp-check-visibility-timeout")
def _check_on_worker_start(sender, **kwargs) -> None:
    # SystemExit, not an Exception: Celery logs and ignores exceptions raised by signal handlers.
    check_visibility_timeout(sender.app)


@task_prerun.connect(dispatch_uid="csp-close-old-connections-prerun")
@task_postrun.connect(dispatch_uid="csp-close-old-connections-postrun")
def _close_old_connections(sender=None, **kwargs) -> None:
    """Around each task, what Django does around each request: close a connection that is broken, in an aborted
    state or older than CONN_MAX_AGE, and keep the others. (Celery's own fixup would close every connection, see
    CELERY_DB_REUSE_MAX in settings: a new PostgreSQL backend per task.) Eager runs share the caller's connection."""
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


def _redis_url() -> str:
    from django.conf import settings

    return settings.REDIS_URL


@cache
def _redis():
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.REDIS_URL)


BROKER_MARK = "csp:broker-mark"  # a key that lives as long as the broker's data (see broker_lost_messages)


def broker_lost_messages() -> bool:
    """True when the Redis broker lost its data since the previous call (and on the first call on a broker): a
    marker key this sets is gone, so Redis restarted without persistence, failed over to an empty replica or was
    flushed, and every task queued before went with it. A caller that tracks queued tasks (the usage sweep's
    claims) then knows they will never run. False without a Redis broker (tasks in-process, the embedded broker)."""
    if app.conf.task_always_eager or not _redis_url():
        return False
    return bool(_redis().set(BROKER_MARK, "1", nx=True))


class SingleRunTask(Task):
    """Base of the long tasks: one delivery of a task id runs at a time, and a delivery of a task id that already
    completed is dropped. The visibility timeout already keeps Redis from redelivering a running task; this also
    covers a worker restarted mid-run (acks_late requeues its task while a replacement may still be running
    elsewhere) and an acknowledgement lost after success. A delivery that finds the task running is not lost: it
    is re-sent with a delay, so it runs once the holder's mark expires (at the time limit) if that worker died.
    Retries (same task id) release the mark first. Eager runs (tests, ``make run``) skip all this."""

    duplicate_delay = 60  # seconds before a delivery that found the task running comes back

    def __call__(self, *args, **kwargs):
        request = self.request
        if request.called_directly:  # task(...) in code: Task.__call__ sets up the request
            return super().__call__(*args, **kwargs)
        # From here the tracer has pushed the request (worker or apply()); run() keeps it current, so retries
        # read the task's id and is_eager (super().__call__ would push a bare one outside a worker).
        if request.is_eager or not _redis_url():  # eager, or the embedded broker of `make run` (no Redis)
            return self.run(*args, **kwargs)
        client, key = _redis(), f"csp:task-run:{request.id}"
        limit = int(self.time_limit or self.app.conf.task_time_limit or visibility_timeout(self.app))
        if not client.set(key, "running", nx=True, ex=limit):
            if client.get(key) == b"done":
                logger.warning("%s[%s] already completed: duplicate delivery dropped", self.name, request.id)
                return None
            logger.warning("%s[%s] is running elsewhere: duplicate delivery deferred", self.name, request.id)
            self.apply_async(args, kwargs, task_id=request.id, countdown=self.duplicate_delay)
            return None
        try:
            result = self.run(*args, **kwargs)
        except BaseException:
            client.delete(key)  # a retry (same id) or a redelivery after a failure may run it again
            raise
        client.set(key, "done", ex=visibility_timeout(self.app))
        return result
