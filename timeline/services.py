"""Writes to activities and the timeline. Other apps record their events with ``timeline_record``."""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from accounts.models import Account, Contract
from accounts.signals import account_changed_on_commit
from csp.modeling import apply_fields
from csp.models import User
from timeline.models import TOUCHPOINT_KINDS, Activity, EntryKind, TimelineEntry
from timeline.sentiment import sentiment_suggest

ACTIVITY_FIELDS = frozenset({"kind", "occurred_at", "subject", "summary", "next_steps", "sentiment"})
# Logging is about what happened; a little clock skew between browser and server is tolerated.
FUTURE_TOLERANCE = dt.timedelta(minutes=10)


def timeline_record(
    *,
    account: Account | int,
    kind: str,
    title: str,
    occurred_at: dt.datetime | None = None,
    body: str = "",
    actor: User | None = None,
    source: tuple[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> TimelineEntry:
    """Add a line to an account's timeline. The hook for other apps (CTAs, health, surveys, support):
    ``timeline_record(account=a, kind=EntryKind.HEALTH, title="Health: green → red", data={...})``."""
    if kind not in EntryKind.values:
        raise ValidationError({"kind": f"Unknown timeline kind {kind!r}."})
    entry = TimelineEntry(
        account_id=account if isinstance(account, int) else account.pk,
        kind=kind,
        title=title[:300],
        body=body,
        actor=actor,
        occurred_at=occurred_at or timezone.now(),
        source_type=source[0] if source else "",
        source_id=str(source[1]) if source else "",
        data=data or {},
    )
    entry.save()
    return entry


def timeline_record_many(*, entries: list[dict[str, Any]]) -> list[TimelineEntry]:
    """``timeline_record`` for many lines at once (one bulk insert): each dict holds its keyword arguments. For
    services that write one line per object of a batch (CTAs opened by a trigger for many accounts)."""
    now = timezone.now()
    rows = []
    for e in entries:
        if e["kind"] not in EntryKind.values:
            raise ValidationError({"kind": f"Unknown timeline kind {e['kind']!r}."})
        account, source = e["account"], e.get("source")
        rows.append(
            TimelineEntry(
                account_id=account if isinstance(account, int) else account.pk,
                kind=e["kind"],
                title=e["title"][:300],
                body=e.get("body", ""),
                actor=e.get("actor"),
                occurred_at=e.get("occurred_at") or now,
                source_type=source[0] if source else "",
                source_id=str(source[1]) if source else "",
                data=e.get("data") or {},
            )
        )
    return TimelineEntry.objects.bulk_create(rows, batch_size=1000)


def timeline_record_contract(*, contract: Contract, action: str) -> TimelineEntry:
    """A contract was created, updated or deleted: one feed line with its ARR and term at that moment."""
    return timeline_record(
        account=contract.account_id,
        kind=EntryKind.CONTRACT,
        title=f"Contract {action}: {contract}",
        source=("contract", contract.pk),
        data={
            "action": action,
            "status": contract.status,
            "arr": str(contract.arr),
            "seats": contract.seats,
            "start_date": contract.start_date.isoformat() if contract.start_date else None,
            "end_date": contract.end_date.isoformat() if contract.end_date else None,
        },
    )


def account_touchpoint_refresh(*, account_ids: Iterable[int]) -> int:
    """Set ``Account.last_touchpoint_at`` to the latest touchpoint activity (calls, meetings, emails, QBRs,
    kickoffs, escalations; internal notes are not touchpoints), in one UPDATE for any number of accounts."""
    latest = (
        Activity.objects.filter(account=OuterRef("pk"), kind__in=TOUCHPOINT_KINDS)
        .values("account")
        .annotate(last=Max("occurred_at"))
        .values("last")
    )
    return Account.objects.filter(id__in=list(account_ids)).update(last_touchpoint_at=Subquery(latest))


def _entry_title(activity: Activity) -> str:
    return f"{activity.get_kind_display()}: {activity.subject or activity.summary[:80] or 'no summary'}"


def _validate_and_save(activity: Activity, contacts, users) -> Activity:
    if activity.occurred_at and activity.occurred_at > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError({"occurred_at": "An activity is logged after it happens: the date is in the future."})
    if not (activity.subject or activity.summary).strip():
        raise ValidationError({"summary": "Give a subject or a summary."})
    if contacts is not None:
        contacts = list(contacts)
        foreign = [c for c in contacts if c.account_id != activity.account_id]
        if foreign:
            raise ValidationError({"attendee_contacts": f"{foreign[0]} is not a contact of this account."})
    label, score = sentiment_suggest(f"{activity.summary}\n{activity.next_steps}".strip() or activity.subject)
    activity.suggested_sentiment, activity.sentiment_score = label, score
    # Leaving sentiment empty accepts the suggestion.
    activity.sentiment = activity.sentiment or label
    activity.full_clean()
    activity.save()
    if contacts is not None:
        activity.attendee_contacts.set(contacts)
    if users is not None:
        activity.attendee_users.set(list(users))
    return activity


@transaction.atomic
def activity_create(
    *, account: Account, author: User | None, data: dict[str, Any], contacts=None, users=None
) -> Activity:
    """Log an activity: store it with VADER's suggestion, add its timeline line, move the last touchpoint."""
    data = dict(data)
    data.setdefault("occurred_at", timezone.now())
    activity = Activity(account=account, author=author)
    apply_fields(activity, data, ACTIVITY_FIELDS)
    _validate_and_save(activity, contacts, users or [])
    TimelineEntry.objects.create(
        account=account,
        kind=EntryKind.ACTIVITY,
        occurred_at=activity.occurred_at,
        title=_entry_title(activity),
        actor=author,
        activity=activity,
        source_type="activity",
        source_id=str(activity.pk),
    )
    account_touchpoint_refresh(account_ids=[account.pk])
    account_changed_on_commit([account.pk])
    return activity


@transaction.atomic
def activity_update(*, activity: Activity, data: dict[str, Any], contacts=None, users=None) -> Activity:
    """Change an activity; its timeline line and the account's last touchpoint follow."""
    apply_fields(activity, data, ACTIVITY_FIELDS)
    _validate_and_save(activity, contacts, users)
    TimelineEntry.objects.filter(activity=activity).update(
        occurred_at=activity.occurred_at, title=_entry_title(activity)
    )
    account_touchpoint_refresh(account_ids=[activity.account_id])
    account_changed_on_commit([activity.account_id])
    return activity


@transaction.atomic
def activity_delete(*, activity: Activity) -> None:
    """Remove an activity and its timeline line; the last touchpoint falls back to the previous one."""
    account_id = activity.account_id
    activity.delete()
    account_touchpoint_refresh(account_ids=[account_id])
    account_changed_on_commit([account_id])


def timeline_record_health_changes(*, changes: list[dict[str, Any]]) -> int:
    """Health band changes from one recompute as feed lines, in one bulk insert. An account's first score is
    not a change and is left out (a nightly run over thousands of new accounts would flood the feeds)."""
    now = timezone.now()
    entries = [
        TimelineEntry(
            account_id=change["account_id"],
            kind=EntryKind.HEALTH,
            title=f"Health: {change['old_band']} → {change['new_band'] or 'unscored'}",
            occurred_at=now,
            source_type="health",
            data={k: change.get(k) for k in ("old_band", "new_band", "old_score", "new_score")},
        )
        for change in changes
        if change.get("old_band")
    ]
    TimelineEntry.objects.bulk_create(entries, batch_size=1000)
    return len(entries)
