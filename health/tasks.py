"""Celery tasks for health: thin, they take ids and call services. All are idempotent (a rerun recomputes the
same thing from the same stored data); database errors are retried with backoff."""

from celery import shared_task
from django.db import IntegrityError, OperationalError

from csp.celery import SingleRunTask
from health import services

# IntegrityError: an account deleted between the recompute's check and its commit; the rerun skips it.
RETRY = {
    "autoretry_for": (OperationalError, IntegrityError),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 5,
}


@shared_task(time_limit=120, soft_time_limit=100, **RETRY)
def health_recompute_accounts(account_ids: list[int]) -> int:
    """Event-driven: recompute the accounts ingestion (or an edit) just changed, with any others waiting."""
    return services.health_recompute_pending(account_ids=list(account_ids)).scored


@shared_task(base=SingleRunTask, time_limit=1800, soft_time_limit=1700, **RETRY)
def health_recompute_all() -> int:
    """Nightly, and after a scorecard changed: recompute every account."""
    return services.health_recompute(source="nightly").scored


@shared_task(base=SingleRunTask, time_limit=7200, soft_time_limit=7000, **RETRY)
def health_recompute_history(scorecard_id: int | None = None, days: int = services.HISTORY_DAYS) -> int:
    """Recompute past snapshots of one scorecard's accounts from the stored rollups."""
    return services.health_recompute_history(scorecard_id=scorecard_id, days=days)
