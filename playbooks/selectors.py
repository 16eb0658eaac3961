"""Reads of CTAs and playbooks: the trigger-facing dedupe lookups, the cockpit and its groups, team counts."""

import datetime as dt
from collections.abc import Callable, Collection, Iterable
from operator import attrgetter
from typing import Any

from django.db.models import Case, Count, F, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from csp.models import Role, User
from playbooks.models import (
    CTA,
    NOT_CLOSED,
    CTAComment,
    CTAReason,
    CTAStatus,
    CTATask,
    Playbook,
    PlaybookTask,
    priority_rank,
)

SCOPES = ("mine", "team", "all")
GROUPS = (("overdue", "Overdue"), ("today", "Due today"), ("week", "This week"), ("later", "Later"))


# --- contract with triggers (dedupe and cool-down) ---------------------------------------------------------


def open_cta_exists(*, account_id: int, source_key: str) -> bool:
    """Whether the account has a CTA from this source that is not closed (open or snoozed)."""
    return CTA.objects.filter(account_id=account_id, source_key=source_key).exclude(status=CTAStatus.CLOSED).exists()


def open_or_recent_cta_account_ids(
    *, account_ids: Iterable[int], source_key: str, cooldown_days: int, now: dt.datetime | None = None
) -> set[int]:
    """Of ``account_ids``, those a trigger must skip, in one query: a CTA from this source is still open or
    snoozed, or one was closed less than ``cooldown_days`` ago."""
    ids = list(account_ids)
    if not ids:
        return set()
    since = (now or timezone.now()) - dt.timedelta(days=max(cooldown_days, 0))
    blocking = ~Q(status=CTAStatus.CLOSED)
    if cooldown_days > 0:
        blocking |= Q(status=CTAStatus.CLOSED, closed_at__gt=since)
    qs = CTA.objects.filter(blocking, account_id__in=ids, source_key=source_key)
    return set(qs.values_list("account_id", flat=True).distinct())


# --- CTAs -------------------------------------------------------------------------------------------------


def cta_active_q(today: dt.date) -> Q:
    """CTAs in the cockpit: open, or snoozed until a day that has come (they wake by query, no job)."""
    return Q(status=CTAStatus.OPEN) | Q(status=CTAStatus.SNOOZED, snoozed_until__lte=today)


def cta_list() -> QuerySet[CTA]:
    """CTAs with everything a card shows (account, owner, reason, playbook, tasks with assignees, comments
    with authors), in a fixed number of queries: one, plus one per prefetch."""
    return (
        CTA.objects.select_related("account", "account__owner", "owner", "owner__team", "reason", "playbook")
        .prefetch_related(
            Prefetch("tasks", queryset=CTATask.objects.select_related("assignee", "completed_by")),
            Prefetch("comments", queryset=CTAComment.objects.select_related("author")),
        )
        .annotate(priority_rank=priority_rank())
    )


def scope_q(user: User, scope: str, team_ids: Collection[int] | None = None) -> Q:
    """``mine``: CTAs the user owns or holds an open task in; ``team``: a manager's team (a CSM's own team);
    ``all``: everything. The task test is a subquery, not a join, so no CTA is listed twice.

    ``team_ids``: a manager's team as already read (``csp.roles.managed_user_ids``: members and the manager).
    Given as a list, the owner test is a plain ``owner_id IN (...)`` the planner estimates and answers from the
    ``cta_cockpit_owner`` index alone (counts of a 15,000-CTA team: an index-only scan, not a scan of the table)."""
    if scope == "mine":
        holding = CTATask.objects.filter(assignee=user, completed_at__isnull=True).values("cta_id")
        return Q(owner=user) | Q(pk__in=holding)
    if scope == "team":
        if user.role == Role.MANAGER and team_ids is not None:
            return Q(owner_id__in=sorted(team_ids))
        # Owner ids from a subquery rather than joins to users and teams: the CTA indexes on owner / due date
        # stay usable (an OR across joined tables forces a scan of every CTA).
        if user.role == Role.MANAGER:
            return Q(owner_id__in=User.objects.filter(team__manager=user).values("id")) | Q(owner=user)
        if user.team_id:
            return Q(owner_id__in=User.objects.filter(team_id=user.team_id).values("id"))
        return Q(owner=user)
    return Q()


def default_scope(user: User) -> str:
    """CSMs work their own CTAs, managers their team's, admins and viewers see all."""
    return {Role.CSM: "mine", Role.MANAGER: "team"}.get(user.role, "all")


