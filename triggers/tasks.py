"""Celery tasks for triggers: thin, they take ids and call services. Evaluation is idempotent (edge-triggered
matches and CTA dedupe make a rerun fire nothing twice); database errors are retried with backoff. Email and
webhook actions, and any action's retry, run in ``trigger_action_run`` (backoff and log: ``action_execute``)."""

from celery import shared_task
from django.db import OperationalError

from triggers import services

RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": True, "retry_backoff_max": 60, "max_retries": 5}


@shared_task(time_limit=120, soft_time_limit=100, **RETRY)
def triggers_evaluate_accounts(account_ids: list[int], source: str) -> int:
    """Event-driven: health changed ("health") or rollups/tickets changed ("usage") for these accounts."""
    return services.triggers_evaluate_accounts(account_ids=list(account_ids), source=source)


@shared_task(time_limit=1800, soft_time_limit=1700, **RETRY)
def triggers_evaluate_periodic() -> int:
    """Every 15 minutes: date-based conditions, usage and utilization, segment entered/left."""
    return services.triggers_evaluate_periodic()


@shared_task(time_limit=60, soft_time_limit=50, **RETRY)
def trigger_action_run(log_id: int) -> None:
    """One pending action (an email or webhook's first attempt, or any action's retry after its backoff)."""
    services.action_retry(log_id=log_id)
