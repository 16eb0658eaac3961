"""Celery tasks for accounts: thin wrappers around services."""

from celery import shared_task

from accounts import renewals, services
from csp.celery import SingleRunTask


@shared_task(base=SingleRunTask, time_limit=600, soft_time_limit=540)
def contracts_expire() -> int:
    """Nightly: expire contracts past their end date and refresh ARR and renewal dates. Idempotent."""
    return services.contracts_expire()


@shared_task(time_limit=300, soft_time_limit=240)
def renewals_open_due() -> int:
    """Daily: open a renewal for every contract ending within RENEWAL_OPEN_DAYS. Idempotent."""
    return renewals.renewals_open_due()
