"""Actions, dedupe and cool-down, failure isolation and retries, the dry run against the real run, signals."""

import datetime as dt
import json
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.signals import account_changed
from events.models import AccountDailyEvent
from health.signals import health_changed_many
from notifications.models import Notification
from playbooks.models import CTA, Playbook, PlaybookTask
from playbooks.services import cta_close
from tests.factories import AccountFactory, UserFactory
from tests.triggers.factories import set_health
from triggers.models import ActionStatus, TriggerActionLog
from triggers.selectors import evaluate

pytestmark = pytest.mark.django_db


@pytest.fixture
def playbook(db):
    playbook = Playbook.objects.create(name="Save the account", cta_type="risk")
    PlaybookTask.objects.create(playbook=playbook, position=0, title="Call the champion", due_in_days=2)
    PlaybookTask.objects.create(playbook=playbook, position=1, title="Exec email", task_type="email", due_in_days=5)
    return playbook


@pytest.fixture
def risk_trigger(make_trigger, playbook):
    return make_trigger(
        "health_band",
        {"band": "red"},
        name="Red → risk",
        open_cta=True,
        cta_type="risk",
        cta_priority="urgent",
        cta_playbook=playbook,
        cta_title="{{ account }} turned red",
        notify_owner=False,
        cooldown_days=14,
    )


def test_opens_a_cta_with_playbook_tasks_for_the_owner(risk_trigger, run):
    owner = UserFactory()
    account = AccountFactory(name="Acme", owner=owner)
    set_health(account, 30, "red")
    assert run(risk_trigger) == {account.id}
    cta = CTA.objects.get()
    assert (cta.account, cta.owner, cta.cta_type, cta.priority) == (account, owner, "risk", "urgent")
    assert (cta.source, cta.source_key, cta.title) == ("trigger", f"trigger:{risk_trigger.pk}", "Acme turned red")
    assert cta.playbook == risk_trigger.cta_playbook
    assert [(t.title, t.assignee) for t in cta.tasks.order_by("position")] == [
        ("Call the champion", owner),
        ("Exec email", owner),
    ]
    log = TriggerActionLog.objects.get()
    assert (log.kind, log.status) == ("cta", "succeeded") and f"#{cta.pk}" in log.detail


def test_dedupe_and_cool_down(risk_trigger, run):
    account = AccountFactory()
    set_health(account, 30, "red")
    assert run(risk_trigger) == {account.id}
    set_health(account, 50, "yellow")
    run(risk_trigger)  # re-armed
    set_health(account, 20, "red")
    assert run(risk_trigger) == set()  # its CTA is still open: no second one
    assert [c.account_id for c, _ in evaluate(risk_trigger).skipped] == [account.id]
    cta = CTA.objects.get()
    cta_close(cta=cta, outcome="no_action_needed")
    assert run(risk_trigger) == set()  # closed, but within the 14-day cool-down
    CTA.objects.filter(pk=cta.pk).update(closed_at=timezone.now() - dt.timedelta(days=14, minutes=1))
    assert run(risk_trigger) == {account.id}  # cool-down over and still red
    assert CTA.objects.filter(status="open").count() == 1


def test_cool_down_without_cta(make_trigger, run):
    account = AccountFactory()
    set_health(account, 30, "red")
    trigger = make_trigger("health_band", {"band": "red"}, cooldown_days=3)
    assert run(trigger) == {account.id}
    set_health(account, 50, "yellow")
    run(trigger)
    set_health(account, 20, "red")
    assert run(trigger) == set()
    trigger.executions.update(fired_at=timezone.now() - dt.timedelta(days=3, minutes=1))
    assert run(trigger) == {account.id}


def test_dry_run_matches_the_real_run(risk_trigger, run):
    accounts = [AccountFactory() for _ in range(5)]
    for a in accounts[:3]:
        set_health(a, 10, "red")
    set_health(accounts[3], 60, "yellow")
    set_health(accounts[0], 10, "red")
    account_with_cta = accounts[2]
    run(risk_trigger, account_ids=[account_with_cta.id])  # opens its CTA: the dry run must now skip it
    set_health(accounts[4], 5, "red")
    preview = evaluate(risk_trigger)
    would = {c.account_id for c in preview.fire}
    assert would == {accounts[0].id, accounts[1].id, accounts[4].id}
    assert run(risk_trigger) == would
    assert evaluate(risk_trigger).fire == []


