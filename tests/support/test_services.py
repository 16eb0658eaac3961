"""Ticket services: time validation and escalations on the account timeline."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from support import services
from support.models import Ticket
from tests.factories import AccountFactory
from timeline.models import EntryKind, TimelineEntry

pytestmark = pytest.mark.django_db


def _data(account, **kw):
    data = {"account": account, "external_id": "Z-1", "subject": "Login broken", "opened_at": timezone.now()}
    data.update(kw)
    return data


def test_escalated_ticket_goes_on_the_timeline_once():
    account = AccountFactory()
    ticket = services.ticket_create(data=_data(account))
    assert not TimelineEntry.objects.filter(kind=EntryKind.ESCALATION).exists()

    services.ticket_update(ticket=ticket, data={"is_escalated": True, "priority": "urgent"})
    services.ticket_update(ticket=ticket, data={"subject": "Login broken for all users"})  # still escalated
    entries = TimelineEntry.objects.filter(account=account, kind=EntryKind.ESCALATION)
    assert entries.count() == 1
    assert entries.get().data["priority"] == "urgent"


def test_ticket_created_escalated_is_recorded():
    account = AccountFactory()
    services.ticket_create(data=_data(account, is_escalated=True))
    assert TimelineEntry.objects.filter(account=account, kind=EntryKind.ESCALATION).count() == 1


def test_response_before_opening_is_refused_and_nothing_stored():
    account = AccountFactory()
    now = timezone.now()
    with pytest.raises(ValidationError) as exc:
        services.ticket_create(data=_data(account, first_response_at=now - dt.timedelta(hours=1), opened_at=now))
    assert "first_response_at" in exc.value.message_dict
    assert not Ticket.objects.exists()
    with pytest.raises(TypeError):
        services.ticket_create(data=_data(account, bogus=1))
