"""/api/v1/activities/ and /api/v1/timeline/: roles, bad input, fixed query counts."""

import pytest
from rest_framework.test import APIClient

from tests.timeline.factories import log_activity, record
from timeline.models import Activity

pytestmark = pytest.mark.django_db


def test_anonymous_gets_401():
    assert APIClient().get("/api/v1/activities/").status_code == 401
    assert APIClient().get("/api/v1/timeline/").status_code == 401


@pytest.mark.parametrize(("role", "status"), [("admin", 201), ("manager", 201), ("csm", 201), ("viewer", 403)])
def test_log_activity_by_role(api_as, own_account, contact, role, status):
    response = api_as(role).post(
        "/api/v1/activities/",
        {"account": own_account.pk, "kind": "meeting", "summary": "Productive QBR, they are delighted.",
         "attendee_contacts": [contact.pk]},
    )  # fmt: skip
    assert response.status_code == status, response.content
    if status == 201:
        body = response.json()
        assert body["sentiment"] == body["suggested_sentiment"] == "positive"
        assert body["attendee_contacts"] == [contact.pk]
    assert Activity.objects.exists() == (status == 201)


def test_csm_cannot_log_on_foreign_account_or_edit_it(api_as, foreign_account, other_csm):
    assert api_as("csm").post("/api/v1/activities/", {"account": foreign_account.pk, "kind": "call",
                                                      "summary": "x"}).status_code == 403  # fmt: skip
    activity = log_activity(foreign_account, other_csm)
    assert api_as("csm").patch(f"/api/v1/activities/{activity.pk}/", {"summary": "y"}).status_code == 403
    assert api_as("manager").delete(f"/api/v1/activities/{activity.pk}/").status_code == 403
    assert api_as("admin").delete(f"/api/v1/activities/{activity.pk}/").status_code == 204


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "fax", "summary": "x"}, "kind"),
        ({"kind": "call", "summary": ""}, "summary"),
        ({"kind": "call", "summary": "x", "occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
        ({"kind": "call", "summary": "x", "sentiment": "ecstatic"}, "sentiment"),
    ],
)
def test_bad_input_names_the_field(api_as, own_account, payload, field):
    response = api_as("csm").post("/api/v1/activities/", {"account": own_account.pk, **payload})
    assert response.status_code == 400
    assert field in response.json()["fields"], response.json()


def test_update_keeps_feed_in_step(api_as, own_account, csm):
    activity = log_activity(own_account, csm, summary="first")
    response = api_as("csm").patch(f"/api/v1/activities/{activity.pk}/", {"subject": "Renamed"})
    assert response.status_code == 200
    assert activity.timeline_entry.__class__.objects.get(activity=activity).title == "Call: Renamed"


@pytest.mark.parametrize("n", [1, 20])
def test_activity_list_query_count(api_as, own_account, csm, contact, django_assert_num_queries, n):
    for i in range(n):
        log_activity(own_account, csm, days_ago=i, summary=f"call {i}")
    client = api_as("viewer")
    # 1 count, 2 page (+account, author), 3 attendee contacts, 4 attendee users.
    with django_assert_num_queries(4):
        response = client.get("/api/v1/activities/", {"account": own_account.pk, "kind": "call"})
    assert response.json()["count"] == n


@pytest.mark.parametrize("n", [1, 20])
def test_timeline_list_query_count_and_order(api_as, own_account, csm, django_assert_num_queries, n):
    for i in range(n):
        log_activity(own_account, csm, days_ago=i + 1, summary=f"call {i}")
        record(own_account, days_ago=i + 1.5, title=f"health {i}")
    client = api_as("viewer")
    # 1 count, 2 page (+actor, activity, author), 3 attendee contacts, 4 attendee users.
    with django_assert_num_queries(4):
        response = client.get("/api/v1/timeline/", {"account": own_account.pk})
    results = response.json()["results"]
    assert response.json()["count"] == 2 * n
    assert results[0]["title"] == "Call: call 0" and results[1]["title"] == "health 0"
    assert results[0]["activity"]["summary"] == "call 0"
    only = client.get("/api/v1/timeline/", {"account": own_account.pk, "kind": "health"}).json()
    assert {r["kind"] for r in only["results"]} == {"health"}
    assert client.get("/api/v1/timeline/", {"kind": "gossip"}).status_code == 400


def test_timeline_is_read_only(api_as, own_account):
    assert api_as("admin").post("/api/v1/timeline/", {"account": own_account.pk}).status_code == 405


def test_suggest_sentiment_endpoint(api_as):
    response = api_as("viewer").post("/api/v1/activities/suggest-sentiment/", {"text": "This is a disaster."})
    assert response.status_code == 200 and response.json()["sentiment"] == "negative"
    bad = api_as("viewer").post("/api/v1/activities/suggest-sentiment/", {})
    assert bad.status_code == 400 and "text" in bad.json()["fields"]
