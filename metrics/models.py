"""The revenue ledger's monthly snapshots and the figures admins enter (sales & marketing expense for CAC)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models


class MrrMonth(models.Model):
    """One account's recurring revenue in one calendar month, derived from its contracts by
    ``metrics.ledger.ledger_refresh`` (never edited): annualised revenue in force on the month's first day and
    on its last day (MRR = ARR / 12, ``accounts.selectors.contract_in_force_q``). A row exists only for months in
    which the account had revenue on some day, so 12-month trends and cohorts read one indexed table."""

    pk = models.CompositePrimaryKey("account_id", "month")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    month = models.DateField(help_text="First day of the month.")
    arr_first = models.DecimalField(max_digits=16, decimal_places=2)
    arr_last = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        indexes = [models.Index(fields=["month"], name="metrics_mrrmonth_month_idx")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.month:%Y-%m}"


class AcquisitionCost(models.Model):
    """Sales and marketing expense of one month, entered by admins; CAC = expense ÷ new customers (glossary)."""

    month = models.DateField(unique=True, help_text="First day of the month.")
    sales_marketing_expense = models.DecimalField(
        max_digits=16, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    note = models.CharField(max_length=200, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}: {self.sales_marketing_expense}"
