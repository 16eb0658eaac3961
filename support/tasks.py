"""Celery tasks for support: tell health and playbooks that accounts' tickets changed."""

from celery import shared_task

from events import pipeline


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def tickets_changed(account_ids: list[int]) -> None:
    """Send ``account_changed`` for accounts whose tickets changed (after the ticket write committed)."""
    pipeline.notify(account_ids)
