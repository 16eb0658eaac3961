"""Writes to support tickets. The API and the webhook call these; once committed they send ``account_changed``."""

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.models import Account
from accounts.signals import account_changed_on_commit
from csp.modeling import apply_fields
from support.models import Ticket, TicketStatus
from timeline.models import EntryKind
from timeline.services import timeline_record

TICKET_FIELDS = frozenset(
    {"account", "external_id", "subject", "priority", "status", "is_escalated", "opened_at", "first_response_at",
     "solved_at"}
)  # fmt: skip
SOLVED = (TicketStatus.SOLVED, TicketStatus.CLOSED)


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


def _record_escalation(ticket: Ticket) -> None:
    # An escalation is a moment the CSM must see in the account's story, next to calls and CTAs.
    timeline_record(
        account=ticket.account_id,
        kind=EntryKind.ESCALATION,
        title=f"Support escalation: {ticket}",
        occurred_at=ticket.opened_at,
        source=("ticket", ticket.pk),
        data={"priority": ticket.priority, "status": ticket.status, "external_id": ticket.external_id},
    )


@transaction.atomic
def ticket_create(*, data: dict[str, Any]) -> Ticket:
    """Create a ticket after validating its times (response and solve not before opening); an escalated
    ticket goes on the account's timeline."""
    ticket = Ticket()
    apply_fields(ticket, data, TICKET_FIELDS)
    _validate(ticket)
    ticket.save()
    if ticket.is_escalated:
        _record_escalation(ticket)
    account_changed_on_commit([ticket.account_id], sender=Ticket)
    return ticket


@transaction.atomic
def ticket_update(*, ticket: Ticket, data: dict[str, Any]) -> Ticket:
    """Change a ticket (status, times, priority...); moving it to another account notifies both. The moment
    a ticket becomes escalated is recorded on the timeline once."""
    before, was_escalated = ticket.account_id, ticket.is_escalated
    apply_fields(ticket, data, TICKET_FIELDS)
    _validate(ticket)
    ticket.save()
    if ticket.is_escalated and not was_escalated:
        _record_escalation(ticket)
    account_changed_on_commit(sorted({before, ticket.account_id}), sender=Ticket)
    return ticket


@transaction.atomic
def ticket_upsert(
    *,
    account: Account,
    external_id: str,
    data: dict[str, Any],
    may_edit: Callable[[Account], bool] | None = None,
) -> tuple[Ticket, bool]:
    """Webhook: create the ticket with this help-desk id, or update it; returns (ticket, created).
    ``may_edit`` (None for a trusted integration) must allow both the target account and, for an existing
    ticket, the account it is on now, checked on the locked row; otherwise PermissionDenied."""
    ticket = Ticket.objects.select_for_update().select_related("account").filter(external_id=external_id).first()
    if may_edit is not None:
        if not may_edit(account):
            raise PermissionDenied("You may not change this account's tickets.")
        if ticket is not None and ticket.account_id != account.id and not may_edit(ticket.account):
            raise PermissionDenied("This help-desk ticket belongs to an account you may not edit.")
    if ticket is None:
        return ticket_create(data={**data, "account": account, "external_id": external_id}), True
    return ticket_update(ticket=ticket, data={**data, "account": account}), False


def now_if_status_solved(status: str, solved_at: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
    """Help desks often send only the status: a solved ticket without a time is solved now."""
    return solved_at or (now if status in SOLVED else None)
