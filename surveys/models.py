"""Surveys (NPS, CSAT, CES), the mails sent to contacts with their signed answer links, the answers, and the
addresses that unsubscribed.

A ``Survey`` is either *relationship* (sent on a schedule to the contacts of a segment, filtered by role) or
*transactional* (sent to an account's contacts when a trigger fires). Each mail to one contact is a
``SurveySend`` (the recipient row, carrying the token id); a ``SurveyBatch`` is one background sending job with
its progress. A ``Response`` is the one answer of a send: changing one's answer updates it in place.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class SurveyKind(models.TextChoices):
    NPS = "nps", "NPS (0-10)"
    CSAT = "csat", "CSAT (1-5)"
    CES = "ces", "CES (1-7)"


# The inclusive score range of each kind.
SCALES: dict[str, tuple[int, int]] = {SurveyKind.NPS: (0, 10), SurveyKind.CSAT: (1, 5), SurveyKind.CES: (1, 7)}

DEFAULT_QUESTIONS = {
    SurveyKind.NPS: "How likely are you to recommend {company} to a friend or colleague?",
    SurveyKind.CSAT: "How satisfied are you with {company}?",
    SurveyKind.CES: "How easy was it to get what you needed from {company}?",
}


class SurveyMode(models.TextChoices):
    RELATIONSHIP = "relationship", "Relationship (scheduled)"
    TRANSACTIONAL = "transactional", "Transactional (sent by a trigger)"


class Schedule(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    HALF_YEARLY = "half_yearly", "Every six months"
    YEARLY = "yearly", "Yearly"


SCHEDULE_MONTHS = {Schedule.MONTHLY: 1, Schedule.QUARTERLY: 3, Schedule.HALF_YEARLY: 6, Schedule.YEARLY: 12}


class Band(models.TextChoices):
    """The score band of an answer; for NPS these are the glossary's categories."""

    LOW = "low", "Detractor / low"
    MID = "mid", "Passive / neutral"
    HIGH = "high", "Promoter / high"


class NpsCategory(models.TextChoices):
    PROMOTER = "promoter", "Promoter"
    PASSIVE = "passive", "Passive"
    DETRACTOR = "detractor", "Detractor"


