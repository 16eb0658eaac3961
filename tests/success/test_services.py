"""Plans from templates, item rules, and TTO / TTFV on hand-built plans (glossary formulas)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from success import selectors, services
from success.models import Milestone, MilestoneKind, Objective, PlanTask
from tests.factories import ContractFactory
from tests.success.factories import MilestoneFactory, PlanTemplateFactory, SuccessPlanFactory

pytestmark = pytest.mark.django_db
D = dt.date


def _metrics(plan):
    return selectors.plan_metrics(selectors.plan_list().get(pk=plan.pk), today=D(2025, 6, 1))


def test_tto_and_ttfv_from_milestones_and_contract_start(own_account):
    ContractFactory(account=own_account, start_date=D(2025, 1, 10), end_date=D(2025, 12, 31))
    ContractFactory(account=own_account, start_date=D(2024, 12, 1), end_date=D(2025, 1, 9), status="draft")
    plan = SuccessPlanFactory(account=own_account, start_date=D(2025, 1, 10))
    MilestoneFactory(plan=plan, kind="kickoff", actual_date=D(2025, 1, 15))
    MilestoneFactory(plan=plan, kind="go_live", planned_date=D(2025, 2, 20), actual_date=D(2025, 3, 1))
    MilestoneFactory(plan=plan, kind="first_value", actual_date=D(2025, 3, 31))
    m = _metrics(plan)
    # Drafts don't count: the contract start is 2025-01-10. TTO = 2025-03-01 - 2025-01-10 = 50 days.
    assert m.contract_start == D(2025, 1, 10)
    assert m.tto_days == 50
    # TTFV = first value 2025-03-31 - go-live 2025-03-01 = 30 days.
    assert m.ttfv_days == 30


def test_chosen_contract_wins_and_missing_dates_give_none(own_account):
    early = ContractFactory(account=own_account, start_date=D(2024, 1, 1), end_date=D(2024, 12, 31))
    later = ContractFactory(account=own_account, start_date=D(2025, 1, 1), end_date=D(2025, 12, 31))
    plan = SuccessPlanFactory(account=own_account, contract=later)
    MilestoneFactory(plan=plan, kind="go_live", planned_date=D(2025, 2, 1))  # not reached yet
    m = _metrics(plan)
    assert m.contract_start == later.start_date != early.start_date
    assert m.tto_days is None and m.ttfv_days is None
    Milestone.objects.filter(plan=plan).update(actual_date=D(2025, 1, 31))
    assert _metrics(plan).tto_days == 30


def test_no_contract_no_tto(own_account):
    plan = SuccessPlanFactory(account=own_account)
    MilestoneFactory(plan=plan, kind="go_live", actual_date=D(2025, 1, 31))
    assert _metrics(plan).tto_days is None


def test_plan_from_template_copies_items_with_relative_dates(own_account, csm):
    template = PlanTemplateFactory(tier="smb")
    plan = services.plan_create(account=own_account, data={"start_date": D(2025, 1, 1)}, template=template)
    assert plan.name == template.name and plan.owner == csm
    assert Objective.objects.get(plan=plan).target_date == D(2025, 4, 1)
    assert list(Milestone.objects.filter(plan=plan).values_list("kind", "planned_date")) == [
        ("kickoff", D(2025, 1, 8)), ("go_live", D(2025, 2, 15)), ("first_value", D(2025, 3, 17)),
    ]  # fmt: skip
    task = PlanTask.objects.get(plan=plan)
    assert task.due_date == D(2025, 1, 3) and task.owner == csm


def test_template_items_are_checked():
    with pytest.raises(ValidationError) as exc:
        services.template_create(data={"name": "Bad", "items": {"tasks": [{"title": "x", "due_days": -3}]}})
    assert "items" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.template_create(data={"name": "Bad", "items": {"milestones": [{"kind": "party", "name": "x"}]}})
    with pytest.raises(ValidationError):
        services.template_create(
            data={"name": "Bad", "items": {"milestones": [{"kind": "go_live", "name": "a"}, {"kind": "go_live",
                                                                                          "name": "b"}]}}
        )  # fmt: skip


def test_one_standard_milestone_per_kind_and_task_completion(own_account):
    plan = SuccessPlanFactory(account=own_account)
    services.plan_item_create(plan=plan, model=Milestone, data={"kind": "go_live", "name": "Live"})
    with pytest.raises(ValidationError) as exc:
        services.plan_item_create(plan=plan, model=Milestone, data={"kind": "go_live", "name": "Again"})
    assert "kind" in exc.value.message_dict
    services.plan_item_create(plan=plan, model=Milestone, data={"kind": MilestoneKind.CUSTOM, "name": "Training"})
    services.plan_item_create(plan=plan, model=Milestone, data={"kind": MilestoneKind.CUSTOM, "name": "SSO"})
    task = services.plan_item_create(plan=plan, model=PlanTask, data={"title": "Train admins"})
    assert task.completed_at is None
    services.plan_item_update(item=task, data={"done": True})
    assert task.completed_at is not None
    services.plan_item_update(item=task, data={"done": False})
    assert task.completed_at is None


def test_plan_contract_must_belong_to_the_account(own_account, foreign_account):
    contract = ContractFactory(account=foreign_account)
    with pytest.raises(ValidationError) as exc:
        services.plan_create(account=own_account, data={"name": "P", "contract": contract})
    assert "contract" in exc.value.message_dict


def test_templates_for_prefers_specific(own_account):
    generic = PlanTemplateFactory(name="Any")
    smb = PlanTemplateFactory(name="SMB onboarding", tier="smb", lifecycle_stage="onboarding")
    PlanTemplateFactory(name="Enterprise", tier="enterprise")
    PlanTemplateFactory(name="Off", is_active=False)
    assert selectors.templates_for(tier="smb", lifecycle_stage="onboarding") == [smb, generic]


def test_plan_events_go_on_the_timeline(own_account):
    from timeline.models import TimelineEntry

    plan = services.plan_create(account=own_account, data={"name": "Onboarding"})
    milestone = services.plan_item_create(plan=plan, model=Milestone, data={"kind": "go_live", "name": "Go-live"})
    objective = services.plan_item_create(plan=plan, model=Objective, data={"title": "Cut backlog"})
    services.plan_item_update(item=milestone, data={"actual_date": D(2025, 3, 1)})
    services.plan_item_update(item=milestone, data={"name": "Go-live (EU)"})  # already reached: no new line
    services.plan_item_update(item=objective, data={"status": "achieved"})
    titles = list(
        TimelineEntry.objects.filter(account=own_account, kind="success_plan").values_list("title", flat=True)
    )
    assert sorted(titles) == sorted([
        "Success plan created: Onboarding",
        "Milestone reached: Go-live (Onboarding)",
        "Objective achieved: Cut backlog (Onboarding)",
    ])  # fmt: skip
    reached = TimelineEntry.objects.get(title__startswith="Milestone reached")
    assert reached.occurred_at.date() == D(2025, 3, 1)


def test_dates_in_the_wrong_order_give_no_figure_and_a_warning(own_account):
    ContractFactory(account=own_account, start_date=D(2025, 4, 1), end_date=D(2026, 3, 31))
    plan = SuccessPlanFactory(account=own_account)
    MilestoneFactory(plan=plan, kind="go_live", actual_date=D(2025, 2, 20))
    MilestoneFactory(plan=plan, kind="first_value", actual_date=D(2025, 3, 20))
    m = _metrics(plan)
    assert m.tto_days is None and "Go-live is before the contract start" in m.warning
    assert m.ttfv_days == 28
