"""The Timeline tab, the quick log form (htmx), the suggestion endpoint and the going-dark page."""

import pytest
from django.urls import reverse

from tests.timeline.factories import log_activity, record
from timeline.models import Activity

pytestmark = pytest.mark.django_db


def _feed(own_account, csm, n):
    for i in range(n):
        if i % 2:
            record(own_account, days_ago=i + 1, title=f"Health change {i}")
        else:
            log_activity(own_account, csm, days_ago=i + 1, summary=f"Call number {i}")


@pytest.mark.parametrize("n", [1, 20])
def test_timeline_tab_query_count_is_fixed(client_as, own_account, csm, contact, django_assert_num_queries, n):
    _feed(own_account, csm, n)
    client = client_as("csm")
    # 1 session, 2 user, 3 account (+owner, parent), 4 feed count, 5 feed page (+actor, activity, author),
    # 6 attendee contacts, 7 attendee users, 8 contacts for the form, 9 colleagues for the form.
    with django_assert_num_queries(9):
        response = client.get(reverse("timeline:account", args=[own_account.pk]))
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="timeline-entry"') == n


@pytest.mark.parametrize("n", [1, 20])
def test_feed_partial_query_count_and_filter(client_as, own_account, csm, django_assert_num_queries, n):
    _feed(own_account, csm, n)
    client = client_as("viewer")
    url = reverse("timeline:account", args=[own_account.pk]) + "?kind=activity"
    # 1 session, 2 user, 3 account, 4 count, 5 page, 6 attendee contacts, 7 attendee users.
    with django_assert_num_queries(7):
        response = client.get(url, headers={"HX-Request": "true", "HX-Target": "timeline-feed"})
    body = response.content.decode()
    assert body.count('data-kind="activity"') == (n + 1) // 2
    assert 'data-kind="health"' not in body


def test_log_activity_with_htmx_puts_it_on_top(client_as, own_account, contact, csm):
    log_activity(own_account, csm, days_ago=3, summary="Older call")
    response = client_as("csm").post(
        reverse("timeline:log", args=[own_account.pk]),
        {"kind": "call", "occurred_at": "2020-01-01T10:00", "subject": "Renewal chat",
         "summary": "They are happy and want to expand.", "attendee_contacts": [contact.pk], "sentiment": ""},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert response.status_code == 200
    body = response.content.decode()
    assert "Older call" in body and body.index("Older call") < body.index("Renewal chat")  # 2020 is older
    activity = Activity.objects.get(subject="Renewal chat")
    assert activity.sentiment == "positive" and list(activity.attendee_contacts.all()) == [contact]


def test_log_form_errors_are_shown_and_nothing_stored(client_as, own_account):
    response = client_as("csm").post(
        reverse("timeline:log", args=[own_account.pk]),
        {"kind": "call", "occurred_at": "not a date", "summary": "x"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode() or "errorlist" in response.content.decode()
    assert not Activity.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("admin", 302), ("manager", 302), ("csm", 302)])
def test_log_activity_roles(client_as, own_account, role, status):
    response = client_as(role).post(
        reverse("timeline:log", args=[own_account.pk]),
        {"kind": "note", "occurred_at": "2024-01-01T09:00", "summary": "x"},
    )
    assert response.status_code == status
    assert Activity.objects.exists() == (status == 302)


def test_csm_cannot_log_on_a_foreign_account(client_as, foreign_account):
    response = client_as("csm").post(
        reverse("timeline:log", args=[foreign_account.pk]), {"kind": "note", "summary": "x"}
    )
    assert response.status_code == 403


def test_viewer_sees_timeline_without_form(client_as, own_account):
    body = client_as("viewer").get(reverse("timeline:account", args=[own_account.pk])).content.decode()
    assert 'data-testid="timeline"' in body and 'data-testid="log-activity"' not in body


def test_anonymous_is_sent_to_login(client, own_account):
    assert client.get(reverse("timeline:account", args=[own_account.pk])).status_code == 302
    assert client.get(reverse("timeline:suggest")).status_code == 302


def test_suggestion_endpoint(client_as, django_assert_num_queries):
    client = client_as("csm")
    # 1 session, 2 user: VADER needs no database.
    with django_assert_num_queries(2):
        response = client.get(reverse("timeline:suggest"), {"summary": "Awful outage, the customer is furious."})
    assert 'data-sentiment="negative"' in response.content.decode()
    assert client.get(reverse("timeline:suggest"), {"summary": "x" * 20_001}).status_code == 400


def test_delete_activity(client_as, own_account, csm):
    activity = log_activity(own_account, csm)
    assert client_as("viewer").post(reverse("timeline:delete", args=[activity.pk])).status_code == 403
    assert client_as("csm").post(reverse("timeline:delete", args=[activity.pk])).status_code == 302
    assert not Activity.objects.exists()


@pytest.mark.parametrize("n", [1, 20])
def test_going_dark_page(client_as, csm, django_assert_num_queries, n):
    from tests.factories import AccountFactory

    for _ in range(n):
        AccountFactory(owner=csm)
    client = client_as("csm")
    # 1 session, 2 user, 3 count, 4 page of accounts (+owner, parent).
    with django_assert_num_queries(4):
        response = client.get(reverse("timeline:going_dark"), {"days": 30})
    assert response.content.decode().count('/timeline/"') == n
    assert client.get(reverse("timeline:going_dark"), {"days": "abc"}).status_code == 400
    assert client.get(reverse("timeline:going_dark"), {"days": 0}).status_code == 400


def test_going_dark_sorts_by_health_and_arr_and_formats_arr(client_as, csm):
    from tests.factories import AccountFactory
    from tests.triggers.factories import set_health

    sick = AccountFactory(owner=csm, name="Sick", arr=1234567)
    fine = AccountFactory(owner=csm, name="Fine", arr=500)
    set_health(sick, 20, "red")
    set_health(fine, 90, "green")
    client = client_as("csm")

    def names(ordering):
        response = client.get(reverse("timeline:going_dark"), {"days": 30, "ordering": ordering})
        return [a.name for a in response.context["page"].object_list]

    assert names("health") == ["Sick", "Fine"]
    assert names("-health") == ["Fine", "Sick"]
    assert names("-arr") == ["Sick", "Fine"]
    page = client.get(reverse("timeline:going_dark"), {"days": 30}).content.decode()
    assert "$1,234,567" in page
    assert "ordering=health" in page  # the Health column header sorts
