"""Celery tasks of surveys: thin wrappers over services, idempotent, with time limits."""

from celery import shared_task
from django.db import DatabaseError

from csp.celery import SingleRunTask
from surveys import services


@shared_task(time_limit=300, soft_time_limit=240, autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def survey_batch_send(batch_id: int) -> int:
    """Send the next chunk of a sending job (queue ``long``); re-enqueues itself until the job is done."""
    return services.survey_batch_send(batch_id=batch_id)


@shared_task(base=SingleRunTask, time_limit=600, soft_time_limit=540)
def surveys_run_scheduled() -> list[int]:
    """Beat: scheduled relationship surveys that are due, and reminders."""
    return services.surveys_run_scheduled()


@shared_task(time_limit=60, soft_time_limit=50, autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def survey_response_notify(response_id: int) -> bool:
    """Tell triggers about an answer (after the follow-up or the grace period)."""
    return services.response_notify(response_id=response_id)
