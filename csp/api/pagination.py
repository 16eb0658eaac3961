"""Page-number pagination with a client-chosen page size, capped so one call stays cheap."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property
from rest_framework import pagination


class _CountedPaginator(Paginator):
    """Django's paginator whose ``count`` comes from another queryset with the same rows (see
    ``PageNumberPagination.paginate_queryset``)."""

    def __init__(self, object_list, per_page, *, count_queryset=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.count_queryset = count_queryset

    @cached_property
    def count(self):
        if self.count_queryset is None:
            return super().count
        return self.count_queryset.count()


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None, *, count_queryset=None):
        """DRF's pagination; ``count_queryset``, when given, is counted instead of ``queryset``: the same rows
        without the joins a page needs for display (a list of ``values()`` rows with related names joined). On
        PostgreSQL a COUNT(*) with LEFT JOINs, even ones the planner removes, reads the whole table, where the
        bare table's count is an index-only scan of its smallest index (several times less work)."""
        self._count_queryset = count_queryset
        return super().paginate_queryset(queryset, request, view)

    def django_paginator_class(self, object_list, per_page):
        # Called by DRF's paginate_queryset as a class; a method here, to hand the paginator the count queryset.
        return _CountedPaginator(object_list, per_page, count_queryset=getattr(self, "_count_queryset", None))
