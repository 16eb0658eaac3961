"""In-app notifications: API and pages, privacy, mark read, email after commit, fixed query counts."""

import pytest
from django.core import mail
from django.urls import reverse

from notifications.models import Notification
from notifications.services import notification_send
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_is_refused(api, client):
    assert api.get("/api/v1/notifications/").status_code == 401
    assert client.get(reverse("notifications:list")).status_code == 302
    assert client.get(reverse("notifications:badge")).status_code == 302


@pytest.mark.parametrize("rows", [1, 20])
def test_query_counts(api_as, client_as, django_assert_num_queries, rows, users):
    for i in range(rows):
        notification_send(user=users["csm"], title=f"N{i}", email=False)
    with django_assert_num_queries(2):  # COUNT(*), page of the caller's notifications
        assert api_as("csm").get("/api/v1/notifications/").json()["count"] == rows
    csm = client_as("csm")
    with django_assert_num_queries(4):  # session, user, COUNT, page of notifications
        assert csm.get(reverse("notifications:list")).status_code == 200
    with django_assert_num_queries(3):  # session, user, unread COUNT
        response = csm.get(reverse("notifications:badge"))
    assert f">{rows}<" in response.content.decode()


def test_notifications_are_private_and_marked_read(api_as, client_as, users):
    mine = notification_send(user=users["viewer"], title="Mine", email=False)
    notification_send(user=users["csm"], title="Theirs", email=False)
    client = api_as("viewer")
    assert [n["title"] for n in client.get("/api/v1/notifications/").json()["results"]] == ["Mine"]
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 1}
    response = client.post("/api/v1/notifications/mark-read/", {"ids": ["x"]}, format="json")
    assert response.status_code == 400 and "ids" in response.json()["fields"]
    assert client.post("/api/v1/notifications/mark-read/", {}, format="json").json() == {"marked": 1}
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert Notification.objects.get(title="Theirs").read_at is None
    page = client_as("csm")
    assert page.post(reverse("notifications:read"), {"next": "https://evil.example"}).url == reverse(
        "notifications:list"
    )


def test_notification_send_emails_after_commit(django_capture_on_commit_callbacks):
    user = UserFactory(email="n@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        n = notification_send(user=user, title="CTA reassigned to you", body="Acme", url="/accounts/1/")
    assert n.read_at is None
    assert mail.outbox[0].subject == "[csp] CTA reassigned to you"


def test_the_bell_is_in_the_navbar(client_as):
    content = client_as("viewer").get(reverse("accounts:list")).content.decode()
    assert f'hx-get="{reverse("notifications:badge")}"' in content
