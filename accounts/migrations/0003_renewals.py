# Renewals of contracts, the history of the CSM's forecast call, and expansion opportunities.

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Renewal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "stage",
                    models.CharField(
                        choices=[
                            ("not_started", "Not started"),
                            ("in_progress", "In progress"),
                            ("verbal_yes", "Verbal yes"),
                            ("signed", "Signed"),
                            ("churned", "Churned"),
                        ],
                        default="not_started",
                        max_length=12,
                    ),
                ),
                (
                    "expected_arr",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("0"),
                        max_digits=14,
                        validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                    ),
                ),
                (
                    "forecast_call",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "No call"),
                            ("commit", "Commit"),
                            ("at_risk", "At risk"),
                            ("will_churn", "Will churn"),
                        ],
                        default="",
                        max_length=12,
                    ),
                ),
                ("forecast_call_at", models.DateTimeField(blank=True, null=True)),
                ("risk_reason", models.TextField(blank=True)),
                ("closed_on", models.DateField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="renewals", to="accounts.account"
                    ),
                ),
                (
                    "contract",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="renewal", to="accounts.contract"
                    ),
                ),
                (
                    "forecast_call_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "next_contract",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="accounts.contract",
                    ),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="renewals",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["contract__end_date", "id"],
                "indexes": [
                    models.Index(fields=["stage"], name="renewal_stage_idx"),
                    models.Index(fields=["owner", "stage"], name="renewal_owner_stage_idx"),
                ],
            },
        ),
        migrations.CreateModel(
            name="RenewalCallChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "old_call",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "No call"),
                            ("commit", "Commit"),
                            ("at_risk", "At risk"),
                            ("will_churn", "Will churn"),
                        ],
                        max_length=12,
                    ),
                ),
                (
                    "new_call",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "No call"),
                            ("commit", "Commit"),
                            ("at_risk", "At risk"),
                            ("will_churn", "Will churn"),
                        ],
                        max_length=12,
                    ),
                ),
                ("risk_reason", models.TextField(blank=True)),
                ("changed_at", models.DateTimeField()),
                (
                    "changed_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "renewal",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="call_changes", to="accounts.renewal"
                    ),
                ),
            ],
            options={"ordering": ["-changed_at", "-id"]},
        ),
        migrations.CreateModel(
            name="ExpansionOpportunity",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("title", models.CharField(max_length=200)),
                (
                    "amount_arr",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("0"),
                        max_digits=14,
                        validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                    ),
                ),
                (
                    "stage",
                    models.CharField(
                        choices=[
                            ("identified", "Identified"),
                            ("qualified", "Qualified"),
                            ("proposal", "Proposal"),
                            ("won", "Won"),
                            ("lost", "Lost"),
                        ],
                        default="identified",
                        max_length=12,
                    ),
                ),
                ("expected_close", models.DateField(blank=True, null=True)),
                ("notes", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="expansions", to="accounts.account"
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="expansions",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["expected_close", "id"],
                "indexes": [models.Index(fields=["owner", "stage"], name="expansion_owner_stage_idx")],
            },
        ),
    ]
