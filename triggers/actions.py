"""The actions a trigger execution runs (CTA, notification, lifecycle stage, survey, email, webhook): each alone
in its own savepoint with its log, retries with backoff, and the in-database kinds for a whole batch at once
(``BULK_RUNNERS``). ``services.trigger_run`` records the executions and calls ``run_actions``."""

import datetime as dt
import json
import logging
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from accounts.services import account_update
from notifications.services import notification_send, notifications_send_many
from playbooks.selectors import open_cta_exists, open_or_recent_cta_account_ids
from playbooks.services import CTAOpening, cta_open, cta_open_many
from triggers import webhooks
from triggers.conditions import render_title
from triggers.models import ActionKind, ActionStatus, Trigger, TriggerActionLog, TriggerExecution

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def _planned(trigger: Trigger) -> list[str]:
    kinds = []
    if trigger.open_cta:
        kinds.append(ActionKind.CTA)
    if trigger.notify_owner:
        kinds.append(ActionKind.NOTIFY)
    if trigger.notify_email:
        kinds.append(ActionKind.EMAIL)
    if trigger.set_lifecycle_stage:
        kinds.append(ActionKind.LIFECYCLE)
    if trigger.webhook_url:
        kinds.append(ActionKind.WEBHOOK)
    if trigger.send_survey_id:
        kinds.append(ActionKind.SURVEY)
    return kinds


def run_actions(trigger: Trigger, executions: list[TriggerExecution]) -> None:
    """Run the trigger's actions for a batch of executions (their ``account`` with its owner loaded): one insert of
    action logs, each in-database kind run for every account together (``BULK_RUNNERS``: the CTAs opened with one
    set of inserts, the notifications with one), one update of the logs. Email and webhook go to their own tasks,
    queued by one after-commit callback."""
    kinds = _planned(trigger)
    logs = TriggerActionLog.objects.bulk_create(
        [TriggerActionLog(execution=e, kind=kind) for e in executions for kind in kinds]
    )
    queued = []
    for kind in kinds:
        group = [log for log in logs if log.kind == kind]
        if kind in (ActionKind.EMAIL, ActionKind.WEBHOOK):
            queued += group  # network: its own task, retried with backoff, never in this transaction
        elif kind in BULK_RUNNERS:
            _attempt_many(group)
        else:
            for log in group:
                _attempt(log)
    done = [log for log in logs if log.kind not in (ActionKind.EMAIL, ActionKind.WEBHOOK)]
    TriggerActionLog.objects.bulk_update(done, ["status", "detail", "attempts", "updated_at"])
    if queued:
        _enqueue_many([log.pk for log in queued])


def _enqueue(log: TriggerActionLog, countdown: int = 0) -> None:
    from triggers import tasks

    transaction.on_commit(partial(tasks.trigger_action_run.apply_async, (log.pk,), countdown=countdown))


def _enqueue_many(log_ids: list[int]) -> None:
    from triggers import tasks

    def send() -> None:
        for pk in log_ids:
            tasks.trigger_action_run.apply_async((pk,))

    transaction.on_commit(send)


def backoff(attempt: int) -> int:
    """Seconds before the next attempt: 10, 20, 40, 80 (capped at 10 minutes)."""
    return min(10 * 2 ** max(attempt - 1, 0), 600)


def _context(execution: TriggerExecution) -> dict[str, Any]:
    account = execution.account
    return {
        "account": account.name,
        "trigger": execution.trigger.name,
        "reason": execution.reason,
        "owner": str(account.owner) if account.owner else "",
    }


def _account_url(account: Account) -> str:
    return reverse("accounts:detail", args=[account.pk])


def _run_cta(execution: TriggerExecution) -> tuple[str, str]:
    trigger, account = execution.trigger, execution.account
    # Idempotent on retry: the dedupe the evaluation applied still holds here.
    if open_cta_exists(account_id=account.pk, source_key=trigger.source_key):
        return ActionStatus.SKIPPED, "A CTA from this trigger is already open."
    due = (
        timezone.localdate(execution.fired_at) + dt.timedelta(days=trigger.cta_due_in_days)
        if trigger.cta_due_in_days is not None
        else None
    )
    cta = cta_open(
        account=account,
        cta_type=trigger.cta_type,
        priority=trigger.cta_priority,
        title=render_title(trigger.cta_title, _context(execution)) or trigger.name,
        reason=trigger.cta_reason,
        due_date=due,
        playbook=trigger.cta_playbook,
        source="trigger",
        source_key=trigger.source_key,
        description=f"Opened by trigger “{trigger.name}”: {execution.reason}",
    )
    return ActionStatus.SUCCEEDED, f"Opened CTA #{cta.pk} “{cta.title}” for {cta.owner or 'nobody (no owner)'}."


