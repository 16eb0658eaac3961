"""Writes to support tickets. The API and the webhook call these; they enqueue ``account_changed``."""

import datetime as dt
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Account
from support.models import Ticket, TicketStatus

TICKET_FIELDS = frozenset(
    {"account", "external_id", "subject", "priority", "status", "is_escalated", "opened_at", "first_response_at",
     "solved_at"}
)  # fmt: skip
SOLVED = (TicketStatus.SOLVED, TicketStatus.CLOSED)
logger = logging.getLogger(__name__)


def _validate(ticket: Ticket) -> None:
    errors: dict[str, str] = {}
    if ticket.opened_at and ticket.first_response_at and ticket.first_response_at < ticket.opened_at:
        errors["first_response_at"] = "The first response cannot come before the ticket was opened."
    if ticket.opened_at and ticket.solved_at and ticket.solved_at < ticket.opened_at:
        errors["solved_at"] = "A ticket cannot be solved before it was opened."
    if ticket.status in SOLVED and not ticket.solved_at:
        errors["solved_at"] = "A solved or closed ticket needs its solved time."
    if errors:
        raise ValidationError(errors)
    ticket.full_clean()


def _notify(account_ids: list[int]) -> None:
    transaction.on_commit(lambda: _enqueue_changed(account_ids))


def _enqueue_changed(account_ids: list[int]) -> None:
    from support.tasks import tickets_changed

    try:
        tickets_changed.apply_async(args=(account_ids,), retry=False)
    except Exception:  # the ticket is committed; a broker outage must not turn the answer into a 500
        logger.exception("Could not enqueue account_changed for accounts %s", account_ids)


@transaction.atomic
def ticket_create(*, data: dict[str, Any]) -> Ticket:
    """Create a ticket after validating its times (response and solve not before opening)."""
    unknown = set(data) - TICKET_FIELDS
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(sorted(unknown))}")
    ticket = Ticket(**data)
    _validate(ticket)
    ticket.save()
    _notify([ticket.account_id])
    return ticket


@transaction.atomic
def ticket_update(*, ticket: Ticket, data: dict[str, Any]) -> Ticket:
    """Change a ticket (status, times, priority...); moving it to another account notifies both."""
    unknown = set(data) - TICKET_FIELDS
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(sorted(unknown))}")
    before = ticket.account_id
    for name, value in data.items():
        setattr(ticket, name, value)
    _validate(ticket)
    ticket.save()
    _notify(sorted({before, ticket.account_id}))
    return ticket


@transaction.atomic
def ticket_upsert(*, account: Account, external_id: str, data: dict[str, Any]) -> tuple[Ticket, bool]:
    """Webhook: create the ticket with this help-desk id, or update it; returns (ticket, created)."""
    ticket = Ticket.objects.select_for_update().filter(external_id=external_id).first()
    if ticket is None:
        return ticket_create(data={**data, "account": account, "external_id": external_id}), True
    return ticket_update(ticket=ticket, data={**data, "account": account}), False


def now_if_status_solved(status: str, solved_at: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
    """Help desks often send only the status: a solved ticket without a time is solved now."""
    return solved_at or (now if status in SOLVED else None)
