"""The Celery application. Periodic tasks are declared in code here (beat_schedule), not in a database."""

import os

from celery import Celery
from celery.schedules import crontab
from kombu.transport import TRANSPORT_ALIASES

# The embedded broker of `make run` (csp/embedded_broker.py): kombu's filesystem transport, with atomic writes.
TRANSPORT_ALIASES.setdefault("cspfs", "csp.embedded_broker:Transport")

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
    # Triggers: date-based conditions (renewal, no touchpoint), usage and utilization, segment entered/left.
    "triggers-evaluate": {
        "task": "triggers.tasks.triggers_evaluate_periodic",
        # CSP_TRIGGERS_EVERY (seconds) shortens the period: the browser test watches a trigger fire by itself.
        "schedule": float(os.environ.get("CSP_TRIGGERS_EVERY") or 0) or crontab(minute="*/15"),
    },
}
