"""Celery tasks for accounts: thin wrappers around services."""

from celery import shared_task

from accounts import services
from csp.celery import SingleRunTask


@shared_task(base=SingleRunTask, time_limit=600, soft_time_limit=540)
def contracts_expire() -> int:
    """Nightly: expire contracts past their end date and refresh ARR and renewal dates. Idempotent."""
    return services.contracts_expire()
