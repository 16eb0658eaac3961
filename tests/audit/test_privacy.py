"""Export and erase one person: contact, raw events by userId, rollups, timeline mentions; audited; admins only."""

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from accounts.models import Contact
from events.models import AccountDailyUser, Event
from events.services import source_create
from surveys.models import Response as SurveyResponse
from surveys.services import response_record
from tests.factories import AccountFactory, ContactFactory
from tests.surveys.factories import SendFactory
from timeline.models import Activity

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(admin_user):
    account = AccountFactory(owner=admin_user)
    contact = ContactFactory(account=account, name="Pat Private", email="pat@customer.example", external_id="u-42")
    other = ContactFactory(account=account, name="Olly Other", external_id="u-7")
    source, _ = source_create(name="web")
    now = timezone.now()
    for i, (user_id, acc) in enumerate(
        [("u-42", account), ("u-42", None), ("u-7", account), ("u-42", AccountFactory())]
    ):
        Event.objects.create(
            source=source,
            message_id=f"m{i}",
            type="track",
            event="Opened",
            user_id=user_id,
            account=acc,
            timestamp=now,
            received_at=now,
            properties={"n": i},
        )
    AccountDailyUser.objects.create(account=account, day=dt.date(2026, 1, 5), user_key="u-42", events=3)
    activity = Activity.objects.create(
        account=account,
        kind="call",
        occurred_at=now,
        subject="Call with Pat Private",
        summary="pat@customer.example asked for SSO",
        author=admin_user,
    )
    activity.attendee_contacts.add(contact, other)
    response_record(send=SendFactory(contact=contact), score=3, comment="Too slow")
    return contact


def test_export_returns_the_persons_data_and_is_audited(api_as, person):
    response = api_as("admin").get(f"/api/v1/privacy/contacts/{person.pk}/export/")
    assert response.status_code == 200
    data = response.json()
    assert data["contact"]["email"] == "pat@customer.example"
    assert sorted(e["message_id"] for e in data["events"]) == ["m0", "m1"]  # not another account's, not u-7's
    assert data["daily_activity"] == [{"day": "2026-01-05", "events": 3}]
    assert data["timeline_mentions"][0]["subject"] == "Call with Pat Private"
    assert [(a["score"], a["comment"]) for a in data["survey_answers"]] == [(3, "Too slow")]
    entry = LogEntry.objects.get_for_object(person).filter(action=LogEntry.Action.ACCESS).get()
    assert entry.actor.role == "admin" and entry.additional_data["privacy"] == "export"


def test_export_of_a_contact_without_a_product_user_id(api_as, admin_user):
    """Found by the schema fuzz run: the rollup lookup used a NUL byte as "no user id", which PostgreSQL refuses
    (500); such a contact simply has no product activity."""
    contact = ContactFactory(account=AccountFactory(owner=admin_user), external_id="")
    AccountDailyUser.objects.create(account=contact.account, day=dt.date(2026, 1, 5), user_key="", events=1)
    response = api_as("admin").get(f"/api/v1/privacy/contacts/{contact.pk}/export/")
    assert response.status_code == 200
    assert response.json()["daily_activity"] == [] and response.json()["events"] == []


def test_erase_removes_the_person_and_records_it(api_as, person):
    pk, account_id = person.pk, person.account_id
    response = api_as("admin").post(f"/api/v1/privacy/contacts/{pk}/erase/")
    assert response.status_code == 200
    assert response.json() == {
        "erased": True,
        "events": 2,
        "daily_activity": 1,
        "timeline_mentions": 1,
        "survey_answers": 1,
    }
    assert not Contact.objects.filter(pk=pk).exists()
    assert not SurveyResponse.objects.exists()
    assert sorted(Event.objects.values_list("message_id", flat=True)) == ["m2", "m3"]
    rollup = AccountDailyUser.objects.get(account_id=account_id)
    assert rollup.user_key.startswith("erased:") and rollup.events == 3  # past counts stay true
    activity = Activity.objects.get()
    assert "Pat" not in activity.subject and "pat@" not in activity.summary
    assert list(activity.attendee_contacts.values_list("name", flat=True)) == ["Olly Other"]
    entries = LogEntry.objects.filter(content_type__model="contact", object_pk=str(pk))
    assert entries.filter(action=LogEntry.Action.DELETE, additional_data__privacy="erase").exists()
    # the log keeps that it happened, not the erased values
    assert not any("Pat Private" in str(e.changes) or "Pat Private" in e.object_repr for e in entries)


def test_contact_page_buttons_for_admins_only(client_as, person, users):
    page = client_as("admin").get(reverse("accounts:detail", args=[person.account_id])).content.decode()
    assert 'data-testid="contact-export"' in page and 'data-testid="contact-erase"' in page
    confirm = client_as("admin").get(reverse("audit:contact_erase", args=[person.pk]))
    assert confirm.status_code == 200 and Contact.objects.filter(pk=person.pk).exists()
    export = client_as("admin").get(reverse("audit:contact_export", args=[person.pk]))
    assert export["Content-Disposition"].startswith("attachment") and b"Pat Private" in export.content
    response = client_as("admin").post(reverse("audit:contact_erase", args=[person.pk]))
    assert response.url == reverse("accounts:detail", args=[person.account_id])
    assert not Contact.objects.filter(pk=person.pk).exists()


@pytest.mark.parametrize("role", ["manager", "csm", "viewer"])
def test_non_admins_are_refused(role, api_as, client_as, person):
    assert api_as(role).get(f"/api/v1/privacy/contacts/{person.pk}/export/").status_code == 403
    assert api_as(role).post(f"/api/v1/privacy/contacts/{person.pk}/erase/").status_code == 403
    assert client_as(role).get(reverse("audit:contact_export", args=[person.pk])).status_code == 403
    assert client_as(role).post(reverse("audit:contact_erase", args=[person.pk])).status_code == 403
    assert Contact.objects.filter(pk=person.pk).exists()
