"""Usage metrics against hand-computed glossary formulas."""

import datetime as dt

import pytest

from events import metrics
from events.models import AccountDailyEvent, AccountDailyUser, Event
from tests.events.factories import EventSourceFactory, KeyFeatureFactory
from tests.factories import AccountFactory, ContractFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 20)


def _active(account, user, *days_ago):
    for n in days_ago:
        AccountDailyUser.objects.create(account=account, day=TODAY - dt.timedelta(days=n), user_key=user, events=1)


def test_dau_wau_mau_series():
    account = AccountFactory()
    _active(account, "a", 0, 1, 2)  # active the last three days
    _active(account, "b", 5)  # within WAU and MAU windows
    _active(account, "c", 29)  # MAU window edge (30 days ending today)
    _active(account, "d", 30)  # just outside today's MAU
    series = metrics.active_user_series(account_id=account.id, today=TODAY, days=90)
    assert len(series) == 90 and series[-1]["day"] == TODAY
    assert (series[-1]["dau"], series[-1]["wau"], series[-1]["mau"]) == (1, 2, 3)
    yesterday = series[-2]
    assert (yesterday["dau"], yesterday["mau"]) == (1, 4)  # d still counts yesterday
    assert series[0]["mau"] == 0


def test_stickiness_is_average_dau_over_mau():
    series = [{"dau": 0, "mau": 0}] * 60 + [{"dau": 2 if i % 2 else 1, "mau": 4} for i in range(30)]
    # mean DAU over 30 days = 1.5, MAU = 4: 1.5 / 4 = 37.5%
    assert metrics.stickiness(series) == 37.5
    assert metrics.stickiness([{"dau": 0, "mau": 0}] * 30) is None


def test_license_utilization_counts_the_seats_of_contracts_in_force():
    account = AccountFactory()
    ContractFactory(account=account, seats=10, start_date=TODAY - dt.timedelta(days=10), end_date=TODAY)
    ContractFactory(account=account, seats=30, start_date=TODAY, end_date=TODAY + dt.timedelta(days=30))
    ContractFactory(account=account, seats=500, status="expired", end_date=TODAY - dt.timedelta(days=1))
    ContractFactory(account=account, seats=70, start_date=TODAY + dt.timedelta(days=1))  # signed, not started
    seats = metrics.seats(account_id=account.id, day=TODAY)
    assert seats == 40
    assert metrics.license_utilization(active_users=10, seats=seats) == 25.0
    assert metrics.license_utilization(active_users=10, seats=0) is None


def test_top_events_and_feature_adoption():
    account = AccountFactory()
    source = EventSourceFactory()
    feature = KeyFeatureFactory(name="Exports", event_name="Export Done")
    KeyFeatureFactory(name="Unused", event_name="Never Sent")
    AccountDailyEvent.objects.create(account=account, day=TODAY, event="Export Done", count=3)
    AccountDailyEvent.objects.create(account=account, day=TODAY - dt.timedelta(days=1), event="Login", count=9)
    AccountDailyEvent.objects.create(account=account, day=TODAY - dt.timedelta(days=40), event="Old", count=99)
    top = metrics.top_events(account_id=account.id, today=TODAY)
    assert [(t["event"], t["total"]) for t in top] == [("Login", 9), ("Export Done", 3)]
    when = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    for i, user in enumerate(["a", "a", "b"]):
        Event.objects.create(
            source=source, message_id=f"m{i}", type="track", event="Export Done", user_id=user,
            account=account, timestamp=when, received_at=when,
        )  # fmt: skip
    adoption = {row["feature"].name: row for row in metrics.feature_adoption(account_id=account.id, today=TODAY, mau=4)}
    assert (adoption["Exports"]["users"], adoption["Exports"]["uses"], adoption["Exports"]["adoption"]) == (2, 3, 50.0)
    assert adoption["Unused"]["users"] == 0
    assert adoption["Exports"]["feature"] == feature
