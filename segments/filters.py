"""The ``segment`` filter of the account list: a saved segment's live members, as one subquery."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from segments.selectors import segment_account_ids_q, segment_choices


@extend_schema_field(OpenApiTypes.INT)  # a segment id in the API schema (check --deploy stays clean)
def _members(queryset, name, value):
    return queryset.filter(**segment_account_ids_q(value)) if value else queryset


def segment_account_filter() -> django_filters.ModelChoiceFilter:
    """The filter segments adds to ``accounts.filters.AccountFilter`` (``?segment=<id>``)."""
    return django_filters.ModelChoiceFilter(queryset=segment_choices(), method=_members, label="Segment")
