"""Writes of triggers: create/update/activate, the real run (evaluate → record → act), actions with their
retries and log. Tasks and signal receivers call these."""

import datetime as dt
import json
import logging
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from accounts.services import account_update
from csp.models import User
from notifications.services import notification_send
from playbooks.selectors import open_cta_exists
from playbooks.services import cta_open
from segments.models import Segment
from segments.selectors import MembershipDiff, segment_membership_diff
from segments.services import segment_membership_apply
from triggers import webhooks
from triggers.conditions import SEGMENT_TYPES, STATE_TYPES, render_title
from triggers.models import (
    ActionKind,
    ActionStatus,
    Trigger,
    TriggerActionLog,
    TriggerExecution,
    TriggerMatch,
)
from triggers.selectors import Evaluation, SurveyAnswer, active_triggers, evaluate, state_matches

logger = logging.getLogger(__name__)

TRIGGER_FIELDS = (
    "name", "description", "condition_type", "params", "condition_segment", "scope_segment", "open_cta",
    "cta_type", "cta_priority", "cta_reason", "cta_playbook", "cta_title", "cta_due_in_days", "notify_owner",
    "notify_email", "webhook_url", "set_lifecycle_stage", "send_survey", "cooldown_days",
)  # fmt: skip
# Changing these changes who matches: the stored matches are dropped so the next run starts afresh.
CONDITION_FIELDS = ("condition_type", "params", "condition_segment_id", "scope_segment_id")
MAX_ATTEMPTS = 5


def _apply(trigger: Trigger, data: dict[str, Any]) -> None:
    for name in TRIGGER_FIELDS:
        if name in data:
            setattr(trigger, name, data[name])
    if trigger.webhook_url:
        try:
            webhooks.check_url(trigger.webhook_url)  # scheme and literal addresses; DNS is checked when sending
        except ValidationError as exc:
            raise ValidationError({"webhook_url": exc.messages}) from exc


@transaction.atomic
def trigger_create(*, data: dict[str, Any], user: User | None = None) -> Trigger:
    """Create a trigger, inactive unless ``data["is_active"]``: dry-run it first."""
    trigger = Trigger(created_by=user, is_active=bool(data.get("is_active", False)))
    _apply(trigger, data)
    trigger.full_clean()
    trigger.save()
    return trigger


@transaction.atomic
def trigger_update(*, trigger: Trigger, data: dict[str, Any]) -> Trigger:
    """Change a trigger; a changed condition or scope forgets the stored matches (see CONDITION_FIELDS)."""
    before = [getattr(trigger, f) for f in CONDITION_FIELDS]
    _apply(trigger, data)
    if "is_active" in data:
        trigger.is_active = bool(data["is_active"])
    trigger.full_clean()
    trigger.save()
    if before != [getattr(trigger, f) for f in CONDITION_FIELDS] or not trigger.is_active:
        TriggerMatch.objects.filter(trigger=trigger).delete()
    return trigger


def trigger_set_active(*, trigger: Trigger, active: bool) -> Trigger:
    """Activate or pause. A paused trigger forgets its matches, so on reactivation it fires for whoever matches
    then (exactly what its dry run shows), minus dedupe and cool-down."""
    return trigger_update(trigger=trigger, data={"is_active": active})


@transaction.atomic
def trigger_delete(*, trigger: Trigger) -> None:
    """Delete a trigger with its log; its CTAs stay (their ``source_key`` keeps the trigger id)."""
    trigger.delete()


# --- the real run -------------------------------------------------------------------------------------------


def trigger_run(
    *,
    trigger_id: int,
    account_ids: list[int] | None = None,
    now: dt.datetime | None = None,
    segment_diff: MembershipDiff | None = None,
    answer: SurveyAnswer | None = None,
) -> list[TriggerExecution]:
    """Evaluate one trigger (for ``account_ids``, or all accounts) and act on the result: record one execution per
    account, run the in-database actions inline (each in its own savepoint: one failing never blocks another) and
    hand email and webhook to their own retried tasks after commit.

    Concurrency: a state condition claims each account by inserting its ``TriggerMatch`` (ON CONFLICT DO NOTHING
    RETURNING), so two workers evaluating the same account never both fire, while different accounts proceed in
    parallel. Segment and survey conditions (periodic, or rare) lock the trigger row instead."""
    now = now or timezone.now()
    with transaction.atomic():
        trigger = (
            Trigger.objects.select_related(
                "scope_segment", "condition_segment", "cta_playbook", "cta_reason", "send_survey"
            )
            .filter(pk=trigger_id, is_active=True)
            .first()
        )
        if trigger is None:
            return []
        state = trigger.condition_type in STATE_TYPES
        if not state:
            Trigger.objects.select_for_update().filter(pk=trigger.pk).first()
        ev = evaluate(trigger, account_ids=account_ids, now=now, segment_diff=segment_diff, answer=answer)
        if state:
            _rearm(trigger, account_ids=account_ids, now=now)
            claimed = _claim(trigger, [c.account_id for c in ev.fire], now)
            ev.fire = [c for c in ev.fire if c.account_id in claimed]
        executions = _fire(trigger, ev, now)
        if account_ids is None:  # full runs only: an UPDATE per event would serialize the workers on this row
            Trigger.objects.filter(pk=trigger.pk).update(last_run_at=now)
    return executions


