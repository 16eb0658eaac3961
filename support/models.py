"""Support tickets, for response and resolution times and escalations (glossary: Response Time, RR)."""

from django.db import models

from accounts.models import Account


class TicketPriority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class TicketStatus(models.TextChoices):
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


class Ticket(models.Model):
    """A support ticket from the help desk. Times are the help desk's own."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tickets")
    external_id = models.CharField("external ID", max_length=100, unique=True)
    subject = models.CharField(max_length=300, blank=True)
    priority = models.CharField(max_length=10, choices=TicketPriority.choices, default=TicketPriority.NORMAL)
    status = models.CharField(max_length=10, choices=TicketStatus.choices, default=TicketStatus.OPEN)
    is_escalated = models.BooleanField(default=False)
    opened_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["account", "status"]), models.Index(fields=["account", "opened_at"])]

    def __str__(self) -> str:
        return f"#{self.external_id} {self.subject}"

    @property
    def response_time(self):
        """Time to first response (glossary: Response Time), or None while unanswered."""
        return self.first_response_at - self.opened_at if self.first_response_at else None

    @property
    def resolution_time(self):
        """Time from opening to solved, or None while unsolved."""
        return self.solved_at - self.opened_at if self.solved_at else None
