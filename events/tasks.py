"""Celery tasks of the usage pipeline: thin wrappers around ``events.pipeline``."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from events import pipeline

# Transient database trouble (failover, connection drop) is retried with backoff; anything else is a bug.
TRANSIENT = (OperationalError, InterfaceError)


@shared_task(
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,
    time_limit=300,
    soft_time_limit=240,
)
def refresh_usage(account_ids: list[int]) -> list[int]:
    """Refresh the rollups of marked accounts, then send ``account_changed`` for them. Idempotent."""
    done = pipeline.usage_refresh(account_ids=account_ids)
    pipeline.notify(done)
    return done


@shared_task(
    acks_late=True, autoretry_for=TRANSIENT, retry_backoff=5, max_retries=3, time_limit=300, soft_time_limit=240
)
def usage_sweep() -> int:
    """Periodic: attribute events whose account appeared and enqueue marks left without a task."""
    return len(pipeline.sweep())


@shared_task(
    acks_late=True, autoretry_for=TRANSIENT, retry_backoff=5, max_retries=3, time_limit=600, soft_time_limit=540
)
def rejections_purge() -> int:
    """Daily: drop rejection-log rows past the retention period."""
    from events import services

    return services.rejections_purge()
