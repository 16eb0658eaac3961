"""Sending jobs: audience, throttling, unsubscribes, the mail itself, failures retried and shown, reminders and
scheduled runs."""

import datetime as dt
import re
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import ContactRole
from surveys.models import BatchStatus, SendStatus, SurveyBatch, SurveySend, Unsubscribe
from surveys.services import survey_batch_create, survey_batch_retry, survey_reminders_create, surveys_run_scheduled
from tests.factories import AccountFactory, ContactFactory
from tests.surveys.factories import SendFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://csp.example"
    settings.SURVEY_COMPANY_NAME = "Acme"


def _send_all(survey, **kw):
    # on_commit callbacks run the (eager) task in tests
    from django.db import transaction

    with mock.patch.object(transaction, "on_commit", lambda fn, **k: fn()):
        return survey_batch_create(survey=survey, **kw)


def test_a_mail_per_contact_with_html_text_one_click_scores_and_unsubscribe():
    account = AccountFactory()
    ContactFactory(account=account, email="Jane@Customer.example", name="Jane <b>", role=ContactRole.CHAMPION)
    survey = SurveyFactory(kind="nps")
    batch = _send_all(survey)
    batch.refresh_from_db()
    assert (batch.total, batch.sent, batch.failed, batch.status) == (1, 1, 0, BatchStatus.DONE)
    assert len(mail.outbox) == 1
    msg = mail.outbox[0]
    assert msg.to == ["jane@customer.example"]
    assert "Acme" in msg.subject
    html = msg.alternatives[0][0]
    assert msg.alternatives[0][1] == "text/html"
    links = re.findall(r'href="(https://csp\.example/s/[^"]+\?score=(\d+))"', html)
    assert [int(s) for _, s in links] == list(range(0, 11))
    assert "/unsubscribe/" in html and "/unsubscribe/" in msg.body
    assert "Jane &lt;b&gt;" in html  # the contact's name is escaped in HTML
    assert msg.extra_headers["List-Unsubscribe"].startswith("<https://csp.example/s/")
    send = SurveySend.objects.get()
    assert send.status == SendStatus.SENT and send.sent_at is not None


def test_roles_segment_and_inactive_accounts_filter_the_audience():
    account = AccountFactory()
    ContactFactory(account=account, role=ContactRole.DECISION_MAKER)
    ContactFactory(account=account, role=ContactRole.END_USER)
    ContactFactory(account=account, role=ContactRole.CHAMPION, email="")
    ContactFactory(account=AccountFactory(status="churned"), role=ContactRole.DECISION_MAKER)
    survey = SurveyFactory(contact_roles=[ContactRole.DECISION_MAKER, ContactRole.CHAMPION])
    batch = _send_all(survey)
    assert batch.total == 1
    assert SurveySend.objects.get().contact.role == ContactRole.DECISION_MAKER


def test_throttling_no_contact_gets_any_survey_twice_within_n_days():
    contact = ContactFactory()
    other = ContactFactory()
    first, second = SurveyFactory(), SurveyFactory(throttle_days=90)
    SendFactory(survey=first, contact=contact, created_at=timezone.now())
    old = SendFactory(survey=first, contact=other)
    SurveySend.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=91))
    batch = _send_all(second)
    assert batch.total == 1 and batch.skipped == 1
    assert SurveySend.objects.filter(survey=second).get().contact == other
    # the same survey again right away: nobody is asked twice
    again = _send_all(second)
    assert again.total == 0 and again.skipped == 2 and again.status == BatchStatus.DONE


def test_the_same_address_at_two_accounts_is_asked_once():
    ContactFactory(email="same@x.example")
    ContactFactory(email="SAME@x.example")
    batch = _send_all(SurveyFactory())
    assert batch.total == 1 and batch.skipped == 1


def test_unsubscribed_addresses_never_get_a_survey():
    contact = ContactFactory(email="gone@x.example")
    Unsubscribe.objects.create(email="gone@x.example", contact=contact)
    ContactFactory()
    batch = _send_all(SurveyFactory(throttle_days=0))
    assert batch.total == 1 and batch.skipped == 1
    assert mail.outbox[0].to != ["gone@x.example"]


def test_a_failed_send_is_retried_then_shown_as_failed(settings):
    ContactFactory(email="ok@x.example")
    ContactFactory(email="bad@x.example")
    calls = {"n": 0}
    real = "django.core.mail.backends.locmem.EmailBackend.send_messages"

    def flaky(self, messages):
        calls["n"] += 1
        if messages[0].to == ["bad@x.example"]:
            raise OSError("550 mailbox unavailable")
        return len(messages)

    with mock.patch(real, flaky):
        batch = _send_all(SurveyFactory())
    batch.refresh_from_db()
    bad = SurveySend.objects.get(email="bad@x.example")
    assert bad.status == SendStatus.FAILED and bad.attempts == 3 and "550" in bad.last_error
    assert (batch.sent, batch.failed, batch.status) == (1, 1, BatchStatus.FAILED)
    # an admin retries once the mailbox works
    from django.db import transaction

    with mock.patch.object(transaction, "on_commit", lambda fn, **k: fn()):
        assert survey_batch_retry(batch=batch) == 1
    batch.refresh_from_db()
    bad.refresh_from_db()
    assert bad.status == SendStatus.SENT and (batch.sent, batch.failed, batch.status) == (2, 0, BatchStatus.DONE)


def test_a_mail_server_down_fails_the_chunk_and_nothing_is_lost(settings):
    ContactFactory()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    batch = _send_all(SurveyFactory())
    batch.refresh_from_db()
    send = SurveySend.objects.get()
    assert send.status == SendStatus.FAILED and send.attempts == 3 and send.last_error
    assert batch.failed == 1 and batch.status == BatchStatus.FAILED


def test_reminder_once_to_those_who_did_not_answer():
    survey = SurveyFactory(reminder_after_days=5)
    due = SendFactory(survey=survey, sent_at=timezone.now() - dt.timedelta(days=6))
    SendFactory(survey=survey, sent_at=timezone.now() - dt.timedelta(days=2))  # too early
    answered = SendFactory(survey=survey, sent_at=timezone.now() - dt.timedelta(days=6))
    from surveys.services import response_record

    response_record(send=answered, score=9)
    from django.db import transaction

    with mock.patch.object(transaction, "on_commit", lambda fn, **k: fn()):
        batch = survey_reminders_create(survey=survey)
        assert batch.total == 1
        assert survey_reminders_create(survey=survey) is None  # once
    due.refresh_from_db()
    assert due.reminder_status == SendStatus.SENT and due.reminded_at
    assert mail.outbox[-1].subject.startswith("Reminder:")


def test_scheduled_run_sends_when_due_and_moves_the_date_on():
    ContactFactory()
    today = timezone.localdate()
    due = SurveyFactory(schedule="quarterly", next_run_on=today)
    SurveyFactory(schedule="quarterly", next_run_on=today + dt.timedelta(days=1))
    from django.db import transaction

    with mock.patch.object(transaction, "on_commit", lambda fn, **k: fn()):
        created = surveys_run_scheduled(today=today)
    assert SurveyBatch.objects.filter(pk__in=created, survey=due).count() == 1
    due.refresh_from_db()
    assert due.next_run_on > today + dt.timedelta(days=80)
    assert surveys_run_scheduled(today=today) == []
