"""Management commands: create_event_source prints a working key; simulate_usage posts through real HTTP."""

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Contact
from events import services
from events.models import AccountDailyUser, Event, EventSource, KeyFeature
from tests.factories import AccountFactory, ContactFactory, ContractFactory


@pytest.mark.django_db
def test_create_event_source_prints_the_key():
    out = io.StringIO()
    call_command("create_event_source", "Mobile app", "--auto-create-accounts", stdout=out, stderr=io.StringIO())
    key = out.getvalue().strip()
    source = EventSource.objects.get(name="Mobile app")
    assert source.auto_create_accounts
    assert services.source_for_key(key) == source


@pytest.mark.django_db
def test_create_event_source_refuses_a_duplicate_name():
    call_command("create_event_source", "Web", stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError):
        call_command("create_event_source", "Web", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_simulate_usage_history_goes_through_the_http_api(live_server):
    for n in (1, 2):
        account = AccountFactory(external_id=f"DEMO-{n:04d}")
        ContractFactory(account=account, seats=8)
        ContactFactory(account=account, external_id=f"DEMO-{n:04d}-U1")
    args = ["simulate_usage", "--url", live_server.url, "--days", "6", "--max-users", "6", "--seed", "3"]
    call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
    first = Event.objects.count()
    assert first > 0
    assert not Event.objects.filter(account__isnull=True).exists()
    assert AccountDailyUser.objects.exists()  # rollups refreshed after each committed call
    assert Contact.objects.filter(last_seen_at__isnull=False).exists() or first  # contacts may be idle
    assert KeyFeature.objects.count() == 3
    call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())  # same history again: stable messageIds
    assert Event.objects.count() == first


@pytest.mark.django_db
def test_simulate_usage_needs_demo_accounts():
    with pytest.raises(CommandError, match="seed_demo"):
        call_command(
            "simulate_usage", "--url", "http://127.0.0.1:9", "--days", "1", stdout=io.StringIO(), stderr=io.StringIO()
        )


@pytest.mark.django_db(transaction=True)
def test_simulate_usage_for_one_owner_only(live_server):
    from tests.factories import UserFactory

    owner = UserFactory(email="owner@example.com")
    mine = AccountFactory(external_id="DEMO-0001", owner=owner)
    AccountFactory(external_id="DEMO-0002")
    args = ["simulate_usage", "--url", live_server.url, "--days", "3", "--owner", "Owner@example.com", "--seed", "3"]
    call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
    assert set(Event.objects.values_list("account_id", flat=True)) == {mine.pk}
