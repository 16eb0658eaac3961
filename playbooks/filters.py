"""CTA list filters of ``/api/v1/ctas/``."""

import django_filters
from django.db.models import Q
from django.utils import timezone

from playbooks.models import CTA, CTAPriority, CTASource, CTAStatus, CTAType
from playbooks.selectors import SCOPES, cta_active_q, scope_q


class CTAFilter(django_filters.FilterSet):
    owner = django_filters.NumberFilter(field_name="owner_id")
    account = django_filters.NumberFilter(field_name="account_id")
    type = django_filters.MultipleChoiceFilter(field_name="cta_type", choices=CTAType.choices)
    priority = django_filters.MultipleChoiceFilter(choices=CTAPriority.choices)
    status = django_filters.MultipleChoiceFilter(choices=CTAStatus.choices)
    source = django_filters.ChoiceFilter(choices=CTASource.choices)
    source_key = django_filters.CharFilter()
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Active and due before today")
    active = django_filters.BooleanFilter(method="filter_active", label="In the cockpit (open or woken)")
    scope = django_filters.ChoiceFilter(choices=[(s, s) for s in SCOPES], method="filter_scope")

    class Meta:
        model = CTA
        fields: list[str] = []

    def filter_overdue(self, queryset, name, value):
        today = timezone.localdate()
        overdue = cta_active_q(today) & Q(due_date__lt=today)
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_active(self, queryset, name, value):
        active = cta_active_q(timezone.localdate())
        return queryset.filter(active) if value else queryset.exclude(active)

    def filter_scope(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if not value or value == "all" or user is None:
            return queryset
        return queryset.filter(scope_q(user, value))
