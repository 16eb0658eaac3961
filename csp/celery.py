"""The Celery application. Periodic tasks are declared in code here (beat_schedule), not in a database."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csp.settings")

app = Celery("csp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Contracts whose end date passed stop counting toward ARR; refresh the denormalised figures nightly.
    "contracts-expire-nightly": {
        "task": "accounts.tasks.contracts_expire",
        "schedule": crontab(hour=1, minute=5),
    },
    # Every account rescored once a day, so day-based measures (days since activity, to renewal) move on.
    "health-recompute-nightly": {
        "task": "health.tasks.health_recompute_all",
        "schedule": crontab(hour=2, minute=15),
    },
    # Usage: enqueue rollup refreshes left without a task (Redis was down) and attribute late-matched events.
    "usage-sweep": {
        "task": "events.tasks.usage_sweep",
        "schedule": 60.0,
    },
    # The ingestion rejection log keeps INGEST_REJECTION_RETENTION_DAYS days.
    "ingest-rejections-purge": {
        "task": "events.tasks.rejections_purge",
        "schedule": crontab(hour=3, minute=40),
    },
    # Triggers: date-based conditions (renewal, no touchpoint), usage and utilization, segment entered/left.
    "triggers-evaluate": {
        "task": "triggers.tasks.triggers_evaluate_periodic",
        "schedule": crontab(minute="*/15"),
    },
}
