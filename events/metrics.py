"""Usage metrics read from the daily rollups, never from raw events (except key-feature users over 30 days,
which is bounded by the (account, timestamp) index). Formulas follow the glossary (seeds/000 "Terms used in
the CSM landscape"):

- Daily Active Users (DAU): people who engage with the product on a given day. Here: distinct user keys
  (userId, else anonymousId) with a track, page or screen call that UTC day.
- Monthly Active Users (MAU): people who engage in a given month. Here: distinct user keys over the 30 days
  ending that day (a rolling month).
- Stickiness = Daily Active Users ÷ Monthly Active Users, "typically displayed as a monthly rolling average":
  the average DAU of the last 30 days ÷ MAU of the last 30 days.
- License utilization = active users ÷ seats: MAU ÷ seats of the account's contracts in force that day x 100.
  Defined once, below (``license_utilization`` and its SQL twin ``annotate_license_utilization``).
- Adoption Rate (AR): "the percentage of users ... utilising the critical features" (the glossary's
  AR = # of new users ÷ total # of users x 100, applied per key feature): users of the feature in the last
  30 days ÷ MAU x 100.
"""

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, F, FloatField, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, NullIf

from accounts.models import Contact, Contract
from accounts.selectors import contract_in_force_q
from events.models import AccountDailyEvent, AccountDailyUser, Event, KeyFeature

WINDOW = 30  # days of the rolling month: MAU, active users over 30 days, license utilization


def active_user_series(*, account_id: int, today: dt.date, days: int = 90) -> list[dict[str, Any]]:
    """DAU, WAU and MAU for each of the ``days`` days ending ``today``: one query over AccountDailyUser
    (the (user, day) pairs of the window plus the 29 days before it), folded in Python."""
    first = today - dt.timedelta(days=days - 1)
    rows = AccountDailyUser.objects.filter(
        account_id=account_id, day__gte=first - dt.timedelta(days=WINDOW - 1), day__lte=today
    ).values_list("user_key", "day")
    by_user: dict[str, list[dt.date]] = defaultdict(list)
    for user_key, day in rows:
        by_user[user_key].append(day)
    dau = [0] * days
    wau = [0] * days
    mau = [0] * days
    for user_days in by_user.values():
        user_days.sort()
        # A user counts in MAU(d) when active within (d-29..d): mark each covered index once per user.
        for counts, span in ((mau, WINDOW), (wau, 7)):
            covered_until = -1
            for day in user_days:
                lo = max((day - first).days, covered_until + 1, 0)
                hi = min((day - first).days + span - 1, days - 1)
                for i in range(lo, hi + 1):
                    counts[i] += 1
                covered_until = max(covered_until, hi)
        for day in user_days:
            index = (day - first).days
            if 0 <= index < days:
                dau[index] += 1
    return [{"day": first + dt.timedelta(days=i), "dau": dau[i], "wau": wau[i], "mau": mau[i]} for i in range(days)]


def stickiness(series: list[dict[str, Any]]) -> float | None:
    """Stickiness = DAU ÷ MAU (glossary), as a monthly rolling average: mean DAU of the last 30 days of the
    series ÷ MAU on its last day, in percent; None when nobody was active."""
    window = series[-WINDOW:]
    mau = window[-1]["mau"] if window else 0
    if not mau:
        return None
    return round(sum(p["dau"] for p in window) / len(window) / mau * 100, 1)


# --- license utilization: the one definition (Usage tab, segment rules, trigger conditions, health measures) ----


def active_window(day: dt.date) -> tuple[dt.date, dt.date]:
    """The 30-day active-user window ending ``day`` (inclusive): MAU, "active users (30 days)", utilization."""
    return day - dt.timedelta(days=WINDOW - 1), day


def license_utilization(*, active_users: int | None, seats: int | None) -> float | None:
    """License utilization = active users ÷ seats x 100 (glossary: "License" = a user seat): the distinct users
    active in the 30-day window ÷ the seats of the contracts in force that day; no seats → None (undefined)."""
    return (active_users or 0) * 100.0 / seats if seats else None


def seats_in_force_q(*, day: dt.date, prefix: str = "") -> Q:
    """The contracts whose seats count on ``day`` (accounts' contracts in force)."""
    return contract_in_force_q(day, prefix=prefix)


