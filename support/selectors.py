"""Reads of support tickets."""

from django.db.models import QuerySet

from support.models import Ticket


def ticket_list() -> QuerySet[Ticket]:
    """Tickets with their account, for lists (one query per page)."""
    return Ticket.objects.select_related("account")


def recent_tickets(*, account_id: int, limit: int = 20) -> list[Ticket]:
    return list(Ticket.objects.filter(account_id=account_id).order_by("-opened_at")[:limit])
