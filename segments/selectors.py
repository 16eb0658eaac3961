"""Reads of segments: the members of a saved segment or of draft rules (one SQL query each), lists, diffs."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Account
from segments import computed
from segments.models import Segment, SegmentMembership
from segments.rules import compile_rules, validate_rules


def rules_accounts(rules: Any, *, today: dt.date | None = None, queryset: QuerySet | None = None) -> QuerySet[Account]:
    """The accounts matching a rule tree: one annotated queryset (validated first; raises ValidationError)."""
    today = today or timezone.localdate()
    q, names = compile_rules(validate_rules(rules), today=today)
    qs = queryset if queryset is not None else Account.objects.all()
    return computed.annotate(qs, names, today=today).filter(q)


def segment_accounts(segment: Segment, *, today: dt.date | None = None) -> QuerySet[Account]:
    """The accounts of a saved segment right now (live, not the stored membership). Use ``.values("id")`` of it
    as a subquery to scope another queryset (book of business filter, trigger scope, scorecard assignment)."""
    return rules_accounts(segment.rules, today=today)


def segment_account_ids_q(segment: Segment, *, today: dt.date | None = None, prefix: str = "") -> dict[str, Any]:
    """Filter kwargs selecting a segment's accounts by subquery: ``qs.filter(**segment_account_ids_q(s))``."""
    return {f"{prefix}id__in": segment_accounts(segment, today=today).order_by().values("id")}


def segment_list() -> QuerySet[Segment]:
    return Segment.objects.select_related("created_by")


def segment_choices() -> QuerySet[Segment]:
    """Segments for pickers (book of business filter, trigger scope)."""
    return Segment.objects.order_by("name")


def rules_preview(rules: Any, *, limit: int = 20) -> dict[str, Any]:
    """Live count and the first members of draft rules: two queries (COUNT, page with owner joined)."""
    qs = rules_accounts(rules)
    return {
        "count": qs.order_by().count(),
        "accounts": list(qs.select_related("owner").order_by("name", "id")[:limit]),
    }


@dataclass
class MembershipDiff:
    """Who entered and who left a segment since its membership was last stored."""

    entered: list[int] = field(default_factory=list)
    left: list[int] = field(default_factory=list)


def segment_membership_diff(segment: Segment, *, today: dt.date | None = None) -> MembershipDiff:
    """Set-based diff of live members against stored memberships: two queries whatever the size."""
    live = segment_accounts(segment, today=today).order_by().values("id")
    stored = SegmentMembership.objects.filter(segment=segment)
    entered = list(
        segment_accounts(segment, today=today)
        .order_by()
        .exclude(id__in=stored.values("account_id"))
        .values_list("id", flat=True)
    )
    left = list(stored.exclude(account_id__in=live).values_list("account_id", flat=True))
    return MembershipDiff(entered=sorted(entered), left=sorted(left))
