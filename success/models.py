"""Success plans: the customer's business objectives, the onboarding milestones and the tasks to reach them,
built from admin-defined templates per tier or lifecycle stage."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q

from accounts.models import LifecycleStage, Tier


class PlanTemplate(models.Model):
    """An admin-defined starting point. ``items`` holds objectives, milestones and tasks with due days relative
    to the plan's start date: ``{"objectives": [{"title", "success_criteria", "target_days"}],
    "milestones": [{"kind", "name", "due_days"}], "tasks": [{"title", "due_days"}]}``."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(max_length=10000, validators=[MaxLengthValidator(10000)], blank=True)
    tier = models.CharField(max_length=16, choices=Tier.choices, blank=True, help_text="Empty: any tier.")
    lifecycle_stage = models.CharField(
        max_length=16, choices=LifecycleStage.choices, blank=True, help_text="Empty: any stage."
    )
    items = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PlanStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    ARCHIVED = "archived", "Archived"


class SuccessPlan(models.Model):
    """One account's plan. ``contract`` (optional) is the contract whose start date TTO counts from; without
    it the account's earliest non-draft contract start is used."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="success_plans")
    name = models.CharField(max_length=200)
    description = models.TextField(max_length=10000, validators=[MaxLengthValidator(10000)], blank=True)
    template = models.ForeignKey(PlanTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    contract = models.ForeignKey(
        "accounts.Contract", null=True, blank=True, on_delete=models.SET_NULL, related_name="success_plans"
    )
    start_date = models.DateField(help_text="Template due days count from here.")
    status = models.CharField(max_length=16, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="success_plans"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class ObjectiveStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    ACHIEVED = "achieved", "Achieved"
    MISSED = "missed", "Missed"


class Objective(models.Model):
    """A business goal of the customer, with how they will know it is met (success criteria)."""

    plan = models.ForeignKey(SuccessPlan, on_delete=models.CASCADE, related_name="objectives")
    title = models.CharField(max_length=300)
    success_criteria = models.TextField(max_length=10000, validators=[MaxLengthValidator(10000)], blank=True)
    target_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=ObjectiveStatus.choices, default=ObjectiveStatus.NOT_STARTED)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class MilestoneKind(models.TextChoices):
    KICKOFF = "kickoff", "Kickoff"
    GO_LIVE = "go_live", "Go-live"
    FIRST_VALUE = "first_value", "First value"
    CUSTOM = "custom", "Custom"


class Milestone(models.Model):
    """A dated step. Go-live and first value feed TTO and TTFV; at most one of each per plan."""

    plan = models.ForeignKey(SuccessPlan, on_delete=models.CASCADE, related_name="milestones")
    kind = models.CharField(max_length=16, choices=MilestoneKind.choices, default=MilestoneKind.CUSTOM)
    name = models.CharField(max_length=200)
    planned_date = models.DateField(null=True, blank=True)
    actual_date = models.DateField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "planned_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "kind"], condition=~Q(kind="custom"), name="milestone_one_standard_kind_per_plan"
            )
        ]

    def __str__(self) -> str:
        return self.name


class PlanTask(models.Model):
    """A to-do on the plan with an owner (a colleague) and a due date."""

    plan = models.ForeignKey(SuccessPlan, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="plan_tasks"
    )
    due_date = models.DateField(null=True, blank=True)
    done = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["done", "due_date", "position", "id"]
        indexes = [models.Index(fields=["owner", "done", "due_date"])]

    def __str__(self) -> str:
        return self.title
