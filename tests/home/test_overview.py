"""The account Overview panel: what it shows, who may read it, its fixed query count, the sparkline tag."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.services import account_refresh_financials
from events.models import AccountDailyUser
from health.models import AccountHealth, HealthSnapshot
from home.templatetags.day_tags import sparkline
from playbooks.models import CTAStatus
from tests.factories import AccountFactory, ContactFactory, ContractFactory
from tests.playbooks.factories import CTAFactory
from timeline.models import Activity, TimelineEntry

pytestmark = pytest.mark.django_db


def _customer(owner, *, days: int = 3):
    today = timezone.localdate()
    account = AccountFactory(owner=owner, name="Glance Co")
    ContractFactory(account=account, start_date=today - dt.timedelta(300), end_date=today + dt.timedelta(65))
    account_refresh_financials(account_ids=[account.pk])
    for i in range(days):
        day = today - dt.timedelta(days=i)
        HealthSnapshot.objects.create(
            account=account, computed_at=timezone.now() - dt.timedelta(days=i), as_of=day, score=60 + i, band="yellow"
        )
        AccountDailyUser.objects.bulk_create(
            [AccountDailyUser(account=account, day=day, user_key=f"u{k}") for k in range(i + 1)]
        )
    AccountHealth.objects.create(account=account, score=60, band="yellow", trend="down", computed_at=timezone.now())
    CTAFactory(account=account, title="Open one", due_date=today - dt.timedelta(1))
    CTAFactory(account=account, title="Closed one", status=CTAStatus.CLOSED, outcome="success")
    ContactFactory(account=account, name="Chris Champion", role="champion")
    ContactFactory(account=account, name="Eve Enduser", role="end_user")
    for i in range(days):
        activity = Activity.objects.create(
            account=account, kind="call", occurred_at=timezone.now() - dt.timedelta(days=i + 1), subject=f"Call {i}"
        )
        TimelineEntry.objects.create(
            account=account, kind="activity", activity=activity, occurred_at=activity.occurred_at, title=f"Call {i}"
        )
    Activity.objects.create(account=account, kind="note", occurred_at=timezone.now(), subject="Internal note")
    return account


def test_overview_answers_how_is_this_customer(client_as, csm):
    account = _customer(csm)
    response = client_as("viewer").get(reverse("account_overview", args=[account.pk]))
    assert response.status_code == 200
    ctx = response.context
    assert ctx["health"].score == 60
    assert ctx["health_series"][-3:] == [62, 61, 60]
    assert ctx["usage_series"][-3:] == [3, 2, 1] and ctx["usage_today"] == 1
    assert ctx["renewal_in"] == 65
    assert [c.title for c in ctx["open_ctas"]] == ["Open one"]
    assert [c.name for c in ctx["contacts"]] == ["Chris Champion"]
    assert ctx["last_touch"].subject == "Call 0"  # a note is not a touchpoint
    assert [e.title for e in ctx["entries"]] == ["Call 0", "Call 1", "Call 2"]
    body = response.content.decode()
    assert "<svg" in body and "12,000" in body and "in 65 days" in body


def test_account_page_loads_the_overview_first(client_as, csm):
    account = _customer(csm)
    body = client_as("csm").get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert reverse("account_overview", args=[account.pk]) in body
    assert body.index('data-testid="overview-slot"') < body.index('data-testid="contacts"')


def test_overview_of_a_missing_account_is_404_and_anonymous_must_log_in(client, client_as):
    assert client.get(reverse("account_overview", args=[1])).status_code == 302
    assert client_as("csm").get(reverse("account_overview", args=[999999])).status_code == 404


def test_overview_fixed_query_count(client_as, csm, django_assert_num_queries):
    small = _customer(csm, days=1)
    big = _customer(csm, days=20)
    client = client_as("csm")
    client.get(reverse("account_overview", args=[small.pk]))
    # session, user, account, health, health scores, open CTAs, last touchpoint, daily users, contacts, timeline
    for account in (small, big):
        with django_assert_num_queries(10):
            client.get(reverse("account_overview", args=[account.pk]))


def test_sparkline_gaps_scale_and_empty():
    assert sparkline([None, None]) == ""
    svg = sparkline([0, None, 50, 100], width=30, height=10, low=0, high=100)
    assert svg.count("<polyline") == 2
    assert 'points="2.0,8.0"' in svg and "19.3,5.0 28.0,2.0" in svg
    assert '<circle cx="28.0" cy="2.0"' in svg
