"""Filters for the activities and timeline endpoints."""

import django_filters

from csp.filters import IsoDateTimeFilter
from timeline.models import Activity, ActivityKind, EntryKind, Sentiment, TimelineEntry


class ActivityFilter(django_filters.FilterSet):
    account = django_filters.NumberFilter(field_name="account_id")
    kind = django_filters.MultipleChoiceFilter(choices=ActivityKind.choices)
    sentiment = django_filters.ChoiceFilter(choices=Sentiment.choices)
    author = django_filters.NumberFilter(field_name="author_id")
    occurred_after = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lte")

    class Meta:
        model = Activity
        fields: list[str] = []


class TimelineEntryFilter(django_filters.FilterSet):
    account = django_filters.NumberFilter(field_name="account_id")
    kind = django_filters.MultipleChoiceFilter(choices=EntryKind.choices)
    occurred_after = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lte")

    class Meta:
        model = TimelineEntry
        fields: list[str] = []
