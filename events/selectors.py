"""Reads for the ingestion console: events per source per hour, rejections and the unmatched backlog."""

import datetime as dt
from typing import Any

from django.db.models import Count, Min, QuerySet, Sum
from django.db.models.functions import TruncHour

from events.models import Event, EventSource, RejectedMessage, UsageMark


def source_list() -> QuerySet[EventSource]:
    return EventSource.objects.order_by("name")


def hourly_received(*, since: dt.datetime) -> dict[str, Any]:
    """Events received per source per hour since ``since`` (one GROUP BY over the (received_at, source)
    index), shaped for a table and a stacked Chart.js bar chart."""
    rows = (
        Event.objects.filter(received_at__gte=since)
        .annotate(hour=TruncHour("received_at", tzinfo=dt.UTC))
        .order_by()
        .values("hour", "source__name")
        .annotate(n=Count("id"))
    )
    hours: list[dt.datetime] = []
    start = since.replace(minute=0, second=0, microsecond=0)
    now = dt.datetime.now(dt.UTC)
    while start <= now:
        hours.append(start)
        start += dt.timedelta(hours=1)
    counts: dict[str, dict[dt.datetime, int]] = {}
    for row in rows:
        counts.setdefault(row["source__name"], {})[row["hour"]] = row["n"]
    series = {name: [by_hour.get(h, 0) for h in hours] for name, by_hour in sorted(counts.items())}
    return {
        "hours": hours,
        "series": series,
        "totals": {name: sum(values) for name, values in series.items()},
    }


def rejections(*, since: dt.datetime, limit: int = 50) -> dict[str, Any]:
    """Rejected calls and messages since ``since``: counts by reason code and the latest ``limit`` (2 queries)."""
    recent = RejectedMessage.objects.filter(received_at__gte=since)
    # Calls without a valid key are sampled: each row stands for ``represents`` calls.
    by_code = list(recent.order_by().values("code").annotate(n=Sum("represents")).order_by("-n"))
    return {"by_code": by_code, "latest": list(recent.select_related("source")[:limit])}


def unmatched(*, limit: int = 50) -> dict[str, Any]:
    """Events kept without an account (waiting for a group call or an account with that external id)."""
    backlog = Event.objects.filter(account__isnull=True)
    return {
        "count": backlog.count(),
        "by_group": list(backlog.order_by().values("group_id").annotate(n=Count("id")).order_by("-n")[:20]),
        "latest": list(backlog.select_related("source").order_by("-received_at", "-id")[:limit]),
    }


def refresh_backlog() -> dict[str, Any]:
    """Accounts whose rollups wait for a refresh, and since when (one aggregate query). A growing backlog means
    no worker is consuming the queue."""
    agg = UsageMark.objects.aggregate(accounts=Count("account", distinct=True), oldest=Min("created_at"))
    return {"accounts": agg["accounts"], "oldest": agg["oldest"]}
