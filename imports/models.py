"""CSV import jobs: the uploaded file, its dry-run or import outcome row by row, and progress."""

from django.conf import settings
from django.db import models


class ImportKind(models.TextChoices):
    ACCOUNTS = "accounts", "Accounts"
    CONTACTS = "contacts", "Contacts"
    CONTRACTS = "contracts", "Contracts"


class ImportStatus(models.TextChoices):
    VALIDATING = "validating", "Dry run in progress"
    VALIDATED = "validated", "Dry run done"
    QUEUED = "queued", "Import queued"
    RUNNING = "running", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Failed"


class RowAction(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    REJECT = "reject", "Reject"


class ImportJob(models.Model):
    """One uploaded CSV. The file is kept in the database (any worker on any machine can read it).
    ``results`` is a list of ``[line, action, key, reason]``, one per data row, from the last pass
    (the dry run, then the import); counts and ``processed_rows`` move every chunk for the progress bar."""

    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    filename = models.CharField(max_length=255, blank=True)
    content = models.TextField()
    columns = models.JSONField(default=dict, blank=True, help_text="Field -> CSV header it was read from.")
    ignored_columns = models.JSONField(default=list, blank=True)
    all_or_nothing = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.VALIDATING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    results = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import #{self.pk} ({self.filename})"

    @property
    def percent(self) -> int:
        return round(100 * self.processed_rows / self.total_rows) if self.total_rows else 100

    @property
    def is_busy(self) -> bool:
        return self.status in (ImportStatus.VALIDATING, ImportStatus.QUEUED, ImportStatus.RUNNING)