def cta_sleeping_q(today: dt.date) -> Q:
    """Snoozed CTAs whose day has not come yet (out of the cockpit)."""
    return Q(status=CTAStatus.SNOOZED, snoozed_until__gt=today)


def cockpit_queryset(
    *,
    user: User,
    scope: str,
    today: dt.date,
    snoozed: bool = False,
    cta_type: str = "",
    priority: str = "",
    account_name: str = "",
    team_ids: Collection[int] | None = None,
) -> QuerySet[CTA]:
    """Active CTAs in a scope (or, with ``snoozed``, those still asleep), optionally of one type, priority or
    account name, most pressing first (due date, then priority). Narrow on purpose: the page sorts and cuts
    ids here, then ``card_rows`` loads the cards (a top-N sort of narrow rows is several times faster than
    one of fully joined rows). ``team_ids``: see ``scope_q``."""
    qs = CTA.objects.filter(cta_sleeping_q(today) if snoozed else cta_active_q(today))
    if scope != "all":
        qs = qs.filter(scope_q(user, scope, team_ids))
    if cta_type:
        qs = qs.filter(cta_type=cta_type)
    if priority:
        qs = qs.filter(priority=priority)
    if account_name.strip():
        qs = qs.filter(account__name__icontains=account_name.strip())
    return qs.annotate(priority_rank=priority_rank()).order_by("due_date", "priority_rank", "id")


def group_counts(qs: QuerySet[CTA], today: dt.date) -> dict[str, int]:
    """How many CTAs of ``qs`` fall in each cockpit group, in one aggregate query. Also the CSM home's
    "due" figures: ``group_counts(cockpit_queryset(user=u, scope="mine", today=d), d)``."""
    end = week_end(today)
    # COUNT(due_date), not COUNT(id): the same figure (due_date is NOT NULL), read from the cta_cockpit_owner
    # index alone, while the id would fetch every CTA's table row.
    return qs.order_by().aggregate(
        overdue=Count("due_date", filter=Q(due_date__lt=today)),
        today=Count("due_date", filter=Q(due_date=today)),
        week=Count("due_date", filter=Q(due_date__gt=today, due_date__lte=end)),
        later=Count("due_date", filter=Q(due_date__gt=end)),
    )


# What a card shows, as plain rows (no model instances: 50 cards with their users and 150 tasks cost several
# times less CPU as dicts). ``owner_manager_id`` and ``account_owner_id`` feed ``policies.cta_action_map_rows``.
CARD_FIELDS = (
    "id", "title", "description", "cta_type", "priority", "due_date", "status", "snoozed_until", "outcome",
    "outcome_note", "closed_at", "source", "account_id", "account__name", "owner_id", "owner__full_name",
    "owner__email", "reason__name", "closed_by__full_name", "closed_by__email",
)  # fmt: skip
CARD_TASK_FIELDS = (
    "id", "cta_id", "title", "task_type", "guidance", "due_date", "completed_at", "assignee_id",
    "assignee__full_name", "assignee__email", "completed_by__full_name", "completed_by__email",
)  # fmt: skip
CARD_COMMENT_FIELDS = ("cta_id", "body", "created_at", "author__full_name", "author__email")


def card_rows(ids: list[int]) -> list[dict[str, Any]]:
    """The cards of these CTAs, in the given order, in three queries: the CTAs (account, owner and their team,
    reason, closer joined), their tasks (assignee, completer joined), their comments (author joined). Each
    row is a dict of ``CARD_FIELDS`` plus ``owner_manager_id``, ``account_owner_id``, ``tasks`` and
    ``comments`` (lists of dicts, in the models' order)."""
    if not ids:
        return []
    rows = CTA.objects.filter(id__in=ids).values(
        *CARD_FIELDS, owner_manager_id=F("owner__team__manager_id"), account_owner_id=F("account__owner_id")
    )
    by_id = {row["id"]: {**row, "tasks": [], "comments": []} for row in rows.order_by()}
    for task in CTATask.objects.filter(cta_id__in=ids).values(*CARD_TASK_FIELDS):
        by_id[task["cta_id"]]["tasks"].append(task)
    for comment in CTAComment.objects.filter(cta_id__in=ids).values(*CARD_COMMENT_FIELDS):
        by_id[comment["cta_id"]]["comments"].append(comment)
    return [by_id[pk] for pk in ids if pk in by_id]