def seats(*, account_id: int, day: dt.date) -> int:
    """Seats of the account's contracts in force on the day (one aggregate query)."""
    agg = Contract.objects.filter(seats_in_force_q(day=day), account_id=account_id).aggregate(n=Sum("seats"))
    return agg["n"] or 0


def seats_subquery(*, day: dt.date) -> Subquery:
    """Seats in force on the day of the account ``OuterRef("pk")``, for annotating any number of accounts."""
    return Subquery(
        Contract.objects.filter(seats_in_force_q(day=day), account=OuterRef("pk"))
        .order_by()
        .values("account")
        .annotate(n=Sum("seats"))
        .values("n")
    )


def active_users_subquery(*, first: dt.date, last: dt.date) -> Subquery:
    """Distinct users active for the account ``OuterRef("pk")`` between two days (inclusive), from the rollup."""
    return Subquery(
        AccountDailyUser.objects.filter(account=OuterRef("pk"), day__gte=first, day__lte=last)
        .order_by()
        .values("account")
        .annotate(n=Count("user_key", distinct=True))
        .values("n")
    )


def annotate_license_utilization(qs: QuerySet, *, day: dt.date, name: str = "license_utilization") -> QuerySet:
    """Annotate accounts with ``name`` = ``license_utilization`` in SQL (NULL without seats): one query for any
    number of accounts (segment rules and trigger conditions filter on it)."""
    first, last = active_window(day)
    active = Coalesce(active_users_subquery(first=first, last=last), Value(0))
    seat_count = NullIf(Cast(Coalesce(seats_subquery(day=day), Value(0)), FloatField()), Value(0.0))
    return qs.annotate(**{name: Cast(active, FloatField()) * Value(100.0) / seat_count})


def top_events(*, account_id: int, today: dt.date, days: int = WINDOW, limit: int = 10) -> list[dict[str, Any]]:
    """The most frequent track events of the last ``days`` days, from the daily rollup (one query)."""
    return list(
        AccountDailyEvent.objects.filter(account_id=account_id, day__gt=today - dt.timedelta(days=days), day__lte=today)
        .values("event")
        .annotate(total=Sum("count"), last_day=Max("day"))
        .order_by("-total", "event")[:limit]
    )


def feature_adoption(*, account_id: int, today: dt.date, mau: int) -> list[dict[str, Any]]:
    """Per key feature: users and uses in the last 30 days and AR = users ÷ MAU x 100 (two queries)."""
    features = list(KeyFeature.objects.all())
    since = dt.datetime.combine(active_window(today)[0], dt.time.min, tzinfo=dt.UTC)
    used = {
        row["event"]: row
        for row in Event.objects.filter(
            account_id=account_id, timestamp__gte=since, type="track", event__in=[f.event_name for f in features]
        )
        .order_by()
        .values("event")
        .annotate(
            users=Count(Coalesce(NullIf("user_id", Value("")), "anonymous_id"), distinct=True),
            uses=Count("id"),
            last=Max("timestamp"),
        )
    }
    result = []
    for feature in features:
        row = used.get(feature.event_name, {})
        users = row.get("users", 0)
        result.append(
            {
                "feature": feature,
                "users": users,
                "uses": row.get("uses", 0),
                "last": row.get("last"),
                "adoption": round(users * 100 / mau, 1) if mau else None,
            }
        )
    return result


def contacts_last_seen(*, account_id: int) -> list[Contact]:
    """The account's contacts, most recently active first (never-seen last)."""
    return list(Contact.objects.filter(account_id=account_id).order_by(F("last_seen_at").desc(nulls_last=True), "name"))


def usage_summary(*, account_id: int, today: dt.date, days: int = 90) -> dict[str, Any]:
    """Everything the Usage tab shows, in a fixed number of queries (6) whatever the data size."""
    series = active_user_series(account_id=account_id, today=today, days=days)
    last = series[-1]
    seat_count = seats(account_id=account_id, day=today)
    return {
        "series": series,
        "dau": last["dau"],
        "wau": last["wau"],
        "mau": last["mau"],
        "stickiness": stickiness(series),
        "seats": seat_count,
        "license_utilization": license_utilization(active_users=last["mau"], seats=seat_count),
        "top_events": top_events(account_id=account_id, today=today),
        "features": feature_adoption(account_id=account_id, today=today, mau=last["mau"]),
        "contacts": contacts_last_seen(account_id=account_id),
    }
