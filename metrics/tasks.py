"""Celery tasks of the metrics app: thin wrappers around ``metrics.ledger`` (queue ``long``)."""

from celery import shared_task

from csp.celery import SingleRunTask
from metrics import ledger

# Accounts per task: the DELETE/INSERT lists them; bigger sets are split so one task stays short.
CHUNK = 2000


@shared_task(time_limit=300, soft_time_limit=240)
def ledger_refresh_accounts(account_ids: list[int]) -> int:
    """Refresh the monthly MRR snapshots of these accounts after their contracts changed. Idempotent."""
    return ledger.ledger_refresh(account_ids=account_ids)


@shared_task(base=SingleRunTask, time_limit=1800, soft_time_limit=1700)
def ledger_refresh_all() -> int:
    """Nightly: rebuild every account's snapshots (months move on, cancellations take effect). Idempotent."""
    return ledger.ledger_refresh()
