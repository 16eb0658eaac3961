"""Reads of "My day": what is due, renewing, moving and going quiet in a book, each in one query, so the page
runs a fixed number of queries whatever the size of the book."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from accounts.selectors import upcoming_renewals
from csp.models import Role, User
from health.selectors import band_changes
from playbooks.models import CTA, CTAStatus, CTATask
from playbooks.selectors import cta_active_q, priority_rank
from success.models import PlanStatus, PlanTask
from timeline.selectors import going_dark

DUE_HORIZON_DAYS = 7  # "due": overdue, today and the next 7 days
RENEWAL_DAYS = 90
HEALTH_WINDOW_DAYS = 7
GOING_DARK_DAYS = 30  # the going-dark page's default
LIMIT = 25  # rows per section; each section links to its full list
DARK_ROWS = 10  # the going-dark list is long in most books: the top of it, and a link to the page


@dataclass(frozen=True)
class DayScope:
    """Whose day the page shows: the owners whose items are listed, and for managers the team to pick from."""

    owner_ids: list[int]
    team: list[User]
    csm_id: int | None


def day_scope(*, user: User, csm_id: int | None = None) -> DayScope:
    """A CSM sees their own items; a manager their team's (members of the teams they manage, and themselves),
    or one member's with ``csm_id``. One query for managers, none for CSMs."""
    if user.role != Role.MANAGER:
        return DayScope(owner_ids=[user.id], team=[], csm_id=None)
    team = list(User.objects.filter(Q(team__manager=user) | Q(pk=user.pk), is_active=True).order_by("full_name"))
    ids = [u.id for u in team]
    if csm_id in ids:
        return DayScope(owner_ids=[csm_id], team=team, csm_id=csm_id)
    return DayScope(owner_ids=ids, team=team, csm_id=None)


@dataclass
class TaskLine:
    """A task of a CTA or of a success plan, as one line of "Due and overdue"."""

    kind: str  # "cta" or "plan"
    task: Any
    title: str
    due_date: dt.date
    account: Any
    parent_title: str
    assignee: User | None


def due_ctas(*, owner_ids: list[int], today: dt.date) -> dict[str, Any]:
    """Active CTAs (open, or snoozed until a day that has come) due by the horizon, most pressing first, and
    their counts (2 queries)."""
    horizon = today + dt.timedelta(days=DUE_HORIZON_DAYS)
    qs = CTA.objects.filter(cta_active_q(today), owner_id__in=owner_ids, due_date__lte=horizon)
    counts = qs.aggregate(total=Count("id"), overdue=Count("id", filter=Q(due_date__lt=today)))
    rows = list(
        qs.select_related("account", "owner")
        .annotate(priority_rank=priority_rank())
        .order_by("due_date", "priority_rank", "id")[:LIMIT]
    )
    return {"rows": rows, "total": counts["total"], "overdue": counts["overdue"], "more": counts["total"] - len(rows)}


def due_tasks(*, owner_ids: list[int], today: dt.date) -> list[TaskLine]:
    """Open tasks of CTAs not closed and of active success plans, assigned to these people and due by the
    horizon, oldest due first (2 queries)."""
    horizon = today + dt.timedelta(days=DUE_HORIZON_DAYS)
    cta_tasks = (
        CTATask.objects.filter(assignee_id__in=owner_ids, completed_at__isnull=True, due_date__lte=horizon)
        .exclude(cta__status=CTAStatus.CLOSED)
        .select_related("cta", "cta__account", "assignee")
        .order_by("due_date", "id")[:LIMIT]
    )
    plan_tasks = (
        PlanTask.objects.filter(owner_id__in=owner_ids, done=False, due_date__lte=horizon)
        .filter(plan__status=PlanStatus.ACTIVE)
        .select_related("plan", "plan__account", "owner")
        .order_by("due_date", "id")[:LIMIT]
    )
    lines = [TaskLine("cta", t, t.title, t.due_date, t.cta.account, t.cta.title, t.assignee) for t in cta_tasks]
    lines += [TaskLine("plan", t, t.title, t.due_date, t.plan.account, t.plan.name, t.owner) for t in plan_tasks]
    return sorted(lines, key=lambda line: (line.due_date, line.kind, line.task.pk))[:LIMIT]


def my_day(*, user: User, scope: DayScope, today: dt.date) -> dict[str, Any]:
    """Everything "My day" lists for ``scope`` (7 queries, whatever the number of rows)."""
    ids = scope.owner_ids
    dark = list(going_dark(user=user, scope="all", days=GOING_DARK_DAYS).filter(owner_id__in=ids)[: DARK_ROWS + 1])
    return {
        "ctas": due_ctas(owner_ids=ids, today=today),
        "tasks": due_tasks(owner_ids=ids, today=today),
        "renewals": list(upcoming_renewals(owner_ids=ids, today=today, days=RENEWAL_DAYS)[:LIMIT]),
        "health_changes": list(
            band_changes(owner_ids=ids, since=today - dt.timedelta(days=HEALTH_WINDOW_DAYS))[:LIMIT]
        ),
        "going_dark": dark[:DARK_ROWS],
        "going_dark_more": len(dark) > DARK_ROWS,
    }
