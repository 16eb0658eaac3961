"""Logged activities (calls, meetings, ...) and the account timeline that merges them with everything else
that happens to an account (contract changes, CTAs, health band changes, survey answers, escalations)."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models


class ActivityKind(models.TextChoices):
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    EMAIL = "email", "Email"
    NOTE = "note", "Note"
    QBR = "qbr", "QBR / EBR"
    KICKOFF = "kickoff", "Kickoff / welcome call"
    ESCALATION = "escalation", "Escalation"


class Sentiment(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"


# Activities a customer takes part in count as touchpoints; an internal note does not.
TOUCHPOINT_KINDS = frozenset(
    {ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.EMAIL, ActivityKind.QBR, ActivityKind.KICKOFF,
     ActivityKind.ESCALATION}
)  # fmt: skip


class Activity(models.Model):
    """A touchpoint or note a CS person logs on an account. ``sentiment`` is what the CSM chose;
    ``suggested_sentiment`` and ``sentiment_score`` are VADER's reading of the text, kept for audit."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=16, choices=ActivityKind.choices)
    occurred_at = models.DateTimeField(db_index=True)
    subject = models.CharField(max_length=200, blank=True)
    summary = models.TextField(max_length=50000, validators=[MaxLengthValidator(50000)], blank=True)
    next_steps = models.TextField(max_length=50000, validators=[MaxLengthValidator(50000)], blank=True)
    sentiment = models.CharField(max_length=8, choices=Sentiment.choices, blank=True)
    suggested_sentiment = models.CharField(max_length=8, choices=Sentiment.choices, blank=True, editable=False)
    sentiment_score = models.FloatField(null=True, blank=True, editable=False, help_text="VADER compound, -1..1")
    attendee_contacts = models.ManyToManyField("accounts.Contact", blank=True, related_name="activities")
    attendee_users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="attended_activities")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="logged_activities"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [models.Index(fields=["account", "-occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject or self.summary[:60]}"

    @property
    def is_touchpoint(self) -> bool:
        return self.kind in TOUCHPOINT_KINDS


class EntryKind(models.TextChoices):
    """What a timeline line is about; other apps record their kinds through ``timeline_record``."""

    ACTIVITY = "activity", "Activity"
    CONTRACT = "contract", "Contract change"
    CTA_OPENED = "cta_opened", "CTA opened"
    CTA_CLOSED = "cta_closed", "CTA closed"
    HEALTH = "health", "Health band change"
    SURVEY = "survey", "Survey answer"
    ESCALATION = "escalation", "Support escalation"
    SUCCESS_PLAN = "success_plan", "Success plan"
    IMPORT = "import", "Import"


class TimelineEntry(models.Model):
    """One line of an account's feed. Activities have one entry each (``activity`` set); other apps write
    entries with a title, an optional body and free ``data`` (ids, old and new values) for links and exports."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="timeline_entries")
    kind = models.CharField(max_length=16, choices=EntryKind.choices, db_index=True)
    occurred_at = models.DateTimeField()
    title = models.CharField(max_length=300)
    body = models.TextField(max_length=50000, validators=[MaxLengthValidator(50000)], blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    activity = models.OneToOneField(
        Activity, null=True, blank=True, on_delete=models.CASCADE, related_name="timeline_entry"
    )
    # A pointer to whatever the entry is about, e.g. ("contract", 12); lets the source app update its entry.
    source_type = models.CharField(max_length=40, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "timeline entries"
        indexes = [
            models.Index(fields=["account", "-occurred_at", "-id"]),
            models.Index(fields=["account", "kind", "-occurred_at"]),
            models.Index(fields=["source_type", "source_id"]),
        ]

    def __str__(self) -> str:
        return self.title
