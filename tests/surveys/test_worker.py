"""Through a real Redis broker and a real Celery worker: a sending job of 1,200 mails runs in chunks on the
``long`` queue, with its progress counted, then a detractor answer reaches the trigger and opens the CTA."""

import os
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.core import mail
from django.db import connections

from csp.celery import app
from playbooks.models import CTA
from surveys.models import BatchStatus, SurveyBatch, SurveySend
from surveys.services import response_record, survey_batch_create
from tests.factories import AccountFactory, ContactFactory
from tests.surveys.factories import SurveyFactory
from triggers.models import Trigger

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: a real Redis for the worker test"),
]


def _close_connections(**kwargs):
    connections.close_all()  # runs in the worker thread


def _wait_for(predicate, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_sending_job_and_a_detractor_answer_through_the_worker(transactional_db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    accounts = [AccountFactory() for _ in range(12)]
    ContactFactory.reset_sequence(10_000)
    for account in accounts:
        ContactFactory.create_batch(100, account=account)
    survey = SurveyFactory(kind="nps")
    Trigger.objects.create(
        name="Detractors", is_active=True, condition_type="survey_answer",
        params={"kind": "nps", "score_min": 0, "score_max": 6}, open_cta=True, cta_title="Detractor follow-up",
    )  # fmt: skip
    app.control.purge()
    for queue in ("long", "default"):  # where the survey tasks are routed (CELERY_TASK_ROUTES), beside "celery"
        app.amqp.queues.select_add(queue)
    task_postrun.connect(_close_connections, weak=False, dispatch_uid="surveys-worker-test")
    try:
        with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=10):
            batch = survey_batch_create(survey=survey, source="test")
            assert batch.total == 1200
            assert _wait_for(lambda: SurveyBatch.objects.get(pk=batch.pk).status == BatchStatus.DONE)
            send = SurveySend.objects.filter(batch=batch).first()
            response_record(send=send, score=1, comment="Nobody calls back", complete=True)
            assert _wait_for(lambda: CTA.objects.filter(account=send.account).exists(), timeout=30)
    finally:
        task_postrun.disconnect(dispatch_uid="surveys-worker-test")
    batch.refresh_from_db()
    assert (batch.sent, batch.failed) == (1200, 0)
    assert len(mail.outbox) == 1200
    assert "Nobody calls back" in CTA.objects.get(account=send.account).description
