"""Reads of the account Overview tab: "how is this customer" at a glance, in a fixed number of queries."""

import datetime as dt
from typing import Any

from django.db.models import Count, Q

from accounts.models import Account, Contact, ContactRole
from events.models import AccountDailyUser
from health.models import AccountHealth, HealthSnapshot
from playbooks.models import CTA, CTAStatus
from timeline.models import TOUCHPOINT_KINDS, Activity, TimelineEntry

SPARK_DAYS = 90
ROWS = 5
KEY_ROLES = (ContactRole.CHAMPION, ContactRole.DECISION_MAKER)


def daily_series(pairs: list[tuple[dt.date, float | None]], *, first: dt.date, days: int) -> list[float | None]:
    """One value per day from ``first`` for ``days`` days: the last value given for that day, else None."""
    by_day = {day: value for day, value in pairs}
    return [by_day.get(first + dt.timedelta(days=i)) for i in range(days)]


def forward_filled(series: list[float | None]) -> list[float | None]:
    """A score holds until the next one (no snapshot on a day means nothing changed that day)."""
    out, last = [], None
    for value in series:
        last = value if value is not None else last
        out.append(last)
    return out


def account_overview(*, account_id: int, today: dt.date) -> dict[str, Any]:
    """Health with its 90-day trend, open CTAs, last touchpoint, daily active users over 90 days, renewal and ARR,
    key contacts and the latest timeline lines (8 queries). Raises ``Account.DoesNotExist``."""
    account = Account.objects.select_related("owner").get(pk=account_id)
    first = today - dt.timedelta(days=SPARK_DAYS - 1)
    health = AccountHealth.objects.select_related("override").filter(account_id=account_id).first()
    scores = HealthSnapshot.objects.filter(account_id=account_id, as_of__gte=first, as_of__lte=today).order_by(
        "as_of", "computed_at", "id"
    )
    score_pairs = list(scores.values_list("as_of", "score"))
    health_series = forward_filled(daily_series(score_pairs, first=first, days=SPARK_DAYS))
    open_ctas = list(
        CTA.objects.filter(account_id=account_id)
        .exclude(status=CTAStatus.CLOSED)
        .select_related("owner")
        .order_by("due_date", "id")[: ROWS + 1]
    )
    last_touch = (
        Activity.objects.filter(account_id=account_id, kind__in=TOUCHPOINT_KINDS)
        .select_related("author")
        .order_by("-occurred_at", "-id")
        .first()
    )
    dau = (
        AccountDailyUser.objects.filter(account_id=account_id, day__gte=first, day__lte=today)
        .values("day")
        .annotate(users=Count("id"))
        .values_list("day", "users")
    )
    usage_series = [v or 0 for v in daily_series(list(dau), first=first, days=SPARK_DAYS)]
    contacts = list(
        Contact.objects.filter(Q(is_primary=True) | Q(role__in=KEY_ROLES), account_id=account_id).order_by(
            "-is_primary", "role", "name"
        )[:ROWS]
    )
    entries = list(
        TimelineEntry.objects.filter(account_id=account_id)
        .select_related("actor")
        .order_by("-occurred_at", "-id")[:ROWS]
    )
    renewal_in = (account.next_renewal_date - today).days if account.next_renewal_date else None
    return {
        "account": account,
        "health": health,
        "health_series": health_series,
        "health_start": next((v for v in health_series if v is not None), None),
        "open_ctas": open_ctas[:ROWS],
        "more_ctas": len(open_ctas) > ROWS,
        "last_touch": last_touch,
        "usage_series": usage_series,
        "usage_today": usage_series[-1],
        "usage_peak": max(usage_series),
        "usage_avg_7": round(sum(usage_series[-7:]) / 7, 1),
        "contacts": contacts,
        "entries": entries,
        "renewal_in": renewal_in,
        "spark_days": SPARK_DAYS,
        "today": today,
    }
