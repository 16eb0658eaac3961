"""Admin pages (sources, key features, console) and the account Usage tab: roles, bad input, query counts."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from events import services
from events.models import AccountDailyUser, Event, EventSource, KeyFeature, RejectedMessage
from tests.events.factories import EventSourceFactory, KeyFeatureFactory
from tests.factories import AccountFactory, ContactFactory, ContractFactory
from tests.support.factories import TicketFactory

pytestmark = pytest.mark.django_db
ADMIN_PAGES = ["events:console", "events:source_list", "events:feature_list"]


@pytest.mark.parametrize("name", ADMIN_PAGES)
@pytest.mark.parametrize("role", ["manager", "csm", "viewer"])
def test_admin_pages_refuse_other_roles(client_as, role, name):
    assert client_as(role).get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_admin_pages_need_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_creating_a_source_shows_the_key_once_and_stores_its_hash(client_as):
    response = client_as("admin").post(reverse("events:source_list"), {"name": "Web app", "is_active": "on"})
    assert response.status_code == 200
    key = response.context["key"]
    assert key.encode() in response.content
    source = EventSource.objects.get(name="Web app")
    assert source.key_hash == services.hash_key(key) and key not in source.key_hash
    listing = client_as("admin").get(reverse("events:source_list"))
    assert key.encode() not in listing.content  # never shown again
    assert source.key_prefix.encode() in listing.content


def test_source_form_errors(client_as):
    EventSourceFactory(name="Web app")
    response = client_as("admin").post(reverse("events:source_list"), {"name": "Web app"})
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    response = client_as("admin").post(reverse("events:source_list"), {"name": ""})
    assert "name" in response.context["form"].errors


def test_rotating_a_key_invalidates_the_old_one(client_as, client):
    source = EventSourceFactory(name="web")
    response = client_as("admin").post(reverse("events:source_rotate", args=[source.pk]))
    new_key = response.context["key"]
    assert services.source_for_key("key-web") is None
    assert services.source_for_key(new_key) == source


def test_edit_source_disables_it(client_as):
    source = EventSourceFactory(name="web")
    response = client_as("admin").post(reverse("events:source_edit", args=[source.pk]), {"name": "web"})
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.is_active is False


def test_key_features_create_duplicate_and_delete(client_as):
    admin = client_as("admin")
    assert (
        admin.post(reverse("events:feature_list"), {"name": "Exports", "event_name": "Export Done"}).status_code == 302
    )
    response = admin.post(reverse("events:feature_list"), {"name": "Again", "event_name": "Export Done"})
    assert "event_name" in response.context["form"].errors
    response = admin.post(reverse("events:feature_list"), {"name": "", "event_name": ""})
    assert {"name", "event_name"} <= set(response.context["form"].errors)
    feature = KeyFeature.objects.get()
    assert admin.post(reverse("events:feature_delete", args=[feature.pk])).status_code == 302
    assert not KeyFeature.objects.exists()


def test_feature_delete_refused_to_csm(client_as):
    feature = KeyFeatureFactory()
    assert client_as("csm").post(reverse("events:feature_delete", args=[feature.pk])).status_code == 403
    assert KeyFeature.objects.exists()


def _console_data(n):
    source = EventSourceFactory()
    now = timezone.now()
    for i in range(n):
        Event.objects.create(
            source=source, message_id=f"m{i}", type="track", event="E", user_id=f"u{i}", group_id=f"G{i}",
            timestamp=now, received_at=now - dt.timedelta(hours=i % 30),
        )  # fmt: skip
        RejectedMessage.objects.create(source=source, received_at=now, status=400, code="invalid_message", reason="x")


@pytest.mark.parametrize("rows", [1, 20])
def test_console_query_count_is_fixed(client_as, django_assert_num_queries, rows):
    client = client_as("admin")
    _console_data(rows)
    # 1 session, 2 user, 3 events per source per hour, 4 rejections by code, 5 latest rejections (+source),
    # 6 unmatched count, 7 unmatched by group, 8 latest unmatched (+source), 9 refresh backlog
    with django_assert_num_queries(9):
        response = client.get(reverse("events:console"))
    assert response.status_code == 200
    assert response.context["unmatched"]["count"] == rows
    assert sum(response.context["received"]["totals"].values()) == rows


def test_console_bad_hours_falls_back(client_as):
    response = client_as("admin").get(reverse("events:console"), {"hours": "lots"})
    assert response.status_code == 200 and response.context["hours"] == 48


def _usage_data(account, n):
    today = timezone.now().astimezone(dt.UTC).date()
    ContractFactory(account=account, seats=10)
    KeyFeatureFactory(event_name="Export Done")
    for i in range(n):
        ContactFactory(account=account, external_id=f"u{i}")
        AccountDailyUser.objects.create(account=account, day=today - dt.timedelta(days=i), user_key=f"u{i}", events=2)
        TicketFactory(account=account)


@pytest.mark.parametrize("rows", [1, 20])
@pytest.mark.parametrize("role", ["viewer", "csm"])
def test_usage_tab_for_every_role_with_fixed_queries(client_as, django_assert_num_queries, rows, role):
    account = AccountFactory()
    _usage_data(account, rows)
    client = client_as(role)
    # 1 session, 2 user, 3 account, 4 (user, day) pairs, 5 seats, 6 top events, 7 key features,
    # 8 key feature users, 9 contacts (the ticket panel is support's, loaded by htmx)
    with django_assert_num_queries(9 if role == "viewer" else 10):  # + can_edit: CSM's account-team lookup
        response = client.get(reverse("events:account_usage", args=[account.pk]))
    assert response.status_code == 200
    assert response.context["usage"]["mau"] == min(rows, 30)
    assert response.context["tab"] == "usage"
    assert b'data-testid="tab-usage"' in response.content
    assert reverse("support:account_tickets", args=[account.pk]).encode() in response.content


def test_usage_tab_needs_login_and_an_account(client, client_as):
    account = AccountFactory()
    assert client.get(reverse("events:account_usage", args=[account.pk])).status_code == 302
    assert client_as("viewer").get(reverse("events:account_usage", args=[999999])).status_code == 404


def test_ingestion_nav_entry_for_admins_only(client_as):
    assert b"Ingestion" in client_as("admin").get(reverse("accounts:list")).content


def test_ingestion_nav_entry_hidden_for_csm(client_as):
    assert b">Ingestion<" not in client_as("csm").get(reverse("accounts:list")).content
