"""Writes to CTAs, their tasks and comments, playbooks and reasons. Views, the API and triggers call these."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, AccountTeamMember
from csp.modeling import apply_fields
from csp.models import Role, User
from notifications.services import notification_send
from playbooks.models import (
    ASSIGNEE_OWNER_MANAGER,
    ASSIGNEE_TEAM_PREFIX,
    CTA,
    CTAComment,
    CTAOutcome,
    CTAReason,
    CTASource,
    CTAStatus,
    CTATask,
    Playbook,
    PlaybookTask,
)
from timeline.services import timeline_record, timeline_record_many

# A CTA opened without a due date and without a playbook is due a week later.
DEFAULT_DUE_DAYS = 7
CTA_EDIT_FIELDS = frozenset({"cta_type", "priority", "reason", "title", "description", "due_date"})
PLAYBOOK_FIELDS = frozenset({"name", "description", "cta_type", "is_active"})
PLAYBOOK_TASK_FIELDS = frozenset({"title", "task_type", "guidance", "due_in_days", "assignee_role"})
REASON_FIELDS = frozenset({"name", "cta_type", "is_active"})


def _timeline(cta: CTA, kind: str, title: str, actor: User | None, data: dict[str, Any]) -> None:
    timeline_record(account=cta.account_id, kind=kind, title=title, actor=actor, source=("cta", cta.pk), data=data)


def _check_assignable(user: User | None, field: str) -> None:
    if user is not None and (not user.is_active or user.role == Role.VIEWER):
        raise ValidationError({field: "Pick an active admin, manager or CSM: viewers cannot own work."})


# --- playbooks ------------------------------------------------------------------------------------------


def resolve_assignee(
    *, assignee_role: str, account_owner: User | None, team: Iterable[AccountTeamMember]
) -> User | None:
    """Who a playbook step goes to. The account owner; the first colleague holding that account-team role
    (the owner when nobody does); or the owner's manager (``owner.team.manager``; the owner when none)."""
    if assignee_role == ASSIGNEE_OWNER_MANAGER:
        team_obj = account_owner.team if account_owner is not None else None
        manager = team_obj.manager if team_obj is not None else None
        return manager if manager is not None and manager.is_active else account_owner
    if assignee_role.startswith(ASSIGNEE_TEAM_PREFIX):
        role = assignee_role.removeprefix(ASSIGNEE_TEAM_PREFIX)
        holders = sorted((m for m in team if m.role == role and m.user.is_active), key=lambda m: m.id)
        return holders[0].user if holders else account_owner
    return account_owner


@transaction.atomic
def cta_apply_playbook(*, cta: CTA, playbook: Playbook) -> list[CTATask]:
    """Stamp a playbook's steps onto a CTA: each task is due ``due_in_days`` after the CTA's opening day and
    assigned by role. Steps addressed to the account owner go to the CTA owner when the account has none."""
    account = (
        Account.objects.select_related("owner", "owner__team", "owner__team__manager")
        .prefetch_related("team_members__user")
        .get(pk=cta.account_id)
    )
    start = cta.tasks.count()
    tasks = _stamp_tasks(cta, list(playbook.tasks.order_by("position", "id")), account, start=start)
    if cta.playbook_id is None:
        CTA.objects.filter(pk=cta.pk).update(playbook=playbook)
        cta.playbook = playbook
    return CTATask.objects.bulk_create(tasks)


def _stamp_tasks(cta: CTA, steps: list[PlaybookTask], account: Account, *, start: int = 0) -> list[CTATask]:
    """The tasks of ``steps`` for ``cta`` (not saved): due ``due_in_days`` after the CTA's opening day, assigned by
    role. ``account`` comes with its owner's team and manager and its team members (prefetched: no query here)."""
    owner = account.owner or cta.owner
    team = list(account.team_members.all())
    opened = timezone.localdate(cta.opened_at)
    return [
        CTATask(
            cta=cta,
            playbook_task=step,
            position=start + i,
            title=step.title,
            task_type=step.task_type,
            guidance=step.guidance,
            due_date=opened + dt.timedelta(days=step.due_in_days),
            assignee=resolve_assignee(assignee_role=step.assignee_role, account_owner=owner, team=team),
        )
        for i, step in enumerate(steps)
    ]


@transaction.atomic
def playbook_save(
    *, data: dict[str, Any], tasks: list[dict[str, Any]] | None = None, playbook: Playbook | None = None
) -> Playbook:
    """Create or update a playbook; ``tasks`` (if given) replaces its steps, in the given order. Tasks
    already stamped onto CTAs keep their dates and assignees."""
    playbook = playbook or Playbook()
    apply_fields(playbook, data, PLAYBOOK_FIELDS)
    playbook.full_clean()
    playbook.save()
    if tasks is not None:
        steps = []
        for i, task_data in enumerate(tasks):
            step = PlaybookTask(playbook=playbook, position=i)
            apply_fields(step, task_data, PLAYBOOK_TASK_FIELDS)
            try:
                step.full_clean(exclude=["playbook"])
            except ValidationError as exc:
                raise ValidationError({f"tasks[{i}].{k}": v for k, v in exc.message_dict.items()}) from exc
            steps.append(step)
        playbook.tasks.all().delete()
        PlaybookTask.objects.bulk_create(steps)
    return playbook


