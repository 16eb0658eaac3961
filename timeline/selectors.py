"""Reads of the timeline: one feed per account with a fixed number of queries however long it is."""

import datetime as dt
from collections.abc import Iterable

from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import Account, Contact
from accounts.selectors import account_list
from csp.models import User
from timeline.models import Activity, TimelineEntry


def timeline_feed(*, account_id: int | None = None, kinds: Iterable[str] | None = None) -> QuerySet[TimelineEntry]:
    """Newest first; each entry with its actor and, for activities, the activity, its author and attendees
    (two prefetch queries per page, whatever its size)."""
    qs = TimelineEntry.objects.select_related("actor", "activity", "activity__author").prefetch_related(
        Prefetch("activity__attendee_contacts", queryset=Contact.objects.only("id", "name", "account_id")),
        Prefetch("activity__attendee_users", queryset=User.objects.only("id", "full_name", "email")),
    )
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    kinds = [k for k in (kinds or []) if k]
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return qs.order_by("-occurred_at", "-id")


def activity_list() -> QuerySet[Activity]:
    """Activities with what their list rows show."""
    return Activity.objects.select_related("account", "author").prefetch_related("attendee_contacts", "attendee_users")


def going_dark(*, user: User, scope: str, days: int, today: dt.datetime | None = None) -> QuerySet[Account]:
    """Active accounts in the user's book with no touchpoint for ``days`` days (or none ever), the
    longest-silent first."""
    since = (today or timezone.now()) - dt.timedelta(days=days)
    return (
        account_list(user=user, scope=scope)
        .filter(status="active")
        .filter(Q(last_touchpoint_at__lt=since) | Q(last_touchpoint_at__isnull=True))
        .order_by(F("last_touchpoint_at").asc(nulls_first=True), "name")
    )
