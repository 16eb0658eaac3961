"""Success plans tab, plan page, printable page, item forms and the admin's templates pages."""

import pytest
from django.urls import reverse

from success.models import Milestone, Objective, PlanTask, PlanTemplate, SuccessPlan
from tests.success.factories import (
    MilestoneFactory,
    ObjectiveFactory,
    PlanTaskFactory,
    PlanTemplateFactory,
    SuccessPlanFactory,
)

pytestmark = pytest.mark.django_db


def _plans(account, n):
    plans = []
    for _ in range(n):
        plan = SuccessPlanFactory(account=account)
        ObjectiveFactory(plan=plan)
        MilestoneFactory(plan=plan, kind="go_live")
        PlanTaskFactory(plan=plan)
        plans.append(plan)
    return plans


@pytest.mark.parametrize("n", [1, 20])
def test_plans_tab_query_count(client_as, own_account, django_assert_num_queries, n):
    plans = _plans(own_account, n)
    PlanTemplateFactory()
    client = client_as("viewer")
    # 1 session, 2 user, 3 account, 4 plans (+contract start), 5 objectives, 6 milestones, 7 tasks (+owner).
    with django_assert_num_queries(7):
        response = client.get(reverse("success:account", args=[own_account.pk]))
    body = response.content.decode()
    assert all(f'href="/plans/{p.pk}/"' in body for p in plans)


@pytest.mark.parametrize("n", [1, 20])
def test_plan_page_query_count(client_as, own_account, django_assert_num_queries, n):
    plan = SuccessPlanFactory(account=own_account)
    for _ in range(n):
        ObjectiveFactory(plan=plan)
        MilestoneFactory(plan=plan)
        PlanTaskFactory(plan=plan)
    client = client_as("viewer")
    # 1 session, 2 user, 3 plan (+account, owner, template, contract start), 4 objectives, 5 milestones, 6 tasks.
    with django_assert_num_queries(6):
        response = client.get(reverse("success:plan", args=[plan.pk]))
    assert response.content.decode().count("Objective ") >= n
    # The printable page reads the same: 1 session, 2 user, 3 plan, 4-6 items.
    with django_assert_num_queries(6):
        printed = client.get(reverse("success:print", args=[plan.pk]))
    assert 'data-action="print"' in printed.content.decode() and "<nav" not in printed.content.decode()


def test_csm_creates_plan_from_template(client_as, own_account):
    template = PlanTemplateFactory(tier="smb")
    response = client_as("csm").post(
        reverse("success:account", args=[own_account.pk]), {"template": template.pk, "start_date": "2025-01-01"}
    )
    plan = SuccessPlan.objects.get(account=own_account)
    assert response.status_code == 302 and response["Location"] == reverse("success:plan", args=[plan.pk])
    assert plan.milestones.count() == 3


def test_plan_form_needs_a_name_or_template(client_as, own_account):
    response = client_as("csm").post(reverse("success:account", args=[own_account.pk]), {"start_date": "2025-01-01"})
    assert response.status_code == 200 and "Name the plan or pick a template" in response.content.decode()
    assert not SuccessPlan.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("csm", 302), ("manager", 302), ("admin", 302)])
def test_items_by_role(client_as, own_account, role, status):
    plan = SuccessPlanFactory(account=own_account)
    url = reverse("success:item_create", args=[plan.pk, "objective"])
    response = client_as(role).post(url, {"new-objective-title": "Adopt SSO", "new-objective-status": "on_track"})
    assert response.status_code == status
    assert Objective.objects.filter(title="Adopt SSO").exists() == (status == 302)


def test_foreign_csm_refused(client_as, foreign_account):
    plan = SuccessPlanFactory(account=foreign_account)
    assert client_as("csm").post(reverse("success:edit", args=[plan.pk]), {"name": "x"}).status_code == 403
    assert (
        client_as("csm").post(reverse("success:account", args=[foreign_account.pk]), {"name": "x"}).status_code == 403
    )


def test_item_edit_and_bad_input(client_as, own_account):
    plan = SuccessPlanFactory(account=own_account)
    milestone = MilestoneFactory(plan=plan, kind="go_live")
    task = PlanTaskFactory(plan=plan)
    client = client_as("csm")
    client.post(reverse("success:item_edit", args=[plan.pk, "milestone", milestone.pk]),
                {"kind": "go_live", "name": "Live", "actual_date": "2025-03-01"})  # fmt: skip
    milestone.refresh_from_db()
    assert milestone.actual_date.isoformat() == "2025-03-01"
    assert plan.account.timeline_entries.filter(title__startswith="Milestone reached: Live").exists()
    client.post(reverse("success:item_edit", args=[plan.pk, "task", task.pk]), {"title": task.title, "done": "on"})
    task.refresh_from_db()
    assert task.done and task.completed_at
    response = client.post(reverse("success:item_edit", args=[plan.pk, "milestone", milestone.pk]),
                           {"kind": "go_live", "name": "Live", "actual_date": "31/31/2025"}, follow=True)  # fmt: skip
    assert "actual_date" in response.content.decode()
    dup = client.post(reverse("success:item_create", args=[plan.pk, "milestone"]),
                      {"new-milestone-kind": "go_live", "new-milestone-name": "Again"}, follow=True)  # fmt: skip
    assert "already has a Go-live milestone" in dup.content.decode()
    assert Milestone.objects.filter(plan=plan).count() == 1
    client.post(reverse("success:item_delete", args=[plan.pk, "task", task.pk]))
    assert not PlanTask.objects.exists()


def test_delete_plan(client_as, own_account):
    plan = SuccessPlanFactory(account=own_account)
    client_as("csm").post(reverse("success:edit", args=[plan.pk]), {"delete": "1"})
    assert not SuccessPlan.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("manager", 403), ("csm", 403), ("viewer", 403)])
def test_template_pages_are_for_admins(client_as, role, status):
    assert client_as(role).get(reverse("success:templates")).status_code == status
    assert client_as(role).get(reverse("success:template_create")).status_code == status


def test_admin_writes_a_template_as_lines(client_as, django_assert_num_queries):
    client = client_as("admin")
    response = client.post(
        reverse("success:template_create"),
        {"name": "Mid-market onboarding", "tier": "mid_market", "is_active": "on",
         "objectives": "Cut backlog | Backlog under 50 | 90",
         "milestones": "kickoff | Kickoff | 7\ngo_live | Live | 45",
         "tasks": "Welcome pack | 2"},
    )  # fmt: skip
    assert response.status_code == 302
    template = PlanTemplate.objects.get()
    assert template.items["milestones"][1] == {"kind": "go_live", "name": "Live", "due_days": 45}
    bad = client.post(reverse("success:template_create"), {"name": "Bad", "tasks": "Welcome pack | soon"})
    assert "due_days must be a whole number" in bad.content.decode()
    bad = client.post(reverse("success:template_create"), {"name": "Bad", "milestones": "party | x | 3"})
    assert "unknown kind" in bad.content.decode()
    # 1 session, 2 user, 3 templates.
    with django_assert_num_queries(3):
        assert client.get(reverse("success:templates")).status_code == 200