@transaction.atomic
def playbook_delete(*, playbook: Playbook) -> None:
    """Delete a playbook; CTAs that used it keep their tasks."""
    playbook.delete()


@transaction.atomic
def reason_save(*, data: dict[str, Any], reason: CTAReason | None = None) -> CTAReason:
    """Create or update a CTA reason of the admin-managed list."""
    reason = reason or CTAReason()
    apply_fields(reason, data, REASON_FIELDS)
    reason.full_clean()
    reason.save()
    return reason


@transaction.atomic
def reason_delete(*, reason: CTAReason) -> None:
    """Delete an unused reason; one that CTAs cite is deactivated instead, so history keeps its label."""
    if reason.ctas.exists():
        raise ValidationError({"reason": "CTAs cite this reason: deactivate it instead."})
    reason.delete()


# --- CTAs -----------------------------------------------------------------------------------------------


@transaction.atomic
def cta_open(
    *,
    account: Account,
    cta_type: str,
    priority: str,
    title: str,
    reason: CTAReason | None = None,
    due_date: dt.date | None = None,
    owner: User | None = None,
    playbook: Playbook | None = None,
    source: str = CTASource.MANUAL,
    source_key: str = "",
    description: str = "",
    created_by: User | None = None,
) -> CTA:
    """Open a CTA on an account. The owner defaults to the account owner; the due date to the playbook's last
    step (or a week out); the playbook's steps become tasks with real dates and assignees. Records a
    timeline line. Triggers call this with ``source="trigger", source_key="trigger:<id>"``."""
    _check_assignable(owner, "owner")
    if reason is not None and not reason.is_active:
        raise ValidationError({"reason": "This reason is retired."})
    if playbook is not None and not playbook.is_active:
        raise ValidationError({"playbook": "This playbook is inactive."})
    now = timezone.now()
    if due_date is None:
        steps = list(playbook.tasks.values_list("due_in_days", flat=True)) if playbook else []
        due_date = timezone.localdate(now) + dt.timedelta(days=max(steps) if steps else DEFAULT_DUE_DAYS)
    cta = CTA(
        account=account,
        cta_type=cta_type,
        priority=priority,
        reason=reason,
        title=title,
        description=description,
        due_date=due_date,
        owner=owner if owner is not None else account.owner,
        source=source,
        source_key=source_key,
        opened_at=now,
        created_by=created_by,
    )
    cta.full_clean()
    cta.save()
    if playbook is not None:
        cta_apply_playbook(cta=cta, playbook=playbook)
    _timeline(
        cta,
        "cta_opened",
        f"CTA opened: {title}",
        created_by,
        {"cta_id": cta.pk, "type": cta_type, "priority": priority, "source": source},
    )
    return cta


@dataclass(frozen=True)
class CTAOpening:
    """One CTA of ``cta_open_many``: what differs from one account to the next."""

    account: Account
    title: str
    description: str = ""
    due_date: dt.date | None = None


@transaction.atomic
def cta_open_many(
    *,
    openings: list[CTAOpening],
    cta_type: str,
    priority: str,
    reason: CTAReason | None = None,
    playbook: Playbook | None = None,
    source: str = CTASource.MANUAL,
    source_key: str = "",
    created_by: User | None = None,
) -> list[CTA]:
    """``cta_open`` for many accounts (a trigger firing for a batch) in a fixed number of queries, whatever their
    number: the playbook's steps once, one insert of the CTAs, their accounts' owners and teams (two queries), one
    insert of every task, one of the timeline lines. Each CTA goes to its account's owner; the rules (defaults,
    assignees, validation) are ``cta_open``'s. The accounts are loaded rows, with their owner (``select_related``):
    their existence is not re-checked; loaded with ``owner__team__manager`` and ``team_members__user`` too, they
    are not read again for the playbook's assignees."""
    if not openings:
        return []
    if reason is not None and not reason.is_active:
        raise ValidationError({"reason": "This reason is retired."})
    if playbook is not None and not playbook.is_active:
        raise ValidationError({"playbook": "This playbook is inactive."})
    now = timezone.now()
    steps = list(playbook.tasks.order_by("position", "id")) if playbook is not None else []
    default_due = timezone.localdate(now) + dt.timedelta(
        days=max((s.due_in_days for s in steps), default=DEFAULT_DUE_DAYS)
    )
    ctas = []
    for o in openings:
        cta = CTA(
            account=o.account, cta_type=cta_type, priority=priority, reason=reason, title=o.title,
            description=o.description, due_date=o.due_date or default_due, owner=o.account.owner, source=source,
            source_key=source_key, playbook=playbook, opened_at=now, created_by=created_by,
        )  # fmt: skip
        # Field and model rules; the foreign keys are loaded rows and the check constraints hold in the database.
        cta.full_clean(
            exclude=["account", "reason", "owner", "playbook", "created_by", "closed_by"],
            validate_unique=False,
            validate_constraints=False,
        )
        ctas.append(cta)
    ctas = CTA.objects.bulk_create(ctas)
    if steps:
        given = [o.account for o in openings]
        if all("team_members" in getattr(a, "_prefetched_objects_cache", {}) for a in given):
            accounts = {a.pk: a for a in given}  # the caller loaded owners' teams and team members already
        else:
            accounts = (
                Account.objects.select_related("owner", "owner__team", "owner__team__manager")
                .prefetch_related("team_members__user")
                .in_bulk([c.account_id for c in ctas])
            )
        CTATask.objects.bulk_create([t for c in ctas for t in _stamp_tasks(c, steps, accounts[c.account_id])])
    timeline_record_many(
        entries=[
            {
                "account": c.account_id, "kind": "cta_opened", "title": f"CTA opened: {c.title}", "actor": created_by,
                "source": ("cta", c.pk),
                "data": {"cta_id": c.pk, "type": cta_type, "priority": priority, "source": source},
            }
            for c in ctas
        ]
    )  # fmt: skip
    return ctas


