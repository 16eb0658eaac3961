"""Writes of notifications: send one (in-app, and an email after commit) and mark them read."""

from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from csp.models import User
from notifications.models import Notification


def notification_send(*, user: User, title: str, body: str = "", url: str = "", email: bool = True) -> Notification:
    """An in-app notification (bell), and an email through Django's backend after commit when ``email``."""
    notification = Notification(user=user, title=title[:200], body=body, url=url[:500])
    notification.full_clean()
    notification.save()
    if email and user.email:
        from notifications.tasks import notification_email_send  # the task module imports this one

        transaction.on_commit(partial(notification_email_send.delay, notification.pk))
    return notification


def notifications_send_many(*, items: list[tuple[User, str, str, str]], email: bool = True) -> list[Notification]:
    """``notification_send`` for many (user, title, body, url) at once: one bulk insert, and one after-commit
    callback that queues the emails. The users are loaded already (no per-row lookup)."""
    rows = []
    for user, title, body, url in items:
        notification = Notification(user=user, title=title[:200], body=body, url=url[:500])
        notification.full_clean(exclude=["user"])  # the user is a loaded row: no query to check it exists
        rows.append(notification)
    created = Notification.objects.bulk_create(rows)
    ids = [n.pk for n in created if email and n.user.email]
    if ids:
        from notifications.tasks import notification_email_send  # the task module imports this one

        transaction.on_commit(lambda: [notification_email_send.delay(pk) for pk in ids])
    return created


def notification_email(*, notification_id: int) -> bool:
    """Email one notification to its user; False when it was deleted meanwhile."""
    from django.core.mail import send_mail

    n = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if n is None:
        return False
    send_mail(
        subject=f"[csp] {n.title}",
        message=f"{n.body}\n\n{settings.SITE_URL}{n.url}".strip(),
        from_email=None,
        recipient_list=[n.user.email],
    )
    return True


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (all unread when ``ids`` is None)."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(id__in=ids)
    return qs.update(read_at=timezone.now())
