"""Triggers: API and pages, roles, bad input, dry run, log, fixed query counts."""

import pytest
from django.urls import reverse

from tests.factories import AccountFactory
from tests.triggers.factories import set_health
from triggers.models import Trigger
from triggers.services import trigger_run

pytestmark = pytest.mark.django_db

RED = {
    "name": "Red accounts",
    "condition_type": "health_band",
    "params": {"band": "red"},
    "open_cta": False,
    "notify_owner": True,
    "cooldown_days": 7,
}


def test_admin_creates_dry_runs_activates_and_reads_the_log(api_as):
    account = AccountFactory()
    set_health(account, 10, "red")
    client = api_as("admin")
    response = client.post("/api/v1/triggers/", RED, format="json")
    assert response.status_code == 201, response.json()
    trigger = response.json()
    assert trigger["is_active"] is False  # starts paused
    dry = client.get(f"/api/v1/triggers/{trigger['id']}/dry-run/").json()
    assert [c["account"] for c in dry["fire"]] == [account.id]
    assert client.post(f"/api/v1/triggers/{trigger['id']}/activate/").json()["is_active"] is True
    trigger_run(trigger_id=trigger["id"])
    log = client.get(f"/api/v1/triggers/{trigger['id']}/executions/").json()
    assert log["count"] == 1 and log["results"][0]["actions"][0]["kind"] == "notify"
    assert client.post(f"/api/v1/triggers/{trigger['id']}/pause/").json()["is_active"] is False


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**RED, "condition_type": "moon_phase"}, "condition_type"),
        ({**RED, "params": {"band": "blue"}}, "params"),
        ({**RED, "condition_type": "segment_entered", "params": {}}, "condition_segment"),
        ({**RED, "webhook_url": "not a url"}, "webhook_url"),
        ({**RED, "cta_title": "{% if %}", "open_cta": True}, "cta_title"),
        ({**RED, "notify_owner": False}, "open_cta"),
        ({**RED, "name": ""}, "name"),
    ],
)
def test_bad_input_names_the_field(api_as, payload, field):
    response = api_as("admin").post("/api/v1/triggers/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"], response.json()


def test_survey_trigger_can_be_activated(api_as):
    client = api_as("admin")
    payload = {**RED, "condition_type": "survey_answer", "params": {"kind": "nps", "score_min": 0, "score_max": 6}}
    trigger = client.post("/api/v1/triggers/", payload, format="json").json()
    response = client.post(f"/api/v1/triggers/{trigger['id']}/activate/")
    assert response.status_code == 200


@pytest.mark.parametrize("role", ["manager", "csm", "viewer"])
def test_triggers_are_admin_only(api_as, client_as, role):
    trigger = Trigger.objects.create(**{**RED, "params": {"band": "red"}})
    client = api_as(role)
    assert client.get("/api/v1/triggers/").status_code == 403
    assert client.get(f"/api/v1/triggers/{trigger.pk}/dry-run/").status_code == 403
    assert client.post("/api/v1/triggers/", RED, format="json").status_code == 403
    assert client.post(f"/api/v1/triggers/{trigger.pk}/activate/").status_code == 403
    page = client_as(role)
    for name in ("triggers:list", "triggers:create"):
        assert page.get(reverse(name)).status_code == 403
    for name in ("triggers:dry_run", "triggers:log", "triggers:edit"):
        assert page.get(reverse(name, args=[trigger.pk])).status_code == 403
    assert page.post(reverse("triggers:toggle", args=[trigger.pk])).status_code == 403


def test_anonymous_is_refused(api, client):
    assert api.get("/api/v1/triggers/").status_code == 401
    assert client.get(reverse("triggers:list")).status_code == 302


def _fired_trigger(rows):
    trigger = Trigger.objects.create(**{**RED, "params": {"band": "red"}, "is_active": True})
    for _ in range(rows):
        set_health(AccountFactory(), 10, "red")
    trigger_run(trigger_id=trigger.pk)
    return trigger


@pytest.mark.parametrize("rows", [1, 20])
def test_query_counts(api_as, client_as, django_assert_num_queries, rows, users):
    trigger = _fired_trigger(rows)
    for _ in range(rows):  # red since the last run: the dry run lists them
        set_health(AccountFactory(), 10, "red")
    for i in range(rows - 1):
        Trigger.objects.create(**{**RED, "name": f"T{i}", "params": {"band": "red"}})
    api = api_as("admin")
    with django_assert_num_queries(2):  # COUNT(*), page of triggers (segments, playbook joined; 30-day count)
        assert api.get("/api/v1/triggers/").status_code == 200
    with django_assert_num_queries(4):  # trigger, COUNT(*), page of executions (account joined), their actions
        assert api.get(f"/api/v1/triggers/{trigger.pk}/executions/").status_code == 200
    # trigger, matches not yet fired (one query), dedupe: executions within the cool-down
    with django_assert_num_queries(3):
        assert api.get(f"/api/v1/triggers/{trigger.pk}/dry-run/").status_code == 200
    page = client_as("admin")
    with django_assert_num_queries(3):  # session, user, triggers (segments, playbook joined; 30-day count)
        assert page.get(reverse("triggers:list")).status_code == 200
    # session, user, trigger, COUNT, executions (account, trigger joined), their actions
    with django_assert_num_queries(6):
        assert page.get(reverse("triggers:log", args=[trigger.pk])).status_code == 200
    # session, user, trigger (segments joined), matches not yet fired, executions within the cool-down
    with django_assert_num_queries(5):
        assert page.get(reverse("triggers:dry_run", args=[trigger.pk])).status_code == 200


def test_trigger_form_creates_then_goes_to_dry_run(client_as):
    client = client_as("admin")
    assert client.get(reverse("triggers:create")).status_code == 200
    data = {
        "name": "Renewals", "condition_type": "renewal_within", "days": "60", "cta_type": "renewal",
        "cta_priority": "medium", "cta_title": "Renewal: {{ account }}", "open_cta": "on", "cooldown_days": "30",
    }  # fmt: skip
    response = client.post(reverse("triggers:create"), data)
    trigger = Trigger.objects.get()
    assert response.url == reverse("triggers:dry_run", args=[trigger.pk])
    assert trigger.params == {"days": 60} and not trigger.is_active
    bad = client.post(reverse("triggers:create"), {**data, "name": "Other", "days": "9999"})
    assert bad.status_code == 200 and "Days must be between 0 and 730" in bad.content.decode()
    assert client.get(reverse("triggers:dry_run", args=[trigger.pk])).status_code == 200
    client.post(reverse("triggers:toggle", args=[trigger.pk]))
    trigger.refresh_from_db()
    assert trigger.is_active