def _claim(trigger: Trigger, account_ids: list[int], now: dt.datetime) -> set[int]:
    """Insert the matches; return the accounts this transaction inserted (others were claimed concurrently)."""
    table = connection.ops.quote_name(TriggerMatch._meta.db_table)
    stamp = connection.ops.adapt_datetimefield_value(now)
    claimed: set[int] = set()
    for start in range(0, len(account_ids), 1000):
        chunk = account_ids[start : start + 1000]
        values = ", ".join(["(%s, %s, %s)"] * len(chunk))
        params = [v for account_id in chunk for v in (trigger.pk, account_id, stamp)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (trigger_id, account_id, matched_at) VALUES {values} "
                "ON CONFLICT (trigger_id, account_id) DO NOTHING RETURNING account_id",
                params,
            )
            claimed.update(row[0] for row in cursor.fetchall())
    return claimed


def _rearm(trigger: Trigger, *, account_ids: list[int] | None, now: dt.datetime) -> None:
    """Forget matches of accounts that no longer satisfy the condition: they may fire again later."""
    stored = TriggerMatch.objects.filter(trigger=trigger)
    if account_ids is not None:
        stored = stored.filter(account_id__in=list(account_ids))
    current = state_matches(trigger, account_ids=account_ids, now=now).order_by().values("id")
    stored.exclude(account_id__in=current).delete()


def _fire(trigger: Trigger, ev: Evaluation, now: dt.datetime) -> list[TriggerExecution]:
    if not ev.fire:
        return []
    executions = TriggerExecution.objects.bulk_create(
        [TriggerExecution(trigger=trigger, account_id=c.account_id, fired_at=now, reason=c.reason) for c in ev.fire]
    )
    accounts = Account.objects.select_related("owner").in_bulk([c.account_id for c in ev.fire])
    for execution in executions:
        execution.trigger = trigger
        execution.account = accounts[execution.account_id]
        _act(execution)
    return executions


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


def _act(execution: TriggerExecution) -> None:
    logs = TriggerActionLog.objects.bulk_create(
        [TriggerActionLog(execution=execution, kind=kind) for kind in _planned(execution.trigger)]
    )
    for log in logs:
        log.execution = execution
        if log.kind in (ActionKind.EMAIL, ActionKind.WEBHOOK):
            _enqueue(log)  # network: its own task, retried with backoff, never in this transaction
        else:
            action_execute(log=log)


def _enqueue(log: TriggerActionLog, countdown: int = 0) -> None:
    from triggers import tasks

    transaction.on_commit(partial(tasks.trigger_action_run.apply_async, (log.pk,), countdown=countdown))


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


def action_execute(*, log: TriggerActionLog) -> TriggerActionLog:
    """Run one action in its own savepoint and log the outcome. A ``ValidationError`` is permanent (logged as
    failed with its messages); anything else is retried with backoff in its own task up to MAX_ATTEMPTS."""
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
    log.status, log.detail = status, detail[:2000]
    TriggerActionLog.objects.filter(pk=log.pk).update(
        status=log.status, detail=log.detail, attempts=log.attempts, updated_at=timezone.now()
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


# --- entry points for tasks ---------------------------------------------------------------------------------


def triggers_evaluate_accounts(*, account_ids: list[int], source: str) -> int:
    """Event-driven: evaluate the active triggers listening to ``source`` ("health" or "usage") for these
    accounts only. One failing trigger is logged and does not stop the others. Returns executions made."""
    from triggers.conditions import SPECS

    types = frozenset(k for k, s in SPECS.items() if s.source == source)
    fired = 0
    for trigger_id in active_triggers(types=types).values_list("id", flat=True):
        try:
            fired += len(trigger_run(trigger_id=trigger_id, account_ids=account_ids))
        except DatabaseError:
            raise  # transient: the task retries
        except Exception:
            logger.exception("trigger %s failed to evaluate", trigger_id)
    return fired


def triggers_evaluate_survey_answer(*, account_id: int, kind: str, score: int, comment: str = "") -> int:
    """Hook for the surveys module: an NPS/CSAT/CES answer arrived (its comment goes into the reason)."""
    from triggers.models import ConditionType

    answer = SurveyAnswer(account_id=account_id, kind=kind, score=score, comment=comment or "")
    fired = 0
    for trigger_id in active_triggers(types=frozenset({ConditionType.SURVEY_ANSWER})).values_list("id", flat=True):
        fired += len(trigger_run(trigger_id=trigger_id, answer=answer))
    return fired


def triggers_evaluate_periodic(*, now: dt.datetime | None = None) -> int:
    """Periodic: refresh every segment's membership and fire its entered/left triggers with the diff, then
    evaluate every active state trigger over all accounts (date-based conditions move with the clock)."""
    now = now or timezone.now()
    fired = 0
    for segment in Segment.objects.order_by("id"):
        try:
            fired += _segment_refresh_and_fire(segment=segment, now=now)
        except Exception:
            logger.exception("segment %s refresh failed", segment.pk)
    for trigger_id in active_triggers(types=STATE_TYPES).values_list("id", flat=True):
        try:
            fired += len(trigger_run(trigger_id=trigger_id, now=now))
        except Exception:
            logger.exception("trigger %s failed to evaluate", trigger_id)
    return fired


@transaction.atomic
def _segment_refresh_and_fire(*, segment: Segment, now: dt.datetime) -> int:
    Segment.objects.select_for_update().filter(pk=segment.pk).first()
    diff = segment_membership_diff(segment)
    fired = 0
    if diff.entered or diff.left:
        ids = active_triggers(types=SEGMENT_TYPES).filter(condition_segment=segment).values_list("id", flat=True)
        for trigger_id in ids:
            fired += len(trigger_run(trigger_id=trigger_id, now=now, segment_diff=diff))
    segment_membership_apply(segment=segment, diff=diff)
    return fired
