"""Login, profile and API token, users and teams pages, /healthz, and the 404 shapes."""

import pytest
from django.urls import reverse

from csp.models import ApiToken, Team, User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_with_email_and_logout(client, csm):
    response = client.post(reverse("login"), {"username": "csm@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.get(reverse("accounts:list")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("accounts:list")).status_code == 302


def test_wrong_password_is_a_form_error(client, csm):
    response = client.post(reverse("login"), {"username": "csm@example.com", "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_password_change(client_as, csm, client):
    client_as("csm")
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "a-much-longer-pass-9", "new_password2": "a-much-longer-pass-9"},
    )
    assert response.status_code == 302
    csm.refresh_from_db()
    assert csm.check_password("a-much-longer-pass-9")


@pytest.mark.parametrize("role", ["admin", "manager", "csm", "viewer"])
def test_every_role_gets_an_api_token_from_the_profile(client_as, users, role):
    client = client_as(role)
    assert client.get(reverse("csp:profile")).status_code == 200
    response = client.post(reverse("csp:token_rotate"))
    token = ApiToken.objects.get(user=users[role])
    key = response.context["token"].key
    assert key in response.content.decode() and key.startswith(token.prefix)
    page = client.get(reverse("csp:profile")).content.decode()
    assert key not in page and token.prefix in page  # shown once; afterwards only the prefix
    client.post(reverse("csp:token_rotate"))
    assert not ApiToken.objects.filter(pk=token.pk).exists()  # the old key stops working


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("manager", 403), ("csm", 403), ("viewer", 403)])
def test_user_admin_pages_by_role(client_as, role, status):
    client = client_as(role)
    assert client.get(reverse("csp:user_list")).status_code == status
    assert client.get(reverse("csp:user_create")).status_code == status
    assert client.get(reverse("csp:team_create")).status_code == status


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("manager", 200), ("csm", 403), ("viewer", 403)])
def test_team_list_by_role(client_as, role, status):
    assert client_as(role).get(reverse("csp:team_list")).status_code == status


def test_admin_creates_user_and_team_through_forms(client_as, csm):
    client = client_as("admin")
    response = client.post(
        reverse("csp:user_create"),
        {
            "email": "new@example.com",
            "full_name": "New",
            "role": "manager",
            "is_active": "on",
            "password": "pass-word-99",
        },
    )
    assert response.status_code == 302
    new = User.objects.get(email="new@example.com")
    assert new.check_password("pass-word-99")
    response = client.post(reverse("csp:team_create"), {"name": "North", "manager": new.pk, "members": [csm.pk]})
    assert response.status_code == 302
    csm.refresh_from_db()
    assert csm.team == Team.objects.get(name="North")


def test_user_form_errors(client_as):
    response = client_as("admin").post(reverse("csp:user_create"), {"email": "bad", "role": "csm"})
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert not User.objects.filter(email="bad").exists()


@pytest.mark.parametrize("rows", [1, 15])
def test_user_and_team_pages_query_counts(client_as, django_assert_num_queries, rows):
    from tests.factories import TeamFactory, UserFactory

    for team in TeamFactory.create_batch(rows):
        UserFactory.create_batch(2, team=team)
    client = client_as("admin")
    with django_assert_num_queries(3):  # session, user, users with team joined
        assert client.get(reverse("csp:user_list")).status_code == 200
    with django_assert_num_queries(4):  # session, user, teams (manager joined, member count), prefetched members
        assert client.get(reverse("csp:team_list")).status_code == 200


def test_healthz_tells_outsiders_only_up_or_down(client, client_as):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}  # no vendor, broker mode or error text for outsiders
    assert client_as("csm").get("/healthz").json() == {"status": "ok"}


def test_healthz_reports_database_and_broker(client_as):
    response = client_as("admin").get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["broker"]["status"] == "ok"


def test_healthz_reports_a_broker_that_is_down(client, client_as):
    from csp.celery import app

    eager, broker = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager, app.conf.broker_url = False, "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        outsider = client.get("/healthz")
        response = client_as("admin").get("/healthz")
    finally:
        app.conf.task_always_eager, app.conf.broker_url = eager, broker
    assert (outsider.status_code, outsider.json()) == (503, {"status": "error"})
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["status"] == "error"


def test_html_404_for_pages_and_json_404_for_api(client_as):
    client = client_as("csm")
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")
    api = client.get("/api/v1/nothing-here/")
    assert api.status_code == 404
    assert api.json()["code"] == "not_found"
