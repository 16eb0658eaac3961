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
    assert response.status_code == status, response.content
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


def test_openapi_schema_and_docs_need_a_login_unless_opened(client, settings):
    assert client.get("/api/schema/").status_code == 401
    docs = client.get("/api/docs/", HTTP_ACCEPT="text/html")
    assert docs.status_code == 302 and docs["Location"].startswith("/login/")
    settings.API_DOCS_PUBLIC = True
    assert client.get("/api/schema/").status_code == 200


def test_openapi_schema_and_docs_are_served_locally(client_as):
    client = client_as("viewer")
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/accounts/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    assert "<script>" not in html  # the split view: its initialiser is a separate file (CSP)


@pytest.mark.parametrize("password", ["password", "12345678", "new.person@example.com", "short"])
def test_admin_set_passwords_pass_the_validators(api_as, client, password):
    response = api_as("admin").post(
        "/api/v1/users/", {"email": "new.person@example.com", "role": "csm", "password": password}
    )
    assert response.status_code == 400, response.content
    assert "password" in response.json()["fields"]
    assert not User.objects.filter(email="new.person@example.com").exists()


def test_admin_set_password_in_the_ui_passes_the_validators(client_as, csm):
    from django.urls import reverse

    url = reverse("csp:user_edit", args=[csm.pk])
    data = {"email": csm.email, "full_name": "C", "role": "csm", "is_active": "on", "password": "password123"}
    response = client_as("admin").post(url, data)
    assert response.status_code == 200 and "too common" in response.content.decode()
    csm.refresh_from_db()
    assert not csm.check_password("password123")


def test_token_is_hashed_expires_and_records_last_use(csm):
    import datetime as dt

    from django.utils import timezone
    from rest_framework.test import APIClient

    from csp.models import ApiToken
    from csp.services import api_token_rotate

    token = api_token_rotate(user=csm, days=30)
    stored = ApiToken.objects.get(pk=token.pk)
    assert token.key not in (stored.digest, stored.prefix) and stored.last_used_at is None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/accounts/").status_code == 200
    stored.refresh_from_db()
    assert stored.last_used_at is not None
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.get("/api/v1/accounts/")
    assert response.status_code == 401 and "expired" in response.json()["message"]
    csm.is_active = False
    csm.save()
    ApiToken.objects.filter(pk=token.pk).update(expires_at=None)
    assert client.get("/api/v1/accounts/").status_code == 401


def test_existing_authtoken_keys_are_migrated_hashed(transactional_db):
    """The data migration: a plain DRF authtoken key keeps working, stored only as its digest."""
    import hashlib

    from django.db import connection

    from csp.models import ApiToken

    migration = __import__("csp.migrations.0002_api_token_hashed", fromlist=["hash_authtoken_keys"])
    user = User.objects.create_user("legacy@example.com", "x-long-password-1")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS authtoken_token "
            "(key varchar(40) PRIMARY KEY, user_id bigint, created timestamp with time zone)"
        )
        cursor.execute("INSERT INTO authtoken_token VALUES ('abc123legacykey', %s, now())", [user.pk])
    try:
        from django.apps import apps

        with connection.schema_editor() as editor:
            migration.hash_authtoken_keys(apps, editor)
        token = ApiToken.objects.get(user=user)
        assert token.digest == hashlib.sha256(b"abc123legacykey").hexdigest()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM authtoken_token")
            assert cursor.fetchone()[0] == 0
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE authtoken_token")


# --- the orjson renderer writes what DRF's JSONRenderer writes ---------------------------------------------------


def test_json_renderer_writes_drf_bytes():
    import dataclasses
    import datetime as dt
    import uuid
    from decimal import Decimal

    from django.utils.translation import gettext_lazy
    from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
    from rest_framework.utils.serializer_helpers import ReturnDict

    from csp.api.renderers import JSONRenderer

    @dataclasses.dataclass
    class Point:
        x: int

    utc = dt.UTC
    data = ReturnDict(
        {
            "text": 'Ünïcode \u2028 line \u2029 para "quoted" </script>',
            "numbers": [1, -2, 3.5, 10**18, Decimal("12.30"), True, None],
            "when": dt.datetime(2026, 11, 28, 10, 5, 1, 123456, tzinfo=utc),
            "naive": dt.datetime(2026, 11, 28, 10, 5, 1),
            "day": dt.date(2026, 1, 2),
            "time": dt.time(9, 30, 15, 123456),
            "lazy": gettext_lazy("Invalid token."),
            "uuid": uuid.UUID(int=7),
            "keys": {1: "int key", "nested": {"a": [[], {}]}},
            "span": dt.timedelta(minutes=5),
        },
        serializer=None,
    )
    ours, drf = JSONRenderer(), DRFJSONRenderer()
    assert ours.render(data) == drf.render(data)
    assert ours.render(None) == b""
    # Pretty printing and values orjson cannot write take DRF's own path.
    assert ours.render({"a": [1]}, "application/json; indent=4") == drf.render({"a": [1]}, "application/json; indent=4")
    assert ours.render({"big": 10**30}) == drf.render({"big": 10**30})
    for renderer in (ours, drf):  # what DRF cannot write stays an error
        with pytest.raises(TypeError):
            renderer.render({"point": Point(3)})
