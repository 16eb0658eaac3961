"""/api/v1/success-plans, objectives, milestones, plan-tasks, plan-templates."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from success.models import Objective, PlanTemplate, SuccessPlan
from tests.factories import ContractFactory
from tests.success.factories import (
    MilestoneFactory,
    ObjectiveFactory,
    PlanTaskFactory,
    PlanTemplateFactory,
    SuccessPlanFactory,
)

pytestmark = pytest.mark.django_db


def test_anonymous_401():
    assert APIClient().get("/api/v1/success-plans/").status_code == 401


@pytest.mark.parametrize(("role", "status"), [("admin", 201), ("manager", 201), ("csm", 201), ("viewer", 403)])
def test_create_plan_by_role(api_as, own_account, role, status):
    template = PlanTemplateFactory()
    response = api_as(role).post("/api/v1/success-plans/", {"account": own_account.pk, "template": template.pk,
                                                            "start_date": "2025-01-01"})  # fmt: skip
    assert response.status_code == status, response.content
    if status == 201:
        body = response.json()
        assert body["name"] == template.name and len(body["milestones"]) == 3
        assert body["metrics"]["tto_days"] is None


def test_csm_refused_on_foreign_account(api_as, foreign_account):
    response = api_as("csm").post("/api/v1/success-plans/", {"account": foreign_account.pk, "name": "x"})
    assert response.status_code == 403
    plan = SuccessPlanFactory(account=foreign_account)
    assert api_as("csm").post("/api/v1/objectives/", {"plan": plan.pk, "title": "x"}).status_code == 403
    assert not SuccessPlan.objects.filter(name="x").exists() and not Objective.objects.exists()


@pytest.mark.parametrize(
    ("url", "payload", "field"),
    [
        ("/api/v1/success-plans/", {"start_date": "2025-01-01"}, "name"),
        ("/api/v1/objectives/", {"title": "x", "status": "fine"}, "status"),
        ("/api/v1/milestones/", {"kind": "go_live", "name": "Live", "planned_date": "soon"}, "planned_date"),
        ("/api/v1/plan-tasks/", {"title": ""}, "title"),
    ],
)
def test_bad_input_names_the_field(api_as, own_account, url, payload, field):
    plan = SuccessPlanFactory(account=own_account)
    payload = {**payload, "account": own_account.pk} if "success-plans" in url else {**payload, "plan": plan.pk}
    response = api_as("csm").post(url, payload)
    assert response.status_code == 400 and field in response.json()["fields"], response.json()


def test_duplicate_go_live_is_a_400(api_as, own_account):
    plan = SuccessPlanFactory(account=own_account)
    MilestoneFactory(plan=plan, kind="go_live")
    response = api_as("csm").post("/api/v1/milestones/", {"plan": plan.pk, "kind": "go_live", "name": "x"})
    assert response.status_code == 400 and "kind" in response.json()["fields"]


def test_tto_through_the_api(api_as, own_account):
    ContractFactory(account=own_account, start_date=dt.date(2025, 1, 1), end_date=dt.date(2025, 12, 31))
    plan = SuccessPlanFactory(account=own_account)
    go_live = MilestoneFactory(plan=plan, kind="go_live")
    MilestoneFactory(plan=plan, kind="first_value", actual_date=dt.date(2025, 3, 15))
    client = api_as("csm")
    assert client.patch(f"/api/v1/milestones/{go_live.pk}/", {"actual_date": "2025-02-14"}).status_code == 200
    metrics = client.get(f"/api/v1/success-plans/{plan.pk}/").json()["metrics"]
    assert (metrics["tto_days"], metrics["ttfv_days"]) == (44, 29)


@pytest.mark.parametrize("n", [1, 20])
def test_plan_list_query_count(api_as, own_account, django_assert_num_queries, n):
    for _ in range(n):
        plan = SuccessPlanFactory(account=own_account)
        ObjectiveFactory(plan=plan)
        MilestoneFactory(plan=plan)
        PlanTaskFactory(plan=plan)
    # 1 count, 2 plans (+account, owner, template, contract start), 3 objectives, 4 milestones, 5 tasks (+owner).
    with django_assert_num_queries(5):
        response = api_as("viewer").get("/api/v1/success-plans/", {"account": own_account.pk})
    assert response.json()["count"] == n


@pytest.mark.parametrize("n", [1, 20])
@pytest.mark.parametrize("url", ["/api/v1/objectives/", "/api/v1/milestones/", "/api/v1/plan-tasks/"])
def test_item_list_query_count(api_as, own_account, django_assert_num_queries, n, url):
    plan = SuccessPlanFactory(account=own_account)
    for _ in range(n):
        ObjectiveFactory(plan=plan)
        MilestoneFactory(plan=plan)
        PlanTaskFactory(plan=plan)
    # 1 the ?plan= filter checks the plan exists, 2 count, 3 page (+plan, account, owner).
    with django_assert_num_queries(3):
        response = api_as("viewer").get(url, {"plan": plan.pk})
    assert response.json()["count"] == n


@pytest.mark.parametrize(("role", "status"), [("admin", 201), ("manager", 403), ("csm", 403), ("viewer", 403)])
def test_templates_admin_write(api_as, role, status):
    payload = {"name": "T", "items": {"tasks": [{"title": "a", "due_days": 3}]}}
    response = api_as(role).post("/api/v1/plan-templates/", payload)
    assert response.status_code == status
    assert api_as(role).get("/api/v1/plan-templates/").status_code == 200


def test_template_bad_items_and_duplicate_name(api_as):
    client = api_as("admin")
    bad = client.post("/api/v1/plan-templates/", {"name": "T", "items": {"tasks": [{"title": "a", "due_days": "x"}]}})
    assert bad.status_code == 400 and "items" in bad.json()["fields"]
    PlanTemplate.objects.create(name="Taken")
    dup = client.post("/api/v1/plan-templates/", {"name": "Taken"})
    assert dup.status_code == 400 and "name" in dup.json()["fields"]


@pytest.mark.parametrize("n", [1, 20])
def test_template_list_query_count(api_as, django_assert_num_queries, n):
    PlanTemplateFactory.create_batch(n)
    # 1 count, 2 page.
    with django_assert_num_queries(2):
        assert api_as("viewer").get("/api/v1/plan-templates/").json()["count"] == n