def _run_cta_many(executions: list[TriggerExecution]) -> list[tuple[str, str]]:
    """``_run_cta`` for the executions of one trigger run, in a fixed number of queries (``cta_open_many``)."""
    trigger = executions[0].trigger
    # Idempotent on retry, as _run_cta: the dedupe the evaluation applied still holds here.
    already = open_or_recent_cta_account_ids(
        account_ids=[e.account_id for e in executions], source_key=trigger.source_key, cooldown_days=0
    )
    todo = [e for e in executions if e.account_id not in already]
    openings = [
        CTAOpening(
            account=e.account,
            title=render_title(trigger.cta_title, _context(e)) or trigger.name,
            description=f"Opened by trigger “{trigger.name}”: {e.reason}",
            due_date=timezone.localdate(e.fired_at) + dt.timedelta(days=trigger.cta_due_in_days)
            if trigger.cta_due_in_days is not None
            else None,
        )
        for e in todo
    ]
    ctas = cta_open_many(
        openings=openings, cta_type=trigger.cta_type, priority=trigger.cta_priority, reason=trigger.cta_reason,
        playbook=trigger.cta_playbook, source="trigger", source_key=trigger.source_key,
    )  # fmt: skip
    opened = {cta.account_id: cta for cta in ctas}
    results = []
    for e in executions:
        cta = opened.get(e.account_id)
        if cta is None:
            results.append((ActionStatus.SKIPPED, "A CTA from this trigger is already open."))
        else:
            who = cta.owner or "nobody (no owner)"
            results.append((ActionStatus.SUCCEEDED, f"Opened CTA #{cta.pk} “{cta.title}” for {who}."))
    return results


def _run_notify_many(executions: list[TriggerExecution]) -> list[tuple[str, str]]:
    """``_run_notify`` for the executions of one trigger run: one insert of notifications."""
    items, results = [], []
    for e in executions:
        owner = e.account.owner
        if owner is None or not owner.is_active:
            results.append((ActionStatus.SKIPPED, "The account has no active owner."))
            continue
        items.append((owner, f"{e.trigger.name}: {e.account.name}", e.reason, _account_url(e.account)))
        results.append((ActionStatus.SUCCEEDED, f"Notified {owner}."))
    notifications_send_many(items=items, email=False)  # the email is its own logged action
    return results


def _run_notify(execution: TriggerExecution) -> tuple[str, str]:
    account = execution.account
    if account.owner is None or not account.owner.is_active:
        return ActionStatus.SKIPPED, "The account has no active owner."
    notification_send(
        user=account.owner,
        title=f"{execution.trigger.name}: {account.name}",
        body=execution.reason,
        url=_account_url(account),
        email=False,  # the email is its own logged action
    )
    return ActionStatus.SUCCEEDED, f"Notified {account.owner}."


def _run_lifecycle(execution: TriggerExecution) -> tuple[str, str]:
    account, stage = execution.account, execution.trigger.set_lifecycle_stage
    if account.lifecycle_stage == stage:
        return ActionStatus.SKIPPED, f"Already in stage {stage}."
    old = account.lifecycle_stage
    account_update(account=Account.objects.get(pk=account.pk), data={"lifecycle_stage": stage})
    return ActionStatus.SUCCEEDED, f"Lifecycle stage {old} → {stage}."


def _run_survey(execution: TriggerExecution) -> tuple[str, str]:
    from surveys.services import survey_send_to_account

    survey = execution.trigger.send_survey
    if survey is None or not survey.is_active:
        return ActionStatus.SKIPPED, "The survey is missing or paused."
    batch = survey_send_to_account(survey=survey, account=execution.account, source=execution.trigger.source_key)
    if not batch.total:
        return ActionStatus.SKIPPED, f"No contact to ask ({batch.skipped} throttled or unsubscribed)."
    return ActionStatus.SUCCEEDED, f"Survey “{survey}” queued for {batch.total} contact(s) (job #{batch.pk})."


def _run_email(execution: TriggerExecution) -> tuple[str, str]:
    from django.core.mail import send_mail

    owner = execution.account.owner
    if owner is None or not owner.is_active or not owner.email:
        return ActionStatus.SKIPPED, "The account has no active owner with an email address."
    send_mail(
        subject=f"[csp] {execution.trigger.name}: {execution.account.name}",
        message=f"{execution.reason}\n\n{settings.SITE_URL}{_account_url(execution.account)}",
        from_email=None,
        recipient_list=[owner.email],
    )
    return ActionStatus.SUCCEEDED, f"Emailed {owner.email}."


