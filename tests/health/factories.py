"""Factories and rollup helpers for health tests."""

import datetime as dt

import factory

from events.models import AccountDailyUser
from health.models import Measure, Scorecard


class ScorecardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scorecard

    name = factory.Sequence(lambda n: f"Scorecard {n}")
    is_default = False
    tiers = factory.LazyFunction(list)


class MeasureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measure

    scorecard = factory.SubFactory(ScorecardFactory)
    key = "active_users_30d"
    group = "usage"
    weight = 1
    breakpoints = factory.LazyFunction(lambda: [[0, 0], [10, 100]])


def add_users(account, *, users: int, day: dt.date, events: int = 1) -> None:
    """``users`` distinct users active for ``account`` on ``day``."""
    AccountDailyUser.objects.bulk_create(
        [AccountDailyUser(account=account, day=day, user_key=f"u{i}", events=events) for i in range(users)]
    )