def test_all_actions_and_a_failing_one_blocks_nothing(make_trigger, run, receiver, django_capture_on_commit_callbacks):
    owner = UserFactory(email="owner@example.com")
    account = AccountFactory(name="Acme", owner=owner, lifecycle_stage="adoption")
    set_health(account, 10, "red")
    inactive = Playbook.objects.create(name="Retired", is_active=False)
    trigger = make_trigger(
        "health_band",
        {"band": "red"},
        open_cta=True,
        cta_playbook=inactive,  # cta_open refuses an inactive playbook: this action fails for good
        notify_owner=True,
        notify_email=True,
        webhook_url=f"{receiver.url}/x",
        set_lifecycle_stage="renewal",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert run(trigger) == {account.id}
    statuses = dict(TriggerActionLog.objects.values_list("kind", "status"))
    assert statuses == {"cta": "failed", "notify": "succeeded", "email": "succeeded", "webhook": "succeeded",
                        "lifecycle": "succeeded"}  # fmt: skip
    assert "inactive" in TriggerActionLog.objects.get(kind="cta").detail
    assert Notification.objects.get().user == owner
    assert mail.outbox[0].to == ["owner@example.com"] and "Acme" in mail.outbox[0].subject
    body = json.loads(receiver.requests[0]["body"])
    assert "Acme" in body["text"] and body["csp"]["account_id"] == account.id
    assert TriggerActionLog.objects.get(kind="webhook").detail == "Posted, HTTP 200 OK."
    account.refresh_from_db()
    assert account.lifecycle_stage == "renewal"


def test_webhook_down_is_retried_with_backoff_then_logged(
    make_trigger, run, allow_local_webhooks, django_capture_on_commit_callbacks
):
    account = AccountFactory()
    set_health(account, 10, "red")
    trigger = make_trigger("health_band", {"band": "red"}, webhook_url="http://127.0.0.1:1/x")  # nothing listens
    scheduled = []
    from triggers import tasks

    real = tasks.trigger_action_run.apply_async

    def record(args, countdown=0, **kw):
        scheduled.append(countdown)
        return real(args, **kw)  # in-process: runs at once

    with (
        mock.patch.object(tasks.trigger_action_run, "apply_async", side_effect=record),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert run(trigger) == {account.id}
    log = TriggerActionLog.objects.get(kind="webhook")
    assert (log.status, log.attempts) == (ActionStatus.FAILED, 5)
    assert "WebhookFailed" in log.detail and "refused" in log.detail.lower()
    assert scheduled == [0, 10, 20, 40, 80]  # first try, then exponential backoff
    assert TriggerActionLog.objects.get(kind="notify").status == ActionStatus.SUCCEEDED


def test_health_changed_signal_fires_in_the_worker(risk_trigger, django_capture_on_commit_callbacks):
    account = AccountFactory()
    set_health(account, 20, "red")
    with django_capture_on_commit_callbacks(execute=True):
        change = {
            "account_id": account.id,
            "old_band": "yellow",
            "new_band": "red",
            "old_score": 50.0,
            "new_score": 20.0,
        }
        health_changed_many.send(sender=None, changes=[change])
    assert CTA.objects.filter(account=account, source_key=f"trigger:{risk_trigger.pk}").count() == 1


def _red_change(account) -> dict:
    return {"account_id": account.id, "old_band": "yellow", "new_band": "red", "old_score": 50.0, "new_score": 20.0}


def test_health_changes_are_evaluated_in_place_not_queued(risk_trigger, django_capture_on_commit_callbacks):
    # Queued, the evaluation would wait behind every health recompute on the default queue.
    from triggers.tasks import triggers_evaluate_accounts

    account = AccountFactory()
    set_health(account, 20, "red")
    with (
        mock.patch.object(triggers_evaluate_accounts, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        health_changed_many.send(sender=None, changes=[_red_change(account)])
    delay.assert_not_called()
    assert CTA.objects.filter(account=account).count() == 1


def test_a_failed_evaluation_in_place_is_queued_for_the_retry(risk_trigger, django_capture_on_commit_callbacks):
    from triggers import services
    from triggers.tasks import triggers_evaluate_accounts

    account = AccountFactory()
    with (
        mock.patch.object(services, "triggers_evaluate_accounts", side_effect=RuntimeError("database went away")),
        mock.patch.object(triggers_evaluate_accounts, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        health_changed_many.send(sender=None, changes=[_red_change(account)])
    delay.assert_called_once_with([account.id], "health")


def test_account_changed_signal_evaluates_product_events(make_trigger, django_capture_on_commit_callbacks):
    account = AccountFactory()
    trigger = make_trigger("product_event", {"event": "Cancel Clicked", "min_count": 1, "days": 1})
    AccountDailyEvent.objects.create(account=account, day=timezone.localdate(), event="Cancel Clicked", count=1)
    with django_capture_on_commit_callbacks(execute=True):
        account_changed.send(sender=None, account_ids=[account.id])
    assert list(trigger.executions.values_list("account_id", flat=True)) == [account.id]


def test_events_evaluate_product_event_triggers_in_place_not_queued(make_trigger, django_capture_on_commit_callbacks):
    # From the usage pipeline (the ingest worker), an event trigger does not wait on the default queue.
    from events.models import Event
    from triggers.tasks import triggers_evaluate_accounts

    account = AccountFactory()
    trigger = make_trigger("product_event", {"event": "Cancel Clicked", "min_count": 1, "days": 1})
    AccountDailyEvent.objects.create(account=account, day=timezone.localdate(), event="Cancel Clicked", count=1)
    with (
        mock.patch.object(triggers_evaluate_accounts, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        account_changed.send(sender=Event, account_ids=[account.id])
    delay.assert_not_called()
    assert list(trigger.executions.values_list("account_id", flat=True)) == [account.id]


def test_an_account_is_claimed_once_per_trigger(make_trigger):
    from triggers.services import _claim

    trigger = make_trigger("health_band", {"band": "red"})
    a, b = AccountFactory(), AccountFactory()
    now = timezone.now()
    assert _claim(trigger, [a.id], now) == {a.id}
    assert _claim(trigger, [a.id, b.id], now) == {b.id}  # a concurrent run that evaluated a too fires only b


def test_a_batch_fires_in_a_fixed_number_of_queries(risk_trigger, django_assert_max_num_queries):
    from triggers.services import trigger_run

    owner = UserFactory()
    first = [AccountFactory(owner=owner) for _ in range(2)]
    for account in first:
        set_health(account, 20, "red")
    with CaptureQueriesContext(connection) as two:
        assert len(trigger_run(trigger_id=risk_trigger.pk, account_ids=[a.id for a in first])) == 2
    more = [AccountFactory(owner=owner) for _ in range(6)]
    for account in more:
        set_health(account, 20, "red")
    with CaptureQueriesContext(connection) as six:
        assert len(trigger_run(trigger_id=risk_trigger.pk, account_ids=[a.id for a in more])) == 6
    assert len(six) == len(two)  # nothing per account: CTAs, tasks, timeline, logs are bulk statements
    assert CTA.objects.filter(source_key=risk_trigger.source_key).count() == 8
    assert set(TriggerActionLog.objects.values_list("status", flat=True)) == {ActionStatus.SUCCEEDED}


def test_a_failing_batch_falls_back_to_one_account_at_a_time(risk_trigger, run):
    from triggers import actions

    accounts = [AccountFactory(owner=UserFactory()) for _ in range(3)]
    for account in accounts:
        set_health(account, 20, "red")
    with mock.patch.object(actions, "cta_open_many", side_effect=RuntimeError("one account's data broke it")):
        assert run(risk_trigger) == {a.id for a in accounts}
    # Each account got its CTA through the single-account path, and its own log line.
    assert CTA.objects.filter(source_key=risk_trigger.source_key).count() == 3
    outcomes = TriggerActionLog.objects.values_list("status", "attempts").order_by().distinct()
    assert list(outcomes) == [(ActionStatus.SUCCEEDED, 1)]


def test_the_batch_skips_an_account_whose_cta_is_already_open(risk_trigger):
    from triggers.actions import _run_cta_many
    from triggers.models import TriggerExecution

    accounts = [AccountFactory(owner=UserFactory()) for _ in range(2)]
    CTA.objects.create(account=accounts[0], cta_type="risk", title="open", due_date=timezone.localdate(),
                       source="trigger", source_key=risk_trigger.source_key)  # fmt: skip
    executions = [
        TriggerExecution(trigger=risk_trigger, account=a, fired_at=timezone.now(), reason="red") for a in accounts
    ]
    results = _run_cta_many(executions)
    assert [r[0] for r in results] == [ActionStatus.SKIPPED, ActionStatus.SUCCEEDED]
    assert CTA.objects.filter(account=accounts[0]).count() == 1
