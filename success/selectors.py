"""Reads of success plans, and their time to onboard (TTO) and time to first value (TTFV).

Glossary (/work/shared/seeds/000_67b36aae7b062a0e.txt):
- "Time to Onboard (TTO): the amount of time it takes to fully onboard a new customer after contracts have
  been signed." Onboarding ends at go-live ("commonly used at the end of the Onboarding phase"), so
  TTO = go-live milestone's actual date - contract start date, in days.
- "Time to Value / Time to First Value (TTV / TTFV): the amount of time it takes a customer to get real,
  tangible value from using your product after completing onboarding", so
  TTFV = first-value milestone's actual date - go-live milestone's actual date, in days.
The contract start date is the plan's chosen contract's, else the account's earliest non-draft contract's.
Either figure is None until both of its dates are known, or when the second date is before the first
(a data problem reported in ``warning``).
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Min, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import Contract, ContractStatus
from success.models import Milestone, MilestoneKind, ObjectiveStatus, PlanTask, PlanTemplate, SuccessPlan


@dataclass(frozen=True)
class PlanMetrics:
    contract_start: dt.date | None
    go_live: dt.date | None
    first_value: dt.date | None
    tto_days: int | None
    ttfv_days: int | None
    objectives_achieved: int
    objectives_total: int
    tasks_done: int
    tasks_total: int
    tasks_overdue: int
    warning: str = ""


def _days_between(start: dt.date | None, end: dt.date | None) -> int | None:
    # A negative interval is a data problem (e.g. the TTO contract is a later renewal), not a duration.
    return (end - start).days if start and end and end >= start else None


def plan_metrics(plan: SuccessPlan, today: dt.date | None = None) -> PlanMetrics:
    """TTO, TTFV and progress from an already-prefetched plan (see ``plan_list``): no query."""
    today = today or dt.date.today()
    actual = {m.kind: m.actual_date for m in plan.milestones.all() if m.kind != MilestoneKind.CUSTOM}
    start = getattr(plan, "contract_start", None)
    go_live, first_value = actual.get(MilestoneKind.GO_LIVE), actual.get(MilestoneKind.FIRST_VALUE)
    objectives, tasks = list(plan.objectives.all()), list(plan.tasks.all())
    warning = ""
    if start and go_live and go_live < start:
        warning = "Go-live is before the contract start: pick the contract the onboarding belongs to."
    elif go_live and first_value and first_value < go_live:
        warning = "First value is before go-live: check the milestones' actual dates."
    return PlanMetrics(
        contract_start=start,
        go_live=go_live,
        first_value=first_value,
        tto_days=_days_between(start, go_live),
        ttfv_days=_days_between(go_live, first_value),
        objectives_achieved=sum(o.status == ObjectiveStatus.ACHIEVED for o in objectives),
        objectives_total=len(objectives),
        tasks_done=sum(t.done for t in tasks),
        tasks_total=len(tasks),
        tasks_overdue=sum(not t.done and t.due_date is not None and t.due_date < today for t in tasks),
        warning=warning,
    )


def plan_list() -> QuerySet[SuccessPlan]:
    """Plans with account, owner, the TTO start date annotated, and their items prefetched: 4 queries
    for any number of plans (plans, objectives, milestones, tasks with owners)."""
    earliest = (
        Contract.objects.filter(account=OuterRef("account_id"))
        .exclude(status=ContractStatus.DRAFT)
        .values("account")
        .annotate(first=Min("start_date"))
        .values("first")
    )
    return (
        SuccessPlan.objects.select_related("account", "owner", "template", "contract")
        .annotate(contract_start=Coalesce("contract__start_date", Subquery(earliest)))
        .prefetch_related(
            "objectives",
            Prefetch("milestones", queryset=Milestone.objects.order_by("position", "planned_date", "id")),
            Prefetch("tasks", queryset=PlanTask.objects.select_related("owner")),
        )
    )


def templates_for(*, tier: str, lifecycle_stage: str) -> list[PlanTemplate]:
    """Active templates that fit an account (matching or empty tier and stage), the most specific first."""
    templates = PlanTemplate.objects.filter(is_active=True)
    fitting = [t for t in templates if t.tier in ("", tier) and t.lifecycle_stage in ("", lifecycle_stage)]
    return sorted(fitting, key=lambda t: (-(bool(t.tier) + bool(t.lifecycle_stage)), t.name))
