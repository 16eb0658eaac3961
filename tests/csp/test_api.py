"""/api/v1/users and /api/v1/teams: everyone reads, admins write; bad input; fixed query counts."""

import pytest

from csp.models import Team, User
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["admin", "manager", "csm", "viewer"])
def test_every_role_reads_users_and_teams(api_as, role):
    client = api_as(role)
    assert client.get("/api/v1/users/").status_code == 200
    assert client.get("/api/v1/teams/").status_code == 200


@pytest.mark.parametrize(("role", "status"), [("admin", 201), ("manager", 403), ("csm", 403), ("viewer", 403)])
def test_only_admins_create_users_and_teams(api_as, role, status):
    client = api_as(role)
    response = client.post(
        "/api/v1/users/", {"email": f"new.{role}@example.com", "role": "csm", "password": "s3cret-pw"}
    )
    assert response.status_code == status
    assert User.objects.filter(email=f"new.{role}@example.com").exists() == (status == 201)
    response = client.post("/api/v1/teams/", {"name": f"Team {role}"})
    assert response.status_code == status
    assert Team.objects.filter(name=f"Team {role}").exists() == (status == 201)


@pytest.mark.parametrize("role", ["manager", "csm", "viewer"])
def test_non_admins_cannot_change_roles(api_as, users, role):
    response = api_as(role).patch(f"/api/v1/users/{users[role].pk}/", {"role": "admin"})
    assert response.status_code == 403
    users[role].refresh_from_db()
    assert users[role].role == role


def test_admin_creates_user_who_can_log_in(api_as, client):
    response = api_as("admin").post(
        "/api/v1/users/",
        {"email": "New.Person@Example.com", "full_name": "New Person", "role": "csm", "password": "long-password-1"},
    )
    assert response.status_code == 201
    assert "password" not in response.json()
    assert client.login(email="new.person@example.com", password="long-password-1")


def test_admin_sets_team_members(api_as, csm, other_csm, manager):
    response = api_as("admin").post(
        "/api/v1/teams/", {"name": "Strategic", "manager": manager.pk, "member_ids": [csm.pk, other_csm.pk]}
    )
    assert response.status_code == 201, response.content
    assert response.json()["member_count"] == 2
    team = Team.objects.get(name="Strategic")
    assert set(team.members.all()) == {csm, other_csm}
    response = api_as("admin").patch(f"/api/v1/teams/{team.pk}/", {"member_ids": [csm.pk]})
    assert response.json()["member_count"] == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"role": "csm"}, "email"),
        ({"email": "not-an-email", "role": "csm"}, "email"),
        ({"email": "x@example.com", "role": "emperor"}, "role"),
        ({"email": "x@example.com", "role": "csm", "password": "short"}, "password"),
        ({"email": "x@example.com", "role": "csm", "team": 999999}, "team"),
        ({"email": "admin@example.com", "role": "csm"}, "email"),  # taken
    ],
)
def test_bad_user_input(api_as, payload, field):
    before = User.objects.count()
    response = api_as("admin").post("/api/v1/users/", payload)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert User.objects.count() == before


def test_bad_team_input(api_as):
    TeamFactory(name="Taken")
    response = api_as("admin").post("/api/v1/teams/", {"name": "Taken"})
    assert response.status_code == 400
    assert "name" in response.json()["fields"]
    response = api_as("admin").post("/api/v1/teams/", {"name": "New", "member_ids": [999999]})
    assert response.status_code == 400
    assert "member_ids" in response.json()["fields"]


@pytest.mark.parametrize("rows", [1, 20])
def test_user_and_team_list_query_counts(api_as, django_assert_num_queries, rows):
    teams = TeamFactory.create_batch(rows)
    for team in teams:
        team.manager = UserFactory(team=team)
        team.save()
    client = api_as("viewer")
    with django_assert_num_queries(2):  # COUNT(*), SELECT page with team joined
        assert client.get("/api/v1/users/").status_code == 200
    with django_assert_num_queries(2):  # COUNT(*), SELECT page with manager joined and member count annotated
        assert client.get("/api/v1/teams/").status_code == 200


def test_openapi_schema_and_docs_are_served_locally(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/accounts/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
