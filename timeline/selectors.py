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


# Sort keys of the Going dark list; "-key" reverses. Silence (longest first) is the default.
DARK_SORTS = {
    "silence": (F("last_touchpoint_at").asc(nulls_first=True),),
    "health": (F("health__score").asc(nulls_first=True),),
    "arr": (F("arr").asc(),),
    "name": (F("name").asc(),),
}


def going_dark(
    *, user: User, scope: str, days: int, today: dt.datetime | None = None, ordering: str = "silence"
) -> QuerySet[Account]:
    """Active accounts in the user's book with no touchpoint for ``days`` days (or none ever), sorted by
    ``ordering`` (a DARK_SORTS key, "-" for descending; unknown keys sort by silence)."""
    since = (today or timezone.now()) - dt.timedelta(days=days)
    key = ordering.removeprefix("-")
    order = DARK_SORTS.get(key, DARK_SORTS["silence"])
    if ordering.startswith("-") and key in DARK_SORTS:
        order = tuple(o.copy().reverse_ordering() for o in order)
    return (
        account_list(user=user, scope=scope)
        .filter(status="active")
        .filter(Q(last_touchpoint_at__lt=since) | Q(last_touchpoint_at__isnull=True))
        .order_by(*order, "name")
    )