def webhook_body(execution: TriggerExecution) -> dict[str, Any]:
    """Slack-compatible: ``text`` is what Slack shows; ``csp`` carries ids for other consumers."""
    account = execution.account
    url = f"{settings.SITE_URL}{_account_url(account)}"
    return {
        "text": f"{execution.trigger.name}: {account.name} ({execution.reason}) {url}".strip(),
        "csp": {
            "trigger_id": execution.trigger_id,
            "account_id": account.pk,
            "account": account.name,
            "reason": execution.reason,
            "fired_at": execution.fired_at.isoformat(),
        },
    }


def _run_webhook(execution: TriggerExecution) -> tuple[str, str]:
    """POST through ``triggers.webhooks`` (destination checks, signature); only the status line is logged."""
    body = json.dumps(webhook_body(execution), cls=DjangoJSONEncoder).encode()
    status_line = webhooks.deliver(execution.trigger.webhook_url, body)
    return ActionStatus.SUCCEEDED, f"Posted, {status_line}."


RUNNERS = {
    ActionKind.CTA: _run_cta,
    ActionKind.NOTIFY: _run_notify,
    ActionKind.LIFECYCLE: _run_lifecycle,
    ActionKind.EMAIL: _run_email,
    ActionKind.WEBHOOK: _run_webhook,
    ActionKind.SURVEY: _run_survey,
}


# Action kinds run for a whole batch of executions at once (the same outcome as RUNNERS, one per execution).
BULK_RUNNERS = {ActionKind.CTA: _run_cta_many, ActionKind.NOTIFY: _run_notify_many}


def _attempt(log: TriggerActionLog) -> TriggerActionLog:
    """Run one action in its own savepoint and set the log's outcome (not saved). A ``ValidationError`` is
    permanent (failed, with its messages); anything else is retried with backoff in its own task up to
    MAX_ATTEMPTS."""
    log.attempts += 1
    try:
        with transaction.atomic():
            status, detail = RUNNERS[log.kind](log.execution)
    except ValidationError as exc:
        status, detail = ActionStatus.FAILED, "; ".join(exc.messages)
    except Exception as exc:
        logger.warning("trigger action %s #%s failed (attempt %s)", log.kind, log.pk, log.attempts, exc_info=True)
        detail = f"Attempt {log.attempts} failed: {type(exc).__name__}: {str(exc)[:300]}"
        if log.attempts < MAX_ATTEMPTS:
            status = ActionStatus.PENDING
            detail += f" Retrying in {backoff(log.attempts)} s."
            _enqueue(log, countdown=backoff(log.attempts))
        else:
            status = ActionStatus.FAILED
    log.status, log.detail, log.updated_at = status, detail[:2000], timezone.now()
    return log


def _attempt_many(logs: list[TriggerActionLog]) -> None:
    """Run one action kind for many executions at once in one savepoint (``BULK_RUNNERS``) and set the logs'
    outcomes. If the batch fails, it rolls back whole and each action runs alone (``_attempt``), so one account's
    bad data fails or retries that account only, with its own message."""
    try:
        with transaction.atomic():
            results = BULK_RUNNERS[logs[0].kind]([log.execution for log in logs])
    except Exception:
        logger.info("trigger action %s for %d accounts failed as a batch; one by one", logs[0].kind, len(logs))
        for log in logs:
            _attempt(log)
        return
    now = timezone.now()
    for log, (status, detail) in zip(logs, results, strict=True):
        log.attempts += 1
        log.status, log.detail, log.updated_at = status, detail[:2000], now


def action_execute(*, log: TriggerActionLog) -> TriggerActionLog:
    """Run one action in its own savepoint and log the outcome (see ``_attempt``)."""
    _attempt(log)
    TriggerActionLog.objects.filter(pk=log.pk).update(
        status=log.status, detail=log.detail, attempts=log.attempts, updated_at=log.updated_at
    )
    return log


def action_retry(*, log_id: int) -> TriggerActionLog | None:
    """Run a pending action again (from its task). Idempotent: a finished action is left alone."""
    log = (
        TriggerActionLog.objects.select_related("execution__trigger", "execution__account__owner")
        .filter(pk=log_id, status=ActionStatus.PENDING)
        .first()
    )
    if log is None:
        return None
    with transaction.atomic():
        return action_execute(log=log)
