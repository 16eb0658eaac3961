"""Segments API and pages: roles, bad input, live preview, members, membership diff, fixed query counts."""

import json

import pytest
from django.urls import reverse

from segments.models import Segment, SegmentMembership
from segments.selectors import segment_accounts, segment_membership_diff
from segments.services import segment_create, segment_refresh_memberships, segment_update
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

SMB = {"op": "and", "conditions": [{"field": "tier", "operator": "eq", "value": "smb"}]}


def make_segment(name="SMB", rules=SMB):
    return segment_create(data={"name": name, "rules": rules})


def test_admin_creates_segment_and_bad_field_is_named(api_as):
    client = api_as("admin")
    response = client.post("/api/v1/segments/", {"name": "SMB", "rules": SMB}, format="json")
    assert response.status_code == 201, response.json()
    bad = {"op": "and", "conditions": [{"field": "owner__password", "operator": "eq", "value": "x"}]}
    response = client.post("/api/v1/segments/", {"name": "Bad", "rules": bad}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "rules" in body["fields"] and "owner__password" in body["fields"]["rules"][0]
    response = client.post("/api/v1/segments/", {"name": "SMB", "rules": SMB}, format="json")
    assert response.status_code == 400 and "name" in response.json()["fields"]
    response = client.post("/api/v1/segments/", {"rules": SMB}, format="json")
    assert response.status_code == 400 and "name" in response.json()["fields"]


@pytest.mark.parametrize("role", ["manager", "csm", "viewer"])
def test_only_admins_write_segments(api_as, role):
    segment = make_segment()
    client = api_as(role)
    assert client.get("/api/v1/segments/").status_code == 200  # every role reads (list filter)
    assert client.post("/api/v1/segments/", {"name": "X", "rules": SMB}, format="json").status_code == 403
    assert client.patch(f"/api/v1/segments/{segment.pk}/", {"name": "Y"}, format="json").status_code == 403
    assert client.post("/api/v1/segments/preview/", {"rules": SMB}, format="json").status_code == 403


def test_anonymous_is_refused(api):
    assert api.get("/api/v1/segments/").status_code == 401


def test_preview_members_and_fields(api_as):
    AccountFactory.create_batch(3, tier="smb")
    AccountFactory(tier="enterprise")
    client = api_as("admin")
    response = client.post("/api/v1/segments/preview/", {"rules": SMB}, format="json")
    assert response.status_code == 200 and response.json()["count"] == 3
    bad = {"op": "and", "conditions": [{"field": "tier", "operator": "like", "value": "x"}]}
    response = client.post("/api/v1/segments/preview/", {"rules": bad}, format="json")
    assert response.status_code == 400 and "like" in response.json()["fields"]["rules"][0]
    segment = make_segment()
    response = client.get(f"/api/v1/segments/{segment.pk}/accounts/")
    assert response.json()["count"] == 3
    keys = {f["key"] for f in client.get("/api/v1/segments/fields/").json()}
    assert {"tier", "license_utilization", "days_to_renewal", "custom_fields__"} <= keys


@pytest.mark.parametrize("rows", [1, 20])
def test_list_query_counts(api_as, client_as, django_assert_num_queries, rows):
    for i in range(rows):
        make_segment(name=f"S{i}")
    AccountFactory.create_batch(rows, tier="smb")
    # COUNT(*) for pagination, SELECT page of segments (creator joined)
    with django_assert_num_queries(2):
        assert api_as("viewer").get("/api/v1/segments/").status_code == 200
    segment = Segment.objects.first()
    # segment, COUNT(*) of members, page of members (owner joined)
    with django_assert_num_queries(3):
        assert api_as("viewer").get(f"/api/v1/segments/{segment.pk}/accounts/").status_code == 200
    client = client_as("admin")
    # session, user, segments (creator joined)
    with django_assert_num_queries(3):
        assert client.get(reverse("segments:list")).status_code == 200
    # session, user, COUNT of matches, first 20 members (owner joined)
    with django_assert_num_queries(4):
        response = client.post(reverse("segments:preview"), {"rules": json.dumps(SMB)})
    assert response.status_code == 200 and f">{rows}<" in response.content.decode()


@pytest.mark.parametrize("role", ["manager", "csm", "viewer"])
def test_pages_are_admin_only(client_as, role):
    client = client_as(role)
    assert client.get(reverse("segments:list")).status_code == 403
    assert client.get(reverse("segments:create")).status_code == 403
    assert client.post(reverse("segments:preview"), {"rules": "{}"}).status_code == 403


def test_page_anonymous_goes_to_login(client):
    assert client.get(reverse("segments:list")).status_code == 302


def test_form_creates_and_refuses_bad_rules(client_as):
    client = client_as("admin")
    assert client.get(reverse("segments:create")).status_code == 200
    response = client.post(reverse("segments:create"), {"name": "SMB", "rules": json.dumps(SMB)})
    assert response.status_code == 302
    assert Segment.objects.get().rules == SMB
    bad = {"op": "and", "conditions": [{"field": "secret", "operator": "eq", "value": "x"}]}
    response = client.post(reverse("segments:create"), {"name": "Bad", "rules": json.dumps(bad)})
    assert response.status_code == 200 and "&#x27;secret&#x27; is not a segment field" in response.content.decode()
    response = client.post(reverse("segments:create"), {"name": "Bad", "rules": "{not json"})
    assert "not valid JSON" in response.content.decode()
    response = client.post(reverse("segments:preview"), {"rules": json.dumps(bad)})
    assert "is not a segment field" in response.content.decode()


def test_membership_diff_is_set_based_and_baselined_on_save(django_assert_num_queries):
    a, b = AccountFactory(tier="smb"), AccountFactory(tier="smb")
    segment = make_segment()
    assert set(SegmentMembership.objects.values_list("account_id", flat=True)) == {a.id, b.id}
    assert segment_membership_diff(segment).entered == []  # saving stored the baseline
    c = AccountFactory(tier="smb")
    b.tier = "enterprise"
    b.save()
    with django_assert_num_queries(2):  # live members not stored, stored not live
        diff = segment_membership_diff(segment)
    assert (diff.entered, diff.left) == ([c.id], [b.id])
    assert segment_refresh_memberships(segment=segment).entered == [c.id]
    assert segment_membership_diff(segment).entered == []
    segment.refresh_from_db()
    assert segment.member_count == 2
    # Editing the rules re-baselines: no "entered" for accounts the new rules bring in.
    segment_update(segment=segment, data={"rules": {"op": "and", "conditions": []}})
    assert segment_membership_diff(segment).entered == []
    assert set(segment_accounts(segment).values_list("id", flat=True)) == {a.id, b.id, c.id}


@pytest.mark.parametrize("rows", [1, 20])
def test_book_of_business_segment_filter(api_as, client_as, django_assert_num_queries, rows):
    AccountFactory.create_batch(rows, tier="smb")
    big = AccountFactory(tier="enterprise")
    segment = make_segment()
    client = api_as("viewer")
    # the segment (filter validation), COUNT(*), page (the segment's rules run as a subquery of both)
    with django_assert_num_queries(3):
        response = client.get(f"/api/v1/accounts/?segment={segment.pk}")
    assert response.json()["count"] == rows
    assert big.id not in {a["id"] for a in response.json()["results"]}
    assert client.get("/api/v1/accounts/?segment=999999").status_code == 400
    page = client_as("csm").get(reverse("accounts:list"), {"scope": "all", "segment": segment.pk})
    assert page.status_code == 200
    assert page.context["totals"]["accounts"] == rows
    assert f'<option value="{segment.pk}" selected>SMB</option>' in page.content.decode()


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "arr", "operator": "gt", "value": "1e400"},
        {"field": "arr", "operator": "gt", "value": "NaN"},
        {"field": "arr", "operator": "gt", "value": "-Infinity"},
        {"field": "arr", "operator": "between", "value": [0, 1e300]},
        {"field": "days_to_renewal", "operator": "lt", "value": 1e12},  # today + 1e12 days overflowed (500)
        {"field": "owner", "operator": "eq", "value": "9" * 30},  # beyond bigint
        {"field": "owner", "operator": "eq", "value": -5},
    ],
)
def test_huge_or_non_finite_numbers_are_400(api_as, condition):
    """Regression: huge or non-finite numbers in rules reached the query and answered 500."""
    rules = {"op": "and", "conditions": [condition]}
    client = api_as("admin")
    calls = [("/api/v1/segments/preview/", {"rules": rules}), ("/api/v1/segments/", {"name": "N", "rules": rules})]
    for url, body in calls:
        response = client.post(url, body, format="json")
        assert response.status_code == 400, (url, response.content)
        assert "rules" in response.json()["fields"]
    assert not Segment.objects.exists()


def test_deeply_nested_json_body_is_400(api_as):
    raw = '{"n":' * 5000 + "1" + "}" * 5000  # deep enough for the JSON decoder's RecursionError
    client = api_as("admin")
    response = client.generic("POST", "/api/v1/segments/preview/", raw, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message"}
    medium = '{"rules": ' + '{"a":' * 40 + "1" + "}" * 41
    response = client.generic("POST", "/api/v1/segments/", medium, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"
