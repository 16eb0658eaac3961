"""Computed account values shared by segment rules and trigger conditions, as correlated subqueries so any
number of accounts is annotated in one SQL query.

License utilization is the one definition of ``events.metrics`` (users active in the 30-day window ÷ seats of the
contracts in force x 100; no seats → NULL, so an account without seats never matches a utilization condition).
"""

import datetime as dt

from django.db.models import QuerySet

from events import metrics


def annotate_license_utilization(qs: QuerySet, *, today: dt.date, name: str = "seg_license_utilization") -> QuerySet:
    return metrics.annotate_license_utilization(qs, day=today, name=name)


ANNOTATORS = {"license_utilization": annotate_license_utilization}


def annotate(qs: QuerySet, names: set[str], *, today: dt.date) -> QuerySet:
    for name in sorted(names):
        qs = ANNOTATORS[name](qs, today=today)
    return qs