class Survey(models.Model):
    """A survey definition: what is asked, to whom, how often, and how often any one contact may be asked."""

    name = models.CharField(max_length=150, unique=True)
    kind = models.CharField(max_length=8, choices=SurveyKind.choices, default=SurveyKind.NPS)
    question = models.CharField(max_length=300, blank=True, help_text="Blank: the standard question of the kind.")
    followup_question = models.CharField(
        max_length=300, default="What is the main reason for your score?", help_text="The open follow-up question."
    )
    followup_low = models.CharField(max_length=300, blank=True, help_text="Follow-up for low scores (detractors).")
    followup_mid = models.CharField(max_length=300, blank=True, help_text="Follow-up for middle scores (passives).")
    followup_high = models.CharField(max_length=300, blank=True, help_text="Follow-up for high scores (promoters).")
    mode = models.CharField(max_length=16, choices=SurveyMode.choices, default=SurveyMode.RELATIONSHIP)
    schedule = models.CharField(max_length=16, choices=Schedule.choices, blank=True)
    next_run_on = models.DateField(null=True, blank=True, help_text="Next scheduled send (relationship surveys).")
    segment = models.ForeignKey(
        "segments.Segment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="surveys",
        help_text="Relationship surveys go to this segment's accounts (blank: every active account).",
    )
    contact_roles = models.JSONField(default=list, blank=True, help_text="Contact roles asked (empty: all).")
    throttle_days = models.PositiveSmallIntegerField(
        default=90, help_text="No contact gets any survey more than once in this many days."
    )
    reminder_after_days = models.PositiveSmallIntegerField(
        null=True, blank=True, default=5, help_text="Remind once after this many days if unanswered (blank: never)."
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def scale(self) -> tuple[int, int]:
        return SCALES[self.kind]

    def question_text(self) -> str:
        return self.question or DEFAULT_QUESTIONS[self.kind].format(company=settings.SURVEY_COMPANY_NAME)

    def followup_for(self, score: int | None) -> str:
        band = score_band(self.kind, score) if score is not None else None
        text = {Band.LOW: self.followup_low, Band.MID: self.followup_mid, Band.HIGH: self.followup_high}.get(band)
        return text or self.followup_question


def score_band(kind: str, score: int) -> str:
    """NPS: 0-6 low (detractor), 7-8 mid (passive), 9-10 high (promoter). CSAT: 1-2 low, 3 mid, 4-5 high
    (CSAT counts 4-5 as satisfied). CES (1-7, higher is easier): 1-3 low, 4-5 mid, 6-7 high."""
    if kind == SurveyKind.NPS:
        return Band.LOW if score <= 6 else Band.MID if score <= 8 else Band.HIGH
    if kind == SurveyKind.CSAT:
        return Band.LOW if score <= 2 else Band.MID if score == 3 else Band.HIGH
    return Band.LOW if score <= 3 else Band.MID if score <= 5 else Band.HIGH


def nps_category(score: int) -> str:
    return {Band.LOW: NpsCategory.DETRACTOR, Band.MID: NpsCategory.PASSIVE, Band.HIGH: NpsCategory.PROMOTER}[
        score_band(SurveyKind.NPS, score)
    ]


class BatchStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Sending"
    DONE = "done", "Done"
    FAILED = "failed", "Done with failures"


class SurveyBatch(models.Model):
    """One background sending job (a scheduled run, a manual send, reminders, or a trigger's send) and its
    progress, which the results page polls."""

    class Purpose(models.TextChoices):
        SEND = "send", "Survey"
        REMINDER = "reminder", "Reminder"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="batches")
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.SEND)
    status = models.CharField(max_length=10, choices=BatchStatus.choices, default=BatchStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="Contacts left out: throttled or unsubscribed.")
    source = models.CharField(max_length=60, blank=True, help_text="schedule, manual, trigger:<id>, reminder.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.survey} batch #{self.pk}"

    @property
    def progress(self) -> int:
        return round(100 * (self.sent + self.failed) / self.total) if self.total else 100


class SendStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class SurveySend(models.Model):
    """One survey mail to one contact (the recipient). Its links carry a token signing ``token_id`` (a random
    UUID): the token names this send only, so it answers or changes this contact's answer and nothing else."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="sends")
    batch = models.ForeignKey(SurveyBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="sends")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="survey_sends")
    contact = models.ForeignKey("accounts.Contact", on_delete=models.CASCADE, related_name="survey_sends")
    email = models.EmailField()
    token_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=SendStatus.choices, default=SendStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    # The reminder, once: its own job and status so the first mail's outcome stays as it was.
    reminder_batch = models.ForeignKey(
        SurveyBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="reminder_sends"
    )
    reminder_status = models.CharField(max_length=10, choices=SendStatus.choices, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "-created_at"]),
            models.Index(fields=["batch", "status"]),
            models.Index(fields=["survey", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.survey} → {self.email}"


SurveyRecipient = SurveySend


class Channel(models.TextChoices):
    EMAIL = "email", "Email link"
    PAGE = "page", "Answer page"
    EMBED = "embed", "In-app embed"


class Response(models.Model):
    """The answer of one send: a score in the survey's range, an optional comment with its VADER sentiment, and
    for NPS the category. ``notified_at``: when triggers heard of it (after the follow-up, or a grace period)."""

    send = models.OneToOneField(SurveySend, on_delete=models.CASCADE, related_name="response")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="survey_responses")
    contact = models.ForeignKey("accounts.Contact", on_delete=models.CASCADE, related_name="survey_responses")
    kind = models.CharField(max_length=8, choices=SurveyKind.choices)
    score = models.SmallIntegerField()
    band = models.CharField(max_length=8, choices=Band.choices)
    nps_category = models.CharField(max_length=10, choices=NpsCategory.choices, blank=True)
    comment = models.TextField(blank=True)
    sentiment = models.CharField(max_length=10, blank=True)
    sentiment_score = models.FloatField(null=True, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    completed = models.BooleanField(default=False, help_text="The follow-up page was submitted.")
    answered_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    notified_band = models.CharField(max_length=8, blank=True)

    class Meta:
        ordering = ["-answered_at", "-id"]
        indexes = [
            models.Index(fields=["survey", "-answered_at"]),
            models.Index(fields=["account", "kind", "-answered_at"]),
            models.Index(fields=["kind", "-answered_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=10), name="survey_response_score_range"),
        ]

    def __str__(self) -> str:
        return f"{self.kind.upper()} {self.score} ({self.account_id})"


class Unsubscribe(models.Model):
    """An address that asked never to receive a survey again (lowercased)."""

    email = models.EmailField(unique=True)
    contact = models.ForeignKey(
        "accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_unsubscribes"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.email
