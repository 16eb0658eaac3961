"""End to end through a real Redis broker and a real Celery worker: usage events in → rollups → health red →
the trigger opens a risk CTA with its playbook's tasks for the account's owner (and the owner's manager)."""

import base64
import json
import os
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connections
from django.utils import timezone

from csp.celery import QUEUES, app
from events.services import source_create
from health.models import Measure, Scorecard
from playbooks.models import CTA, Playbook, PlaybookTask
from tests.factories import AccountFactory, TeamFactory, UserFactory
from tests.triggers.factories import set_health
from tests.workers import purge_queues
from triggers.models import Trigger

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: a real Redis for the worker test"),
]


def _close_connections(**kwargs):
    connections.close_all()  # runs in the worker thread


def _wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_events_turn_an_account_red_and_a_cta_opens_for_its_owner(transactional_db, client):
    Scorecard.objects.all().delete()
    card = Scorecard.objects.create(name="Usage", is_default=True, yellow_from=40, green_from=70)
    Measure.objects.create(scorecard=card, key="active_users_30d", group="usage", breakpoints=[[0, 0], [10, 100]])
    team = TeamFactory()
    boss = UserFactory(role="manager", team=team)
    team.manager = boss
    team.save()
    owner = UserFactory(role="csm", team=team)
    account = AccountFactory(external_id="ACME-9", owner=owner)
    set_health(account, 90, "green")  # yesterday's score
    playbook = Playbook.objects.create(name="Risk", cta_type="risk")
    PlaybookTask.objects.create(playbook=playbook, position=0, title="Call", due_in_days=1)
    PlaybookTask.objects.create(
        playbook=playbook, position=1, title="Escalate", due_in_days=3, assignee_role="owner_manager"
    )
    trigger = Trigger.objects.create(
        name="Red → risk", is_active=True, condition_type="health_band", params={"band": "red"},
        open_cta=True, cta_type="risk", cta_priority="high", cta_playbook=playbook,
    )  # fmt: skip
    _, key = source_create(name="web")
    now = timezone.now().isoformat()
    batch = [
        {"type": "track", "messageId": f"m{i}", "userId": "u1", "event": "Report Viewed", "timestamp": now,
         "context": {"groupId": "ACME-9"}}
        for i in range(5)
    ]  # fmt: skip
    purge_queues()  # leftovers of earlier runs on this Redis db are not ours
    # Each task closes the worker thread's connections, so the test database can be dropped afterwards.
    task_postrun.connect(_close_connections, weak=False, dispatch_uid="triggers-worker-test")
    try:
        with start_worker(
            app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=10, queues=QUEUES
        ):
            response = client.generic(
                "POST", "/v1/batch", json.dumps({"batch": batch}), content_type="application/json",
                HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{key}:".encode()).decode(),
            )  # fmt: skip
            assert response.status_code == 200
            assert _wait_for(lambda: CTA.objects.filter(account=account).exists())
    finally:
        task_postrun.disconnect(dispatch_uid="triggers-worker-test")
    account.health.refresh_from_db()
    assert account.health.band == "red"  # 1 active user of 10: score 10
    cta = CTA.objects.get(account=account)
    assert (cta.source, cta.source_key, cta.owner) == ("trigger", f"trigger:{trigger.pk}", owner)
    assert [(t.title, t.assignee) for t in cta.tasks.order_by("position")] == [("Call", owner), ("Escalate", boss)]
    execution = trigger.executions.get()
    assert execution.account == account and "red" in execution.reason
