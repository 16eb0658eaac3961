"""Timeline factories: activities go through the service so each has its feed entry, like in the app."""

import datetime as dt

from django.utils import timezone

from timeline.services import activity_create, timeline_record


def log_activity(account, author=None, *, days_ago: float = 0, kind="call", summary="Weekly sync", **extra):
    data = {"kind": kind, "summary": summary, "occurred_at": timezone.now() - dt.timedelta(days=days_ago), **extra}
    return activity_create(account=account, author=author, data=data)


def record(account, *, kind="health", days_ago: float = 0, title="Health: green to red"):
    return timeline_record(
        account=account, kind=kind, title=title, occurred_at=timezone.now() - dt.timedelta(days=days_ago)
    )
