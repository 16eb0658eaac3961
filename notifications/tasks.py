"""Celery task of notifications: the email copy, sent after the notification committed."""

from celery import shared_task

from notifications import services


@shared_task(time_limit=60, soft_time_limit=50, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notification_email_send(notification_id: int) -> bool:
    return services.notification_email(notification_id=notification_id)
