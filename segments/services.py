"""Writes of segments: create, update, delete, and membership refresh (the diff behind "entered/left" triggers)."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from csp.models import User
from segments.models import Segment, SegmentMembership
from segments.selectors import MembershipDiff, segment_membership_diff

SEGMENT_FIELDS = ("name", "description", "rules")


@transaction.atomic
def segment_create(*, data: dict[str, Any], user: User | None = None) -> Segment:
    """Create a segment after validating its rules against the whitelist; its membership baseline is stored
    at once, so "entered" triggers fire only for accounts that enter after the segment was saved."""
    segment = Segment(created_by=user)
    for name in SEGMENT_FIELDS:
        if name in data:
            setattr(segment, name, data[name])
    segment.full_clean()
    segment.save()
    segment_refresh_memberships(segment=segment, baseline=True)
    return segment


@transaction.atomic
def segment_update(*, segment: Segment, data: dict[str, Any]) -> Segment:
    """Change a segment. New rules re-baseline the stored membership: an admin's edit is not news about
    accounts, so it fires no "entered/left" trigger by itself."""
    old_rules = segment.rules
    for name in SEGMENT_FIELDS:
        if name in data:
            setattr(segment, name, data[name])
    segment.full_clean()
    segment.save()
    if segment.rules != old_rules:
        segment_refresh_memberships(segment=segment, baseline=True)
    return segment


@transaction.atomic
def segment_delete(*, segment: Segment) -> None:
    """Delete a segment; refused while a trigger uses it (as scope or condition)."""
    try:
        segment.delete()
    except ProtectedError as exc:
        names = sorted({str(o) for o in exc.protected_objects})
        raise ValidationError({"segment": f"Used by trigger(s) {', '.join(names)}: change them first."}) from exc


def segment_membership_apply(*, segment: Segment, diff: MembershipDiff) -> None:
    """Store a computed diff: insert who entered, delete who left (two statements)."""
    now = timezone.now()
    SegmentMembership.objects.bulk_create(
        [SegmentMembership(segment=segment, account_id=i, entered_at=now) for i in diff.entered],
        batch_size=2000,
        ignore_conflicts=True,
    )
    if diff.left:
        SegmentMembership.objects.filter(segment=segment, account_id__in=diff.left).delete()
    segment.members_refreshed_at = now
    segment.member_count = SegmentMembership.objects.filter(segment=segment).count()
    Segment.objects.filter(pk=segment.pk).update(
        members_refreshed_at=segment.members_refreshed_at, member_count=segment.member_count
    )


@transaction.atomic
def segment_refresh_memberships(*, segment: Segment, baseline: bool = False) -> MembershipDiff:
    """Recompute the stored membership of one segment under a row lock (so two refreshes never report the same
    entry twice) and return the diff. ``baseline`` only records it (used on save)."""
    Segment.objects.select_for_update().filter(pk=segment.pk).first()
    diff = segment_membership_diff(segment)
    segment_membership_apply(segment=segment, diff=diff)
    return MembershipDiff() if baseline else diff
