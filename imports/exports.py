"""CSV exports, streamed row by row so a 100,000-account list never sits in memory.

Account columns are the import's own field names, so an exported file can be edited and imported back.
Cells that a spreadsheet would run as a formula (starting with = + - @) are prefixed with ' (CSV injection).
"""

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet

from accounts.models import Account
from timeline.models import TimelineEntry

ACCOUNT_HEADER = [
    "external_id", "name", "domain", "tier", "industry", "employee_count", "region", "lifecycle_stage",
    "engagement_model", "owner_email", "status", "parent_external_id", "arr", "next_renewal_date",
    "last_touchpoint_at", "id",
]  # fmt: skip
TIMELINE_HEADER = [
    "occurred_at", "kind", "title", "activity_kind", "summary", "next_steps", "sentiment", "attendees", "by",
]  # fmt: skip
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def _safe(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_lines(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([_safe(v) for v in row])


def account_rows(qs: QuerySet[Account]) -> Iterator[list[Any]]:
    """One row per account of the (filtered) queryset, read in chunks through a server-side cursor."""
    for a in qs.select_related("owner", "parent").iterator(chunk_size=2000):
        yield [
            a.external_id, a.name, a.domain, a.tier, a.industry, a.employee_count, a.region, a.lifecycle_stage,
            a.engagement_model, a.owner.email if a.owner else "", a.status,
            a.parent.external_id if a.parent else "", a.arr, a.next_renewal_date,
            a.last_touchpoint_at.isoformat() if a.last_touchpoint_at else "", a.pk,
        ]  # fmt: skip


def timeline_rows(qs: QuerySet[TimelineEntry]) -> Iterator[list[Any]]:
    for e in qs.iterator(chunk_size=1000):
        a = e.activity
        attendees = ""
        by = e.actor or ""
        if a is not None:
            people = [c.name for c in a.attendee_contacts.all()] + [str(u) for u in a.attendee_users.all()]
            attendees = "; ".join(people)
            by = a.author or by
        yield [
            e.occurred_at.isoformat(), e.kind, e.title, a.kind if a else "", a.summary if a else e.body,
            a.next_steps if a else "", a.sentiment if a else "", attendees, str(by),
        ]  # fmt: skip
