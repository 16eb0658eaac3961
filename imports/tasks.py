"""Celery tasks for imports: thin, take ids, idempotent (the services check the job's state)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from csp.celery import SingleRunTask
from imports import services

# Transient database errors are retried with backoff; anything else fails the job with its message.
TRANSIENT = (OperationalError, InterfaceError)


@shared_task(
    base=SingleRunTask, bind=True, acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3,
    time_limit=1800, soft_time_limit=1740,
)  # fmt: skip
def import_dry_run(self, job_id: int) -> None:
    try:
        services.import_dry_run(job_id=job_id)
    except TRANSIENT:
        raise
    except Exception as exc:
        services.import_fail(job_id=job_id, error=f"Dry run failed: {exc}")
        raise


@shared_task(
    base=SingleRunTask, bind=True, acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3,
    time_limit=1800, soft_time_limit=1740,
)  # fmt: skip
def import_apply(self, job_id: int) -> None:
    try:
        services.import_apply(job_id=job_id)
    except TRANSIENT:
        raise
    except Exception as exc:
        services.import_fail(job_id=job_id, error=f"Import failed: {exc}")
        raise
