"""Reads of triggers: THE evaluation (shared by the dry run and the real run, so they cannot disagree), lists,
the execution log and notifications."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import Account, AccountStatus
from playbooks.selectors import open_or_recent_cta_account_ids
from segments.selectors import MembershipDiff, segment_accounts, segment_membership_diff
from triggers.conditions import SEGMENT_TYPES, STATE_TYPES, describe, detail_fields, state_queryset
from triggers.models import (
    ConditionType,
    Trigger,
    TriggerActionLog,
    TriggerExecution,
    TriggerMatch,
)


@dataclass
class Candidate:
    account_id: int
    account_name: str
    reason: str


@dataclass
class SurveyAnswer:
    """An NPS/CSAT answer as the surveys module will report it."""

    account_id: int
    kind: str
    score: int
    comment: str = ""


@dataclass
class Evaluation:
    """Who would fire now (``fire``), who matches but is held back by dedupe or cool-down (``skipped``), and the
    current state matches of a state condition restricted to the evaluated accounts (``matching_ids``)."""

    trigger: Trigger
    fire: list[Candidate] = field(default_factory=list)
    skipped: list[tuple[Candidate, str]] = field(default_factory=list)
    note: str = ""


def _base(trigger: Trigger, account_ids: list[int] | None, today: dt.date) -> QuerySet[Account]:
    qs = Account.objects.filter(status=AccountStatus.ACTIVE)
    if account_ids is not None:
        qs = qs.filter(id__in=list(account_ids))
    if trigger.scope_segment_id:
        qs = qs.filter(id__in=segment_accounts(trigger.scope_segment, today=today).order_by().values("id"))
    return qs


def state_matches(trigger: Trigger, *, account_ids: list[int] | None, now: dt.datetime) -> QuerySet[Account]:
    """Accounts (of ``account_ids`` when given) satisfying a state condition now: one annotated queryset."""
    today = timezone.localdate(now)
    return state_queryset(trigger, _base(trigger, account_ids, today), today=today, now=now)


def _blocked(trigger: Trigger, ids: list[int], now: dt.datetime) -> tuple[set[int], str]:
    """Accounts held back: with a CTA action, an open CTA of this trigger or one closed within the cool-down
    (playbooks' set-based selector); without, a firing within the cool-down."""
    if not ids:
        return set(), ""
    if trigger.open_cta:
        blocked = open_or_recent_cta_account_ids(
            account_ids=ids, source_key=trigger.source_key, cooldown_days=trigger.cooldown_days, now=now
        )
        return blocked, f"a CTA from this trigger is open or was closed less than {trigger.cooldown_days} days ago"
    if not trigger.cooldown_days:
        return set(), ""
    since = now - dt.timedelta(days=trigger.cooldown_days)
    recent = TriggerExecution.objects.filter(trigger=trigger, account_id__in=ids, fired_at__gt=since)
    return set(recent.values_list("account_id", flat=True)), f"fired less than {trigger.cooldown_days} days ago"


def evaluate(
    trigger: Trigger,
    *,
    account_ids: list[int] | None = None,
    now: dt.datetime | None = None,
    segment_diff: MembershipDiff | None = None,
    answer: SurveyAnswer | None = None,
) -> Evaluation:
    """Which accounts the trigger fires for now, without side effects. The dry run shows this; the real run
    (``services.trigger_run``) executes exactly this. State conditions fire for accounts that satisfy them and
    did not at the last run (no ``TriggerMatch``); segment conditions for the membership diff; survey conditions
    for the answer given. A few queries per trigger, whatever the number of accounts."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    result = Evaluation(trigger=trigger)
    ctype = trigger.condition_type
    if ctype in STATE_TYPES:
        stored = TriggerMatch.objects.filter(trigger=trigger).values("account_id")
        rows = (
            state_matches(trigger, account_ids=account_ids, now=now)
            .exclude(id__in=stored)
            .order_by("name", "id")
            .values("id", "name", *detail_fields(trigger))
        )
        candidates = [Candidate(r["id"], r["name"], describe(trigger, r)) for r in rows]
    elif ctype in SEGMENT_TYPES:
        diff = segment_diff if segment_diff is not None else segment_membership_diff(trigger.condition_segment)
        ids = diff.entered if ctype == ConditionType.SEGMENT_ENTERED else diff.left
        verb = "Entered" if ctype == ConditionType.SEGMENT_ENTERED else "Left"
        rows = _base(trigger, account_ids, today).filter(id__in=ids).order_by("name", "id").values("id", "name")
        reason = f"{verb} segment {trigger.condition_segment}"[:300]
        candidates = [Candidate(r["id"], r["name"], reason) for r in rows]
    else:  # survey answers: an event, nothing to look up without one
        p = trigger.params
        if answer is None:
            result.note = "This trigger fires when a survey answer arrives; there is nothing to preview."
            return result
        if answer.kind != p.get("kind") or not p.get("score_min", 0) <= answer.score <= p.get("score_max", 10):
            return result
        rows = _base(trigger, [answer.account_id], today).values("id", "name")
        text = f"{answer.kind.upper()} answer {answer.score}"
        if answer.comment:
            text = f"{text}: “{answer.comment[:240]}”"
        candidates = [Candidate(r["id"], r["name"], text) for r in rows]
    blocked, why = _blocked(trigger, [c.account_id for c in candidates], now)
    for c in candidates:
        if c.account_id in blocked:
            result.skipped.append((c, why))
        else:
            result.fire.append(c)
    return result


def active_triggers(*, source: str | None = None, types: frozenset[str] | None = None) -> QuerySet[Trigger]:
    qs = Trigger.objects.filter(is_active=True).select_related("scope_segment", "condition_segment")
    if types is not None:
        qs = qs.filter(condition_type__in=types)
    return qs.order_by("id")


def trigger_list() -> QuerySet[Trigger]:
    """Triggers with their segments, playbook, and how often they fired in the last 30 days (one query)."""
    since = timezone.now() - dt.timedelta(days=30)
    return Trigger.objects.select_related("scope_segment", "condition_segment", "cta_playbook").annotate(
        fired_30d=Count("executions", filter=Q(executions__fired_at__gte=since))
    )


def execution_list(*, trigger: Trigger | None = None) -> QuerySet[TriggerExecution]:
    """The execution log: each firing with its account and its actions (prefetched: fixed query count)."""
    qs = TriggerExecution.objects.select_related("account", "trigger").prefetch_related(
        Prefetch("actions", queryset=TriggerActionLog.objects.order_by("id"))
    )
    return qs.filter(trigger=trigger) if trigger is not None else qs