def _check_open(cta: CTA) -> None:
    if cta.status == CTAStatus.CLOSED:
        raise ValidationError({"status": "This CTA is closed."})


@transaction.atomic
def cta_update(*, cta: CTA, data: dict[str, Any]) -> CTA:
    """Change a CTA's type, priority, reason, title, description or due date."""
    apply_fields(cta, data, CTA_EDIT_FIELDS)
    cta.full_clean()
    cta.save()
    return cta


@transaction.atomic
def cta_snooze(*, cta: CTA, until: dt.date | None, today: dt.date | None = None) -> CTA:
    """Hide an open CTA from the cockpit until a later date; ``until=None`` wakes it now."""
    _check_open(cta)
    today = today or timezone.localdate()
    if until is None:
        cta.status, cta.snoozed_until = CTAStatus.OPEN, None
    elif until <= today:
        raise ValidationError({"until": "Snooze until a date after today."})
    else:
        cta.status, cta.snoozed_until = CTAStatus.SNOOZED, until
    cta.full_clean()
    cta.save(update_fields=["status", "snoozed_until", "updated_at"])
    return cta


@transaction.atomic
def cta_reassign(*, cta: CTA, owner: User, by: User | None = None) -> CTA:
    """Give a CTA to another owner; its unfinished tasks held by the previous owner follow. The new owner is
    notified in-app (and by email)."""
    _check_open(cta)
    if owner is None:
        raise ValidationError({"owner": "Pick the new owner."})
    _check_assignable(owner, "owner")
    previous = cta.owner_id
    if previous == owner.pk:
        return cta
    cta.owner = owner
    cta.save(update_fields=["owner", "updated_at"])
    if previous is not None:
        cta.tasks.filter(assignee_id=previous, completed_at__isnull=True).update(assignee=owner)
    if by is None or by.pk != owner.pk:
        url = reverse("playbooks:cta_detail", args=[cta.pk])
        who = f" by {by}" if by is not None else ""
        # Inside the transaction: no notification for a reassignment that rolls back (its email waits for commit).
        notification_send(user=owner, title=f"CTA assigned to you{who}: {cta.title}", body=str(cta.account), url=url)
    return cta


@transaction.atomic
def cta_close(*, cta: CTA, outcome: str, note: str = "", by: User | None = None) -> CTA:
    """Close a CTA with an outcome (success, no action needed, lost): required, so reports can count them."""
    _check_open(cta)
    if outcome not in CTAOutcome.values:
        raise ValidationError({"outcome": "Pick an outcome: success, no action needed or lost."})
    cta.status, cta.outcome, cta.outcome_note = CTAStatus.CLOSED, outcome, note
    cta.closed_at, cta.closed_by, cta.snoozed_until = timezone.now(), by, None
    cta.full_clean()
    cta.save()
    _timeline(
        cta,
        "cta_closed",
        f"CTA closed ({cta.get_outcome_display().lower()}): {cta.title}",
        by,
        {"cta_id": cta.pk, "outcome": outcome, "note": note},
    )
    return cta


@transaction.atomic
def cta_task_set_done(*, task: CTATask, done: bool, by: User) -> CTATask:
    """Tick a task off (recording when and by whom) or untick it."""
    _check_open(task.cta)
    if done and task.completed_at is None:
        task.completed_at, task.completed_by = timezone.now(), by
    elif not done:
        task.completed_at, task.completed_by = None, None
    task.save(update_fields=["completed_at", "completed_by"])
    return task


@transaction.atomic
def cta_comment_add(*, cta: CTA, author: User, body: str) -> CTAComment:
    """Add a comment to a CTA."""
    comment = CTAComment(cta=cta, author=author, body=(body or "").strip())
    comment.full_clean()
    comment.save()
    return comment
