"""Segments: rule-based saved filters over accounts, and their stored membership (for "entered/left" triggers)."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models


class Segment(models.Model):
    """A saved, rule-based filter over accounts. ``rules`` is a tree of AND/OR groups of conditions on a
    whitelist of fields (``segments.rules``); it is compiled to one queryset, never evaluated in Python.
    Members are recomputed live wherever a segment filters; ``SegmentMembership`` keeps the last evaluated
    set so a periodic diff can tell who entered or left."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(max_length=10000, validators=[MaxLengthValidator(10000)], blank=True)
    rules = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    members_refreshed_at = models.DateTimeField(null=True, blank=True, editable=False)
    member_count = models.PositiveIntegerField(default=0, editable=False, help_text="As of the last refresh.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from segments.rules import validate_rules

        self.rules = validate_rules(self.rules)


class SegmentMembership(models.Model):
    """An account that was a member of a segment at its last refresh, since ``entered_at``."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="segment_memberships")
    entered_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["segment", "account"], name="segment_membership_unique")]
        indexes = [models.Index(fields=["account"])]

    def __str__(self) -> str:
        return f"{self.segment_id}:{self.account_id}"
