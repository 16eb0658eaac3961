"""/api/v1/ctas, cta-tasks, cta-comments, playbooks, cta-reasons: roles, bad input, actions, query counts."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from playbooks.models import CTA, CTAReason, Playbook
from tests.playbooks.factories import (
    CTACommentFactory,
    CTAFactory,
    CTAReasonFactory,
    CTATaskFactory,
    PlaybookFactory,
    PlaybookTaskFactory,
)

pytestmark = pytest.mark.django_db
LISTS = ["/api/v1/ctas/", "/api/v1/cta-tasks/", "/api/v1/cta-comments/", "/api/v1/playbooks/", "/api/v1/cta-reasons/"]


@pytest.mark.parametrize("url", LISTS)
def test_anonymous_gets_401(url):
    response = APIClient().get(url)
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("role", ["admin", "manager", "csm", "viewer"])
def test_every_role_reads(api_as, own_cta, role):
    client = api_as(role)
    for url in LISTS:
        assert client.get(url).status_code == 200, url
    body = client.get(f"/api/v1/ctas/{own_cta.pk}/").json()
    assert body["title"] == "Own CTA" and body["tasks"][0]["title"] == "Call champion"


@pytest.mark.parametrize(("role", "status"), [("admin", 201), ("manager", 201), ("csm", 201), ("viewer", 403)])
def test_open_cta_by_role(api_as, own_account, csm, role, status):
    playbook = PlaybookFactory()
    PlaybookTaskFactory(playbook=playbook, due_in_days=4, assignee_role="owner_manager")
    response = api_as(role).post(
        "/api/v1/ctas/",
        {"account": own_account.pk, "type": "renewal", "priority": "high", "title": "Renew", "playbook": playbook.pk},
    )
    assert response.status_code == status, response.content
    if status == 201:
        body = response.json()
        assert body["owner"] == csm.pk and body["source"] == "manual" and len(body["tasks"]) == 1
    assert CTA.objects.filter(title="Renew").exists() == (status == 201)


def test_csm_cannot_open_on_a_foreign_account(api_as, foreign_account):
    response = api_as("csm").post("/api/v1/ctas/", {"account": foreign_account.pk, "type": "risk", "title": "x"})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_open_bad_input_names_fields(api_as, own_account, viewer):
    response = api_as("csm").post("/api/v1/ctas/", {"account": own_account.pk, "type": "bogus", "priority": "zzz"})
    body = response.json()
    assert response.status_code == 400 and body["code"] == "invalid"
    assert set(body["fields"]) == {"type", "priority", "title"}
    # A service-level refusal (a viewer cannot own work) is a 400 naming the field too.
    response = api_as("csm").post(
        "/api/v1/ctas/", {"account": own_account.pk, "type": "risk", "title": "x", "owner": viewer.pk}
    )
    assert response.status_code == 400 and "owner" in response.json()["fields"]


def test_list_filters(api_as, own_account, foreign_account, csm, other_csm):
    today = timezone.localdate()
    late = CTAFactory(account=own_account, due_date=today - dt.timedelta(days=1), priority="urgent", title="Late")
    CTAFactory(account=own_account, due_date=today + dt.timedelta(days=5), cta_type="renewal", title="Soon")
    CTAFactory(account=foreign_account, title="Theirs")
    CTAFactory(
        account=own_account, status="closed", outcome="lost", title="Gone", due_date=today - dt.timedelta(days=9)
    )
    client = api_as("manager")

    def titles(**params):
        return sorted(c["title"] for c in client.get("/api/v1/ctas/", params).json()["results"])

    assert titles(overdue="true") == ["Late"]
    assert titles(owner=other_csm.pk) == ["Theirs"]
    assert titles(account=own_account.pk, status="open") == ["Late", "Soon"]
    assert titles(type="renewal") == ["Soon"]
    assert titles(priority="urgent") == [late.title]
    assert titles(due_before=today.isoformat(), status="open") == ["Late"]
    assert titles(due_after=today.isoformat(), account=own_account.pk) == ["Soon"]
    assert titles(scope="team", status="open") == ["Late", "Soon"]
    bad = client.get("/api/v1/ctas/", {"due_before": "not-a-date", "type": "nope"})
    assert bad.status_code == 400 and set(bad.json()["fields"]) == {"due_before", "type"}


@pytest.mark.parametrize(("role", "which", "status"), [
    ("admin", "foreign", 200), ("manager", "own", 200), ("manager", "foreign", 403),
    ("csm", "own", 200), ("csm", "foreign", 403), ("viewer", "own", 403),
])  # fmt: skip
def test_update_and_actions_by_role(api_as, own_cta, foreign_cta, other_csm, role, which, status):
    cta = own_cta if which == "own" else foreign_cta
    client = api_as(role)
    base = f"/api/v1/ctas/{cta.pk}/"
    later = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    assert client.patch(base, {"priority": "urgent"}).status_code == status
    assert client.post(base + "snooze/", {"until": later}).status_code == status
    assert client.post(base + "snooze/", {"until": None}, format="json").status_code == status
    assert client.post(base + "reassign/", {"owner": other_csm.pk}).status_code == status
    assert client.post("/api/v1/cta-comments/", {"cta": cta.pk, "body": "hi"}).status_code == (
        201 if status == 200 else 403
    )
    assert client.post(base + "close/", {"outcome": "success"}).status_code == status
    cta.refresh_from_db()
    assert (cta.status == "closed") == (status == 200)
    assert client.delete(base).status_code in (403, 405)


def test_actions_bad_input(api_as, own_cta):
    client = api_as("csm")
    base = f"/api/v1/ctas/{own_cta.pk}/"
    for path, data, field in (
        ("close/", {}, "outcome"), ("close/", {"outcome": "meh"}, "outcome"),
        ("snooze/", {"until": "yesterday"}, "until"), ("snooze/", {"until": "2001-01-01"}, "until"),
        ("reassign/", {"owner": 999999}, "owner"),
    ):  # fmt: skip
        response = client.post(base + path, data)
        assert response.status_code == 400, (path, data)
        assert field in response.json()["fields"], (path, data)
    assert client.patch(base, {"due_date": "never"}).json()["fields"].keys() == {"due_date"}
    assert client.post("/api/v1/cta-comments/", {"cta": own_cta.pk, "body": ""}).json()["fields"].keys() == {"body"}
    own_cta.refresh_from_db()
    assert own_cta.status == "open"


def test_snooze_and_close_flow(api_as, own_cta, csm):
    client = api_as("csm")
    until = timezone.localdate() + dt.timedelta(days=2)
    body = client.post(f"/api/v1/ctas/{own_cta.pk}/snooze/", {"until": until.isoformat()}).json()
    assert body["status"] == "snoozed" and body["snoozed_until"] == until.isoformat()
    active = client.get("/api/v1/ctas/", {"active": "true"}).json()["results"]
    assert own_cta.pk not in [c["id"] for c in active]
    body = client.post(f"/api/v1/ctas/{own_cta.pk}/close/", {"outcome": "lost", "note": "Churned"}).json()
    assert (body["status"], body["outcome"], body["closed_by"], body["snoozed_until"]) == (
        "closed",
        "lost",
        csm.pk,
        None,
    )
    again = client.post(f"/api/v1/ctas/{own_cta.pk}/close/", {"outcome": "success"})
    assert again.status_code == 400 and "status" in again.json()["fields"]


def test_tick_task(api_as, own_cta, foreign_cta, csm):
    task = own_cta.tasks.get()
    assert api_as("viewer").patch(f"/api/v1/cta-tasks/{task.pk}/", {"done": True}).status_code == 403
    foreign_task = foreign_cta.tasks.get()
    assert api_as("csm").patch(f"/api/v1/cta-tasks/{foreign_task.pk}/", {"done": True}).status_code == 403
    mine_there = CTATaskFactory(cta=foreign_cta, assignee=csm)
    assert api_as("csm").patch(f"/api/v1/cta-tasks/{mine_there.pk}/", {"done": True}).status_code == 200
    bad = api_as("csm").patch(f"/api/v1/cta-tasks/{task.pk}/", {"done": "maybe"})
    assert bad.status_code == 400 and "done" in bad.json()["fields"]
    missing = api_as("csm").patch(f"/api/v1/cta-tasks/{task.pk}/", {})
    assert missing.status_code == 400 and "done" in missing.json()["fields"]
    body = api_as("csm").patch(f"/api/v1/cta-tasks/{task.pk}/", {"done": True}).json()
    assert body["done"] is True and body["completed_by"] == csm.pk
    assert api_as("csm").put(f"/api/v1/cta-tasks/{task.pk}/", {"done": True}).status_code == 405


@pytest.mark.parametrize(("role", "status"), [("admin", 201), ("manager", 403), ("csm", 403), ("viewer", 403)])
def test_playbook_and_reason_writes_are_admin_only(api_as, role, status):
    client = api_as(role)
    playbook = {"name": "Rescue", "cta_type": "risk", "tasks": [{"title": "Call", "task_type": "call",
                "due_in_days": 2, "assignee_role": "account_team:ae"}]}  # fmt: skip
    assert client.post("/api/v1/playbooks/", playbook, format="json").status_code == status
    assert client.post("/api/v1/cta-reasons/", {"name": "Usage drop"}).status_code == status
    assert Playbook.objects.exists() == (status == 201)
    assert CTAReason.objects.exists() == (status == 201)


def test_playbook_api_writes_steps_and_names_bad_fields(api_as):
    client = api_as("admin")
    created = client.post("/api/v1/playbooks/", {"name": "P", "tasks": [{"title": "A"}, {"title": "B"}]}, format="json")
    assert [t["title"] for t in created.json()["tasks"]] == ["A", "B"]
    pk = created.json()["id"]
    updated = client.patch(f"/api/v1/playbooks/{pk}/", {"tasks": [{"title": "C", "due_in_days": 9}]}, format="json")
    assert [(t["title"], t["due_in_days"]) for t in updated.json()["tasks"]] == [("C", 9)]
    bad = client.post(
        "/api/v1/playbooks/", {"name": "P", "tasks": [{"title": "", "assignee_role": "ceo"}]}, format="json"
    )
    assert bad.status_code == 400 and set(bad.json()["fields"]) >= {"name", "tasks"}
    dup = client.post("/api/v1/cta-reasons/", {"name": "R"}) and client.post("/api/v1/cta-reasons/", {"name": "R"})
    assert dup.status_code == 400 and "name" in dup.json()["fields"]


# --- fixed query counts ------------------------------------------------------------------------------------


def _data(account, rows):
    for i in range(rows):
        cta = CTAFactory(account=account, reason=CTAReasonFactory(), due_date=timezone.localdate() + dt.timedelta(i))
        CTATaskFactory.create_batch(2, cta=cta)
        CTACommentFactory(cta=cta)
        PlaybookTaskFactory.create_batch(2, playbook=PlaybookFactory())


@pytest.mark.parametrize("rows", [1, 20])
def test_list_query_counts(api_as, django_assert_num_queries, own_account, rows):
    _data(own_account, rows)
    client = api_as("manager")
    # COUNT, page of CTAs (account, owner, team, reason joined), tasks (assignee joined)
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/ctas/").json()["results"]) == rows
    # COUNT, page of tasks (assignee and CTA joined)
    with django_assert_num_queries(2):
        assert client.get("/api/v1/cta-tasks/").status_code == 200
    # COUNT, page of comments (author joined)
    with django_assert_num_queries(2):
        assert client.get("/api/v1/cta-comments/").status_code == 200
    # COUNT, page of playbooks (CTA count annotated), their steps
    with django_assert_num_queries(3):
        assert client.get("/api/v1/playbooks/").status_code == 200
    # COUNT, page of reasons (CTA count annotated)
    with django_assert_num_queries(2):
        assert client.get("/api/v1/cta-reasons/").status_code == 200
