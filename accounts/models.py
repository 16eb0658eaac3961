"""Accounts, their people and their contracts: the book of business."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q


class Tier(models.TextChoices):
    SMB = "smb", "SMB"
    MID_MARKET = "mid_market", "Mid-Market"
    ENTERPRISE = "enterprise", "Enterprise"


class LifecycleStage(models.TextChoices):
    ONBOARDING = "onboarding", "Onboarding"
    ADOPTION = "adoption", "Adoption"
    GROWTH = "growth", "Growth"
    RENEWAL = "renewal", "Renewal"
    CHURNED = "churned", "Churned"


class EngagementModel(models.TextChoices):
    HIGH_TOUCH = "high_touch", "High touch"
    LOW_TOUCH = "low_touch", "Low touch"
    TECH_TOUCH = "tech_touch", "Tech touch"


class AccountStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"


class Account(models.Model):
    """A customer company. ``arr`` and ``next_renewal_date`` are kept in step with its active contracts
    by ``accounts.services.account_refresh_financials`` so lists can sort and sum them without joins."""

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(
        "external ID",
        max_length=100,
        unique=True,
        null=True,
        blank=True,
        help_text="The id of this account in your CRM.",
    )
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.SMB)
    industry = models.CharField(max_length=100, blank=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    region = models.CharField(max_length=50, blank=True)
    lifecycle_stage = models.CharField(max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.ONBOARDING)
    engagement_model = models.CharField(
        max_length=16, choices=EngagementModel.choices, default=EngagementModel.LOW_TOUCH
    )
    # No index of its own: the (owner, name) index below serves every lookup by owner (and ON DELETE SET NULL).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_accounts",
        db_index=False,
    )
    status = models.CharField(max_length=16, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    custom_fields = models.JSONField(default=dict, blank=True)
    arr = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"), editable=False)
    next_renewal_date = models.DateField(null=True, blank=True, editable=False)
    # Dated churn (revenue history): set by accounts.services.account_churn or a lifecycle change to churned.
    churned_on = models.DateField(null=True, blank=True)
    churn_reason = models.CharField(max_length=200, blank=True)
    # Kept by the timeline when a CSM logs a touchpoint; "going dark" lists and health read it.
    last_touchpoint_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            # The lists' default order (Meta.ordering): a page of 50 reads 50 index entries instead of sorting
            # every account.
            models.Index(fields=["name", "id"]),
            models.Index(fields=["owner", "name"]),
            models.Index(fields=["tier"]),
            models.Index(fields=["lifecycle_stage"]),
            models.Index(fields=["arr"]),
            models.Index(fields=["next_renewal_date"]),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=F("id")), name="account_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.custom_fields, dict):
            raise ValidationError({"custom_fields": "Custom fields must be a JSON object."})
        if self.parent_id and self.pk:
            # Walk up the hierarchy: an account may not become its own ancestor.
            seen, node = {self.pk}, self.parent
            while node is not None:
                if node.pk in seen:
                    raise ValidationError({"parent": "An account cannot be its own parent or ancestor."})
                seen.add(node.pk)
                node = node.parent


class AccountTeamRole(models.TextChoices):
    AE = "ae", "Account Executive"
    AM = "am", "Account Manager"
    SE = "se", "Solutions Engineer"
    IMPLEMENTATION = "implementation", "Implementation"
    SUPPORT = "support", "Support"
    EXEC_SPONSOR = "exec_sponsor", "Executive sponsor"


class AccountTeamMember(models.Model):
    """A colleague working an account beside its owner, in a named role (AE, AM, ...)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="team_members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_roles")
    role = models.CharField(max_length=20, choices=AccountTeamRole.choices)

    class Meta:
        ordering = ["role", "id"]
        constraints = [models.UniqueConstraint(fields=["account", "user", "role"], name="account_team_unique")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class ContactRole(models.TextChoices):
    CHAMPION = "champion", "Champion"
    DECISION_MAKER = "decision_maker", "Decision maker"
    POINT_OF_CONTACT = "point_of_contact", "Point of contact"
    GATEKEEPER = "gatekeeper", "Gatekeeper"
    END_USER = "end_user", "End user"


class Contact(models.Model):
    """A person at a customer account, with the part they play in the relationship."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    title = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=20, choices=ContactRole.choices, default=ContactRole.END_USER)
    is_primary = models.BooleanField(default=False)
    external_id = models.CharField(
        "external ID", max_length=200, blank=True, db_index=True, help_text="User ID in your product."
    )
    # Kept by usage ingestion: when this person was last active in the product.
    last_seen_at = models.DateTimeField(null=True, blank=True, editable=False)
    traits = models.JSONField(default=dict, blank=True, help_text="Traits from identify calls.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_primary", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "email"], condition=~Q(email=""), name="contact_email_unique_per_account"
            ),
            models.UniqueConstraint(
                fields=["account"], condition=Q(is_primary=True), name="contact_one_primary_per_account"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BillingPeriod(models.TextChoices):
    MONTH = "month", "Monthly"
    YEAR = "year", "Yearly"


class ContractStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


class Contract(models.Model):
    """A subscription agreement. Recurring revenue is kept apart from one-time fees, which never count
    toward ARR (glossary: ACV excludes one-time fees). ``arr`` is stored, derived from amount and period."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contracts")
    name = models.CharField(max_length=200, blank=True)
    external_id = models.CharField("external ID", max_length=100, unique=True, null=True, blank=True)
    start_date = models.DateField()
    end_date = models.DateField()
    recurring_amount = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Recurring subscription amount per billing period, excluding one-time fees.",
    )
    billing_period = models.CharField(max_length=8, choices=BillingPeriod.choices, default=BillingPeriod.YEAR)
    one_time_fees = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    seats = models.PositiveIntegerField(default=0)
    auto_renew = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=ContractStatus.choices, default=ContractStatus.ACTIVE)
    arr = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"), editable=False)
    # Revenue history: the day from which a cancelled (or amended) contract stops counting, and the contract
    # this one renews or amends. See accounts.selectors.contract_in_force_q for the one MRR definition.
    cancelled_on = models.DateField(null=True, blank=True)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="successors", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-end_date", "id"]
        indexes = [
            models.Index(fields=["account", "status", "end_date"]),
            models.Index(fields=["status", "end_date"]),
            models.Index(fields=["account", "start_date"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="contract_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.name or f"Contract {self.start_date:%Y-%m-%d} - {self.end_date:%Y-%m-%d}"

    @property
    def mrr(self) -> Decimal:
        """Monthly recurring revenue; the glossary's ARR is MRR x 12."""
        return (self.arr / 12).quantize(Decimal("0.01"))

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The end date must be on or after the start date."})


class CustomFieldType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    DATE = "date", "Date"
    CHOICE = "choice", "Choice"


class CustomFieldDefinition(models.Model):
    """A typed account field defined by an admin. Values live in ``Account.custom_fields`` under ``key`` (numbers as
    JSON numbers, dates as ISO strings, choices as one of ``choices``); ``accounts.custom_fields`` checks them."""

    key = models.SlugField(max_length=50, unique=True, help_text="Its key in the account's custom fields.")
    label = models.CharField(max_length=120)
    field_type = models.CharField("type", max_length=8, choices=CustomFieldType.choices, default=CustomFieldType.TEXT)
    choices = models.JSONField(default=list, blank=True, help_text="The allowed values of a choice field.")
    required = models.BooleanField(default=False)
    help_text = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True, help_text="Inactive fields are hidden; their values are kept.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "label", "id"]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        if not isinstance(self.choices, list) or not all(isinstance(c, str) and c.strip() for c in self.choices):
            raise ValidationError({"choices": "Choices must be a list of non-empty texts."})
        if self.field_type == CustomFieldType.CHOICE and not self.choices:
            raise ValidationError({"choices": "A choice field needs at least one choice."})
        if self.field_type != CustomFieldType.CHOICE and self.choices:
            raise ValidationError({"choices": "Only choice fields have choices."})


# Renewals and expansion opportunities live in their own module; importing them here registers them with the app.
from accounts.renewal_models import (  # noqa: E402, F401
    ExpansionOpportunity,
    Renewal,
    RenewalCallChange,
)


class ContractRevision(models.Model):
    """One recorded change of a contract field (who, when, old and new value), so that corrections of past
    amounts by admins, cancellations and amendments stay auditable and past periods explainable."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="revisions")
    field = models.CharField(max_length=40)
    old_value = models.CharField(max_length=100, blank=True)
    new_value = models.CharField(max_length=100, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["contract", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value} -> {self.new_value}"
