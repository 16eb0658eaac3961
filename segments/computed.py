"""Computed account values that segment rules can filter on. Each figure is defined by the app that owns its
data (license utilization: ``events.metrics.annotate_license_utilization``); this module only names them for rules.
"""

import datetime as dt

from django.db.models import QuerySet

from events.metrics import annotate_license_utilization

ANNOTATORS = {"license_utilization": annotate_license_utilization}


def annotate(qs: QuerySet, names: set[str], *, today: dt.date) -> QuerySet:
    for name in sorted(names):
        qs = ANNOTATORS[name](qs, today=today)
    return qs
