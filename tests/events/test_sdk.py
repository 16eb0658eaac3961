"""The official Segment Python SDK, pointed at a live csp server, sends identify, group and track."""

import pytest
from segment.analytics.client import Client
from segment.analytics.request import APIError

from accounts.models import Contact
from events.models import AccountDailyEvent, AccountDailyUser, Event
from tests.events.factories import EventSourceFactory
from tests.factories import AccountFactory, ContactFactory


@pytest.mark.django_db(transaction=True)
def test_official_sdk_calls_are_stored_and_attributed(live_server):
    EventSourceFactory(name="sdk")
    account = AccountFactory(external_id="SDK-ACME")
    ContactFactory(account=account, external_id="user-42", email="")
    errors = []
    client = Client(
        write_key="key-sdk",
        host=live_server.url,
        sync_mode=True,
        on_error=lambda exc, batch: errors.append(exc),
        max_retries=0,
    )
    client.group("user-42", "SDK-ACME", {"name": "Acme"})
    client.identify("user-42", {"email": "ada@acme.example", "title": "Head of Ops"})
    client.track("user-42", "Report Exported", {"format": "csv"})
    client.track("user-42", "Report Exported", {"format": "pdf"})
    client.page("user-42", "Docs", "Getting started")
    client.flush()
    assert errors == []

    events = Event.objects.filter(account=account)
    assert sorted(events.values_list("type", flat=True)) == ["group", "identify", "page", "track", "track"]
    assert Event.objects.filter(account__isnull=True).count() == 0
    contact = Contact.objects.get(external_id="user-42")
    assert contact.traits["title"] == "Head of Ops"
    assert contact.last_seen_at is not None  # the refresh ran after commit
    assert AccountDailyEvent.objects.get(account=account).count == 2
    assert AccountDailyUser.objects.get(account=account).user_key == "user-42"


@pytest.mark.django_db(transaction=True)
def test_official_sdk_with_wrong_key_is_refused(live_server):
    EventSourceFactory(name="sdk")
    client = Client(write_key="not-the-key", host=live_server.url, sync_mode=True, max_retries=0)
    with pytest.raises(APIError) as caught:  # sync mode raises the API's answer
        client.track("user-42", "Report Exported")
    assert (caught.value.status, caught.value.code) == (401, "unauthorized")
    assert not Event.objects.exists()
