"""Writes to plan templates, success plans and their objectives, milestones and tasks."""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from accounts.models import Account
from csp.modeling import apply_fields
from csp.models import User
from success.models import Milestone, MilestoneKind, Objective, ObjectiveStatus, PlanTask, PlanTemplate, SuccessPlan
from timeline.models import EntryKind
from timeline.services import timeline_record

TEMPLATE_FIELDS = frozenset({"name", "description", "tier", "lifecycle_stage", "items", "is_active"})
PLAN_FIELDS = frozenset({"name", "description", "contract", "start_date", "status", "owner"})
ITEM_FIELDS = {
    Objective: frozenset({"title", "success_criteria", "target_date", "status", "position"}),
    Milestone: frozenset({"kind", "name", "planned_date", "actual_date", "position"}),
    PlanTask: frozenset({"title", "owner", "due_date", "done", "position"}),
}
MAX_DAYS = 3650


def _days(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS:
        raise ValidationError({"items": f"{where}: days must be a whole number from 0 to {MAX_DAYS}."})
    return value


def template_items_clean(items: Any) -> dict[str, list[dict[str, Any]]]:
    """Check and normalise a template's items; raises ValidationError naming the first bad item."""
    if not isinstance(items, dict):
        raise ValidationError({"items": "Items must be an object with objectives, milestones and tasks."})
    unknown = set(items) - {"objectives", "milestones", "tasks"}
    if unknown:
        raise ValidationError({"items": f"Unknown section(s): {', '.join(sorted(unknown))}."})
    clean: dict[str, list[dict[str, Any]]] = {"objectives": [], "milestones": [], "tasks": []}
    for section in clean:
        rows = items.get(section, [])
        if not isinstance(rows, list):
            raise ValidationError({"items": f"{section} must be a list."})
        for i, row in enumerate(rows, 1):
            where = f"{section} #{i}"
            if not isinstance(row, dict):
                raise ValidationError({"items": f"{where} must be an object."})
            title = str(row.get("name" if section == "milestones" else "title", "")).strip()
            if not title:
                raise ValidationError({"items": f"{where} needs a {'name' if section == 'milestones' else 'title'}."})
            if section == "objectives":
                clean[section].append({
                    "title": title[:300],
                    "success_criteria": str(row.get("success_criteria", "")),
                    "target_days": _days(row.get("target_days", 90), where),
                })  # fmt: skip
            elif section == "milestones":
                kind = row.get("kind", MilestoneKind.CUSTOM)
                if kind not in MilestoneKind.values:
                    raise ValidationError({"items": f"{where}: unknown kind {kind!r}."})
                if kind != MilestoneKind.CUSTOM and any(m["kind"] == kind for m in clean[section]):
                    raise ValidationError({"items": f"{where}: only one {kind} milestone per plan."})
                clean[section].append(
                    {"kind": kind, "name": title[:200], "due_days": _days(row.get("due_days", 0), where)}
                )
            else:
                clean[section].append({"title": title[:300], "due_days": _days(row.get("due_days", 0), where)})
    return clean


@transaction.atomic
def template_create(*, data: dict[str, Any]) -> PlanTemplate:
    """Create a plan template after checking its items."""
    template = PlanTemplate()
    apply_fields(template, data, TEMPLATE_FIELDS)
    template.items = template_items_clean(template.items or {})
    template.full_clean()
    template.save()
    return template


@transaction.atomic
def template_update(*, template: PlanTemplate, data: dict[str, Any]) -> PlanTemplate:
    """Change a template; plans already built from it keep their own copies of the items."""
    apply_fields(template, data, TEMPLATE_FIELDS)
    template.items = template_items_clean(template.items or {})
    template.full_clean()
    template.save()
    return template


@transaction.atomic
def template_delete(*, template: PlanTemplate) -> None:
    """Delete a template; plans built from it stay."""
    template.delete()


@transaction.atomic
def plan_create(
    *, account: Account, data: dict[str, Any], template: PlanTemplate | None = None, owner: User | None = None
) -> SuccessPlan:
    """Create a plan, blank or copied from a template: due dates are the plan's start date plus the
    template's relative days, tasks go to the plan owner (default: the account owner)."""
    data = dict(data)
    data.setdefault("start_date", timezone.localdate())
    data.setdefault("owner", owner or account.owner)
    if not data.get("name") and template is not None:
        data["name"] = template.name
    plan = SuccessPlan(account=account, template=template)
    apply_fields(plan, data, PLAN_FIELDS)
    if plan.contract_id and plan.contract.account_id != account.pk:
        raise ValidationError({"contract": "The contract belongs to another account."})
    plan.full_clean()
    plan.save()
    if template is not None:
        items = template_items_clean(template.items or {})
        start: dt.date = plan.start_date
        Objective.objects.bulk_create(
            Objective(plan=plan, title=o["title"], success_criteria=o["success_criteria"], position=i,
                      target_date=start + dt.timedelta(days=o["target_days"]))
            for i, o in enumerate(items["objectives"])
        )  # fmt: skip
        Milestone.objects.bulk_create(
            Milestone(plan=plan, kind=m["kind"], name=m["name"], position=i,
                      planned_date=start + dt.timedelta(days=m["due_days"]))
            for i, m in enumerate(items["milestones"])
        )  # fmt: skip
        PlanTask.objects.bulk_create(
            PlanTask(plan=plan, title=t["title"], owner=plan.owner, position=i,
                     due_date=start + dt.timedelta(days=t["due_days"]))
            for i, t in enumerate(items["tasks"])
        )  # fmt: skip
    timeline_record(
        account=account, kind=EntryKind.SUCCESS_PLAN, title=f"Success plan created: {plan.name}",
        source=("success_plan", plan.pk), data={"template": template.name if template else None},
    )  # fmt: skip
    return plan


@transaction.atomic
def plan_update(*, plan: SuccessPlan, data: dict[str, Any]) -> SuccessPlan:
    """Change a plan's name, dates, status, owner or TTO contract."""
    apply_fields(plan, data, PLAN_FIELDS)
    if plan.contract_id and plan.contract.account_id != plan.account_id:
        raise ValidationError({"contract": "The contract belongs to another account."})
    plan.full_clean()
    plan.save()
    return plan


@transaction.atomic
def plan_delete(*, plan: SuccessPlan) -> None:
    """Delete a plan with its objectives, milestones and tasks."""
    plan.delete()


def _feed_line(item: models.Model, before: dict[str, Any]) -> None:
    """Milestones reached and objectives achieved or missed go on the account's timeline."""
    plan, when = item.plan, None
    if isinstance(item, Milestone) and item.actual_date and not before.get("actual_date"):
        title = f"Milestone reached: {item.name} ({plan.name})"
        # On the feed at the day it was reached, not the day it was typed in.
        when = timezone.make_aware(dt.datetime.combine(item.actual_date, dt.time(12)))
    elif (
        isinstance(item, Objective)
        and item.status in (ObjectiveStatus.ACHIEVED, ObjectiveStatus.MISSED)
        and before.get("status") != item.status
    ):
        title = f"Objective {item.get_status_display().lower()}: {item.title} ({plan.name})"
    else:
        return
    timeline_record(
        account=plan.account_id,
        kind=EntryKind.SUCCESS_PLAN,
        title=title,
        occurred_at=when,
        source=(type(item).__name__.lower(), item.pk),
    )


def _save_item(item: models.Model) -> models.Model:
    if isinstance(item, PlanTask):
        # Keep when the task was done, for on-time reporting.
        item.completed_at = (item.completed_at or timezone.now()) if item.done else None
    if isinstance(item, Milestone) and item.kind != MilestoneKind.CUSTOM:
        clash = Milestone.objects.filter(plan_id=item.plan_id, kind=item.kind).exclude(pk=item.pk)
        if clash.exists():
            raise ValidationError({"kind": f"This plan already has a {item.get_kind_display()} milestone."})
    item.full_clean()
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError as exc:  # a concurrent duplicate standard milestone
        raise ValidationError({"kind": "This plan already has a milestone of that kind."}) from exc
    return item


@transaction.atomic
def plan_item_create(*, plan: SuccessPlan, model: type[models.Model], data: dict[str, Any]) -> models.Model:
    """Add an objective, milestone or task (``model``) to a plan."""
    item = model(plan=plan)
    apply_fields(item, data, ITEM_FIELDS[model])
    _save_item(item)
    _feed_line(item, {})
    return item


@transaction.atomic
def plan_item_update(*, item: models.Model, data: dict[str, Any]) -> models.Model:
    """Change an objective, milestone or task; marking a task done stamps ``completed_at``."""
    before = {f: getattr(item, f) for f in ("actual_date", "status") if hasattr(item, f)}
    apply_fields(item, data, ITEM_FIELDS[type(item)])
    _save_item(item)
    _feed_line(item, before)
    return item


@transaction.atomic
def plan_item_delete(*, item: models.Model) -> None:
    """Remove an objective, milestone or task."""
    item.delete()
