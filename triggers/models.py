"""Triggers ("if X then Y"), what they matched, and their execution log."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models

from accounts.models import LifecycleStage
from playbooks.models import CTAPriority, CTAType


class ConditionType(models.TextChoices):
    HEALTH_BAND = "health_band", "Health band changed to"
    SCORE_DROP = "score_drop", "Health score dropped by N points"
    USAGE_DROP = "usage_drop", "Usage fell by N% against the previous period"
    LICENSE_UTILIZATION = "license_utilization", "License utilization below N%"
    RENEWAL_WITHIN = "renewal_within", "Renewal within N days"
    NO_TOUCHPOINT = "no_touchpoint", "No touchpoint for N days"
    SUPPORT_ESCALATION = "support_escalation", "Support escalation"
    LIFECYCLE_ENTERED = "lifecycle_entered", "Lifecycle stage entered"
    SEGMENT_ENTERED = "segment_entered", "Segment entered"
    SEGMENT_LEFT = "segment_left", "Segment left"
    PRODUCT_EVENT = "product_event", "Product event received"
    SURVEY_ANSWER = "survey_answer", "NPS / CSAT answer in a range"


class Trigger(models.Model):
    """An automation rule: when the condition becomes true for an account (optionally only accounts of a scope
    segment), run the actions. ``params`` holds the condition's settings, validated per type by
    ``triggers.conditions``. New triggers start inactive: dry-run them, then activate."""

    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(max_length=10000, validators=[MaxLengthValidator(10000)], blank=True)
    is_active = models.BooleanField(default=False)
    condition_type = models.CharField(max_length=24, choices=ConditionType.choices)
    params = models.JSONField(default=dict, blank=True)
    condition_segment = models.ForeignKey(
        "segments.Segment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="condition_triggers",
        help_text="For segment entered / left.",
    )
    scope_segment = models.ForeignKey(
        "segments.Segment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="scoped_triggers",
        help_text="Only accounts of this segment (optional).",
    )
    # Actions
    open_cta = models.BooleanField("open a CTA", default=True)
    cta_type = models.CharField("CTA type", max_length=16, choices=CTAType.choices, default=CTAType.RISK)
    cta_priority = models.CharField("CTA priority", max_length=8, choices=CTAPriority.choices, default=CTAPriority.HIGH)
    cta_reason = models.ForeignKey(
        "playbooks.CTAReason",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="CTA reason",
    )
    cta_playbook = models.ForeignKey(
        "playbooks.Playbook",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="CTA playbook",
    )
    cta_title = models.CharField(
        "CTA title",
        max_length=200,
        default="{{ trigger }}: {{ account }}",
        help_text="Template: {{ account }}, {{ trigger }}, {{ reason }}, {{ owner }}.",
    )
    cta_due_in_days = models.PositiveSmallIntegerField(
        "CTA due in (days)", null=True, blank=True, help_text="Blank: the playbook's last step (or a week)."
    )
    notify_owner = models.BooleanField(default=False, help_text="In-app notification to the account owner.")
    notify_email = models.BooleanField(default=False, help_text="Also email the owner.")
    webhook_url = models.URLField("webhook URL", blank=True, help_text="POST a Slack-compatible JSON body here.")
    set_lifecycle_stage = models.CharField(max_length=16, choices=LifecycleStage.choices, blank=True)
    send_survey = models.ForeignKey(
        "surveys.Survey",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Send this survey to the account's contacts (transactional survey; throttling applies).",
    )
    cooldown_days = models.PositiveSmallIntegerField(
        default=14, help_text="After its CTA is closed (or, without CTA, after it fired), wait this long."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_run_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["is_active", "condition_type"])]

    def __str__(self) -> str:
        return self.name

    @property
    def source_key(self) -> str:
        return f"trigger:{self.pk}"

    def clean(self) -> None:
        from triggers.conditions import validate_trigger

        validate_trigger(self)


class TriggerMatch(models.Model):
    """An account for which a state condition held at the last evaluation and the trigger fired. The trigger
    fires again only after the account stopped matching (the row is then deleted): edge-triggered."""

    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="matches")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    matched_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["trigger", "account"], name="trigger_match_unique")]

    def __str__(self) -> str:
        return f"{self.trigger_id}:{self.account_id}"


class TriggerExecution(models.Model):
    """One firing of a trigger for one account: when, why, and (through ``actions``) what it did."""

    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="executions")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="trigger_executions")
    fired_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-fired_at", "-id"]
        indexes = [
            models.Index(fields=["trigger", "-fired_at"]),
            models.Index(fields=["trigger", "account", "-fired_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.trigger_id} → {self.account_id} at {self.fired_at:%Y-%m-%d %H:%M}"


class ActionKind(models.TextChoices):
    CTA = "cta", "Open CTA"
    NOTIFY = "notify", "Notify owner (in-app)"
    EMAIL = "email", "Email owner"
    WEBHOOK = "webhook", "Webhook"
    LIFECYCLE = "lifecycle", "Set lifecycle stage"
    SURVEY = "survey", "Send survey"


class ActionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class TriggerActionLog(models.Model):
    """One action of one execution: its outcome, how many attempts it took, and what happened (or why not)."""

    execution = models.ForeignKey(TriggerExecution, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(max_length=12, choices=ActionKind.choices)
    status = models.CharField(max_length=10, choices=ActionStatus.choices, default=ActionStatus.PENDING)
    detail = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.status}"
