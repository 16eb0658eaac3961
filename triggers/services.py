"""Writes of triggers: create/update/activate, the real run (evaluate → record → act; the actions, their
retries and log live in ``triggers.actions``). Tasks and signal receivers call these."""

import datetime as dt
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.models import Account
from csp.models import User
from segments.models import Segment
from segments.selectors import MembershipDiff, segment_membership_diff
from segments.services import segment_membership_apply
from triggers import webhooks

# action_execute, action_retry, backoff and webhook_body are re-exported: tasks and callers use them from here.
from triggers.actions import action_execute, action_retry, backoff, run_actions, webhook_body  # noqa: F401
from triggers.conditions import SEGMENT_TYPES, STATE_TYPES
from triggers.models import (
    Trigger,
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
    """Record the executions (one insert) and run their actions for the whole batch at once (``run_actions``)."""
    if not ev.fire:
        return []
    executions = TriggerExecution.objects.bulk_create(
        [TriggerExecution(trigger=trigger, account_id=c.account_id, fired_at=now, reason=c.reason) for c in ev.fire]
    )
    accounts = Account.objects.select_related("owner")
    if trigger.open_cta and trigger.cta_playbook_id:  # what the playbook's assignees need (cta_open_many)
        accounts = accounts.select_related("owner__team__manager").prefetch_related("team_members__user")
    accounts = accounts.in_bulk([c.account_id for c in ev.fire])
    for execution in executions:
        execution.trigger = trigger
        execution.account = accounts[execution.account_id]
    run_actions(trigger, executions)
    return executions


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
