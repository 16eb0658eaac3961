"""CTAs (calls to action), their tasks and comments, and the playbooks that stamp tasks onto them."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator
from django.db import models
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils import timezone

from accounts.models import AccountTeamRole


class CTAType(models.TextChoices):
    RISK = "risk", "Risk"
    OPPORTUNITY = "opportunity", "Opportunity (expansion)"
    RENEWAL = "renewal", "Renewal"
    LIFECYCLE = "lifecycle", "Lifecycle (onboarding, adoption)"
    ACTIVITY = "activity", "Activity"


class CTAPriority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


# Sort key: urgent first. Used by selectors to order CTAs due the same day.
PRIORITY_RANK = {CTAPriority.URGENT: 0, CTAPriority.HIGH: 1, CTAPriority.MEDIUM: 2, CTAPriority.LOW: 3}


def priority_rank() -> Case:
    """Urgent first: the cockpit's order within a due date. The cockpit index is built on this very expression, so
    the page's ORDER BY due_date, rank, id LIMIT 50 walks the index instead of sorting every CTA in scope."""
    return Case(
        *[When(priority=p, then=Value(rank)) for p, rank in PRIORITY_RANK.items()],
        default=Value(9),
        output_field=IntegerField(),
    )


class CTAStatus(models.TextChoices):
    OPEN = "open", "Open"
    SNOOZED = "snoozed", "Snoozed"
    CLOSED = "closed", "Closed"


# Every status but closed: what the cockpit reads, and the condition of its partial index.
NOT_CLOSED = (CTAStatus.OPEN, CTAStatus.SNOOZED)


class CTAOutcome(models.TextChoices):
    SUCCESS = "success", "Success"
    NO_ACTION_NEEDED = "no_action_needed", "No action needed"
    LOST = "lost", "Lost"


class CTASource(models.TextChoices):
    MANUAL = "manual", "Manual"
    TRIGGER = "trigger", "Trigger"


