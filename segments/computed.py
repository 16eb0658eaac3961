"""Computed account values that segment rules can filter on. Each figure is defined by the app that owns its
data (license utilization: ``events.metrics.annotate_license_utilization``, users active in the 30-day window ÷
seats of the contracts in force x 100, NULL without seats); this module only names them for rules.
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
