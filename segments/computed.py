"""Computed account values shared by segment rules and trigger conditions, as correlated subqueries so any
number of accounts is annotated in one SQL query.

License utilization follows events.metrics (glossary: "License" = a user seat): distinct active users over the
30 days ending today (MAU) ÷ seats of the account's active contracts x 100; no seats → no value (NULL), so an
account without seats never matches a utilization condition.
"""

import datetime as dt

from django.db.models import Count, FloatField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, NullIf

from accounts.models import Contract, ContractStatus
from events.models import AccountDailyUser

WINDOW = 30  # days of the rolling month (events.metrics.WINDOW)


def seats_subquery() -> Subquery:
    """Seats of the account's active contracts."""
    return Subquery(
        Contract.objects.filter(account=OuterRef("pk"), status=ContractStatus.ACTIVE)
        .order_by()
        .values("account")
        .annotate(n=Sum("seats"))
        .values("n")
    )


def active_users_subquery(*, first: dt.date, last: dt.date) -> Subquery:
    """Distinct user keys active for the account between two days (inclusive), from the daily rollup."""
    return Subquery(
        AccountDailyUser.objects.filter(account=OuterRef("pk"), day__gte=first, day__lte=last)
        .order_by()
        .values("account")
        .annotate(n=Count("user_key", distinct=True))
        .values("n")
    )


def annotate_license_utilization(qs: QuerySet, *, today: dt.date, name: str = "seg_license_utilization") -> QuerySet:
    """Annotate ``name`` = MAU ÷ seats x 100 (NULL without seats)."""
    mau = Coalesce(active_users_subquery(first=today - dt.timedelta(days=WINDOW - 1), last=today), Value(0))
    seats = NullIf(Cast(Coalesce(seats_subquery(), Value(0)), FloatField()), Value(0.0))
    return qs.annotate(**{name: Cast(mau, FloatField()) * Value(100.0) / seats})


ANNOTATORS = {"license_utilization": annotate_license_utilization}


def annotate(qs: QuerySet, names: set[str], *, today: dt.date) -> QuerySet:
    for name in sorted(names):
        qs = ANNOTATORS[name](qs, today=today)
    return qs