class TaskType(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    MEETING = "meeting", "Meeting"
    TODO = "todo", "To-do"


ASSIGNEE_ACCOUNT_OWNER = "account_owner"
ASSIGNEE_OWNER_MANAGER = "owner_manager"
ASSIGNEE_TEAM_PREFIX = "account_team:"
ASSIGNEE_ROLE_CHOICES = [
    (ASSIGNEE_ACCOUNT_OWNER, "Account owner"),
    *[(f"{ASSIGNEE_TEAM_PREFIX}{value}", f"Account team: {label}") for value, label in AccountTeamRole.choices],
    (ASSIGNEE_OWNER_MANAGER, "Owner's manager"),
]


class CTAReason(models.Model):
    """Why a CTA was opened ("Usage drop", "Renewal in 90 days"...): an admin-managed list, optionally tied
    to one CTA type so the open form can suggest it. Retired reasons are deactivated, not deleted."""

    name = models.CharField(max_length=120, unique=True)
    cta_type = models.CharField(
        "CTA type",
        max_length=16,
        choices=CTAType.choices,
        blank=True,
        help_text="Leave blank to offer it for every type.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Playbook(models.Model):
    """A named template of ordered tasks; applying it to a CTA creates real tasks with dates and assignees."""

    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(max_length=10000, validators=[MaxLengthValidator(10000)], blank=True)
    cta_type = models.CharField(
        "CTA type",
        max_length=16,
        choices=CTAType.choices,
        blank=True,
        help_text="The CTA type this playbook is meant for.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PlaybookTask(models.Model):
    """One step of a playbook: what to do, how, when (days after the CTA opened) and by whom (a role)."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="tasks")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    task_type = models.CharField(max_length=16, choices=TaskType.choices, default=TaskType.TODO)
    guidance = models.TextField(
        max_length=20000,
        validators=[MaxLengthValidator(20000)],
        blank=True,
        help_text="How to do it well: talking points, links, templates.",
    )
    due_in_days = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(365)], help_text="Days after the CTA is opened."
    )
    assignee_role = models.CharField(max_length=40, choices=ASSIGNEE_ROLE_CHOICES, default=ASSIGNEE_ACCOUNT_OWNER)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class CTA(models.Model):
    """A call to action on an account: something a CSM must do by a date, opened by hand or by a trigger.

    A snoozed CTA keeps ``status=snoozed`` and comes back into the cockpit on ``snoozed_until`` by query
    (``selectors.cta_active_q``), so no periodic job has to wake it."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="ctas")
    cta_type = models.CharField("type", max_length=16, choices=CTAType.choices)
    priority = models.CharField(max_length=8, choices=CTAPriority.choices, default=CTAPriority.MEDIUM)
    reason = models.ForeignKey(CTAReason, null=True, blank=True, on_delete=models.SET_NULL, related_name="ctas")
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=10000, validators=[MaxLengthValidator(10000)], blank=True)
    due_date = models.DateField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="ctas"
    )
    status = models.CharField(max_length=8, choices=CTAStatus.choices, default=CTAStatus.OPEN)
    snoozed_until = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=CTAOutcome.choices, blank=True)
    outcome_note = models.TextField(max_length=10000, validators=[MaxLengthValidator(10000)], blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=8, choices=CTASource.choices, default=CTASource.MANUAL)
    # "trigger:<id>" for trigger CTAs: dedupe and cool-down look CTAs up by (account, source_key, status).
    source_key = models.CharField(max_length=100, blank=True)
    playbook = models.ForeignKey(Playbook, null=True, blank=True, on_delete=models.SET_NULL, related_name="ctas")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = "CTA"
        indexes = [
            models.Index(fields=["account", "source_key", "status"]),
            models.Index(fields=["owner", "status", "due_date"]),
            models.Index(fields=["status", "due_date"]),
            # The cockpit's order (selectors.cockpit_queryset) over the CTAs it can show (open or snoozed).
            models.Index(
                F("due_date"), priority_rank(), F("id"), name="cta_cockpit_order", condition=Q(status__in=NOT_CLOSED)
            ),
            # Its group and per-owner counts, answered from the index alone (an index-only scan, no table rows).
            models.Index(
                fields=["owner", "due_date"],
                include=["status", "snoozed_until"],
                name="cta_cockpit_owner",
                condition=Q(status__in=NOT_CLOSED),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status="closed") | Q(outcome=""), name="cta_outcome_only_when_closed"),
            models.CheckConstraint(condition=~Q(status="closed") | ~Q(outcome=""), name="cta_closed_has_outcome"),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.status == CTAStatus.CLOSED and not self.outcome:
            raise ValidationError({"outcome": "Pick an outcome to close the CTA."})
        if self.status == CTAStatus.SNOOZED and not self.snoozed_until:
            raise ValidationError({"snoozed_until": "A snoozed CTA needs a date to come back."})

    @property
    def is_closed(self) -> bool:
        return self.status == CTAStatus.CLOSED


class CTATask(models.Model):
    """A task of a CTA, stamped from a playbook step (or added by hand), with its real date and assignee."""

    cta = models.ForeignKey(CTA, on_delete=models.CASCADE, related_name="tasks", verbose_name="CTA")
    playbook_task = models.ForeignKey(PlaybookTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    task_type = models.CharField(max_length=16, choices=TaskType.choices, default=TaskType.TODO)
    guidance = models.TextField(max_length=20000, validators=[MaxLengthValidator(20000)], blank=True)
    due_date = models.DateField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="cta_tasks"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["position", "due_date", "id"]
        indexes = [models.Index(fields=["assignee", "completed_at", "due_date"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.completed_at is not None


class CTAComment(models.Model):
    """A note on a CTA's progress, by a colleague."""

    cta = models.ForeignKey(CTA, on_delete=models.CASCADE, related_name="comments", verbose_name="CTA")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(max_length=10000, validators=[MaxLengthValidator(10000)])
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:50]