def week_end(today: dt.date) -> dt.date:
    """The Sunday closing ``today``'s ISO week."""
    return today + dt.timedelta(days=6 - today.weekday())


def due_group(due: dt.date, today: dt.date) -> str:
    """overdue (before today), today, week (tomorrow to Sunday), later (after this week)."""
    if due < today:
        return "overdue"
    if due == today:
        return "today"
    if due <= week_end(today):
        return "week"
    return "later"


def cockpit_groups(
    ctas: Iterable[Any], today: dt.date, due: Callable[[Any], dt.date] = attrgetter("due_date")
) -> list[dict[str, Any]]:
    """The cockpit's four groups, in order, each with its CTAs (in the order given). ``due`` reads an item's
    due date (``itemgetter("due_date")`` for ``card_rows``)."""
    buckets: dict[str, list[Any]] = {key: [] for key, _ in GROUPS}
    for cta in ctas:
        buckets[due_group(due(cta), today)].append(cta)
    return [{"key": key, "label": label, "ctas": buckets[key]} for key, label in GROUPS]


def team_counts(*, user: User, today: dt.date, team_ids: Collection[int] | None = None) -> list[dict[str, Any]]:
    """Per owner in the user's scope (a manager's team; everyone for admins): active, overdue and snoozed CTA
    counts, and the active ones per cockpit group (``overdue``, ``today``, ``week``, ``later``: see
    ``team_group_counts``), most overdue first, then by name. ``team_ids``: see ``scope_q``.

    Two queries: the counts grouped by owner id alone, answered from the ``cta_cockpit_owner`` index in its
    order (grouping 15,000 rows joined to their owners' names cost PostgreSQL four times as much), then the
    names of those owners."""
    # status IN (open, snoozed) rather than "not closed": the same CTAs, in the words of the partial indexes.
    qs = CTA.objects.filter(status__in=NOT_CLOSED).exclude(owner=None)
    if user.role != Role.ADMIN:
        qs = qs.filter(scope_q(user, "team", team_ids))
    active, end = cta_active_q(today), week_end(today)
    counts = {
        row["owner_id"]: row
        for row in qs.order_by()
        .values("owner_id")
        .annotate(  # COUNT(due_date): answered from the index, as in group_counts
            active=Count("due_date", filter=active),
            overdue=Count("due_date", filter=active & Q(due_date__lt=today)),
            today=Count("due_date", filter=active & Q(due_date=today)),
            week=Count("due_date", filter=active & Q(due_date__gt=today, due_date__lte=end)),
            later=Count("due_date", filter=active & Q(due_date__gt=end)),
            snoozed=Count("due_date", filter=cta_sleeping_q(today)),
        )
    }
    owners = User.objects.filter(pk__in=list(counts)).order_by("full_name").values_list("id", "full_name", "email")
    rows = [
        {**counts[pk], "owner__full_name": full_name, "owner__email": email, "name": full_name or email}
        for pk, full_name, email in owners
    ]
    rows.sort(key=lambda row: -row["overdue"])  # stable: by name (the database's collation) within a count
    return rows


def team_group_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """``group_counts`` of a manager's whole active team (no filter) from its ``team_counts``: the same figures
    without counting the team's CTAs a second time."""
    return {key: sum(row[key] for row in rows) for key, _label in GROUPS}


def account_ctas(*, account_id: int) -> QuerySet[CTA]:
    """An account's CTAs for its 360 tab: not-closed first by due date, then closed, newest first."""
    return (
        cta_list()
        .filter(account_id=account_id)
        .order_by(Case(When(status=CTAStatus.CLOSED, then=Value(1)), default=Value(0)), "due_date", "-closed_at", "id")
    )


def cta_detail(*, pk: int) -> CTA:
    return cta_list().get(pk=pk)


# --- playbooks and reasons --------------------------------------------------------------------------------


def playbook_list() -> QuerySet[Playbook]:
    return Playbook.objects.prefetch_related(
        Prefetch("tasks", queryset=PlaybookTask.objects.order_by("position", "id"))
    ).annotate(cta_count=Count("ctas", distinct=True))


def reason_list() -> QuerySet[CTAReason]:
    return CTAReason.objects.annotate(cta_count=Count("ctas"))


def active_playbooks() -> QuerySet[Playbook]:
    return Playbook.objects.filter(is_active=True).order_by("name")


def active_reasons() -> QuerySet[CTAReason]:
    return CTAReason.objects.filter(is_active=True).order_by("name")
