"""Renewals of contracts and expansion opportunities: the forward-looking side of the revenue ledger.

Imported by ``accounts.models`` so Django registers these models with the ``accounts`` app.
Writes go through ``accounts.renewals`` (services); the stage and the CSM's call are kept apart because
the stage is where the deal stands and the call is the CSM's prediction of how it ends.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models


class RenewalStage(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    VERBAL_YES = "verbal_yes", "Verbal yes"
    SIGNED = "signed", "Signed"
    CHURNED = "churned", "Churned"


OPEN_STAGES = (RenewalStage.NOT_STARTED, RenewalStage.IN_PROGRESS, RenewalStage.VERBAL_YES)
CLOSED_STAGES = (RenewalStage.SIGNED, RenewalStage.CHURNED)


class ForecastCall(models.TextChoices):
    NONE = "", "No call"
    COMMIT = "commit", "Commit"
    AT_RISK = "at_risk", "At risk"
    WILL_CHURN = "will_churn", "Will churn"


class Renewal(models.Model):
    """The renewal of one contract, opened ``RENEWAL_OPEN_DAYS`` before it ends. ``expected_arr`` is what the CSM
    expects the next term to bring; ``closed_on`` is set when the stage becomes signed or churned."""

    contract = models.OneToOneField("accounts.Contract", on_delete=models.CASCADE, related_name="renewal")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="renewals")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="renewals"
    )
    stage = models.CharField(max_length=12, choices=RenewalStage.choices, default=RenewalStage.NOT_STARTED)
    expected_arr = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    forecast_call = models.CharField(max_length=12, choices=ForecastCall.choices, blank=True, default="")
    forecast_call_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    forecast_call_at = models.DateTimeField(null=True, blank=True)
    risk_reason = models.TextField(blank=True)
    closed_on = models.DateField(null=True, blank=True)
    # The contract a signed renewal created (accounts.services.contract_renew).
    next_contract = models.ForeignKey(
        "accounts.Contract", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["contract__end_date", "id"]
        indexes = [
            models.Index(fields=["stage"], name="renewal_stage_idx"),
            models.Index(fields=["owner", "stage"], name="renewal_owner_stage_idx"),
        ]

    def __str__(self) -> str:
        return f"Renewal of {self.contract_id}"

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES


class RenewalCallChange(models.Model):
    """History of the CSM's forecast call on a renewal: who changed it, when, from what to what, and why."""

    renewal = models.ForeignKey(Renewal, on_delete=models.CASCADE, related_name="call_changes")
    old_call = models.CharField(max_length=12, choices=ForecastCall.choices, blank=True)
    new_call = models.CharField(max_length=12, choices=ForecastCall.choices, blank=True)
    risk_reason = models.TextField(blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.old_call or '-'} -> {self.new_call or '-'}"


class ExpansionStage(models.TextChoices):
    IDENTIFIED = "identified", "Identified"
    QUALIFIED = "qualified", "Qualified"
    PROPOSAL = "proposal", "Proposal"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class ExpansionOpportunity(models.Model):
    """An upsell or cross-sell a CSM spotted in an account (a CSQL), with the ARR it would add."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="expansions")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="expansions"
    )
    title = models.CharField(max_length=200)
    amount_arr = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    stage = models.CharField(max_length=12, choices=ExpansionStage.choices, default=ExpansionStage.IDENTIFIED)
    expected_close = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["expected_close", "id"]
        indexes = [models.Index(fields=["owner", "stage"], name="expansion_owner_stage_idx")]

    def __str__(self) -> str:
        return self.title
