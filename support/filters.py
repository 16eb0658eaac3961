"""Ticket list filters for ``/api/v1/tickets``."""

import django_filters

from csp.filters import IsoDateTimeFilter
from support.models import Ticket, TicketPriority, TicketStatus


class TicketFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=TicketStatus.choices)
    priority = django_filters.MultipleChoiceFilter(choices=TicketPriority.choices)
    opened_after = IsoDateTimeFilter(field_name="opened_at", lookup_expr="gte")
    opened_before = IsoDateTimeFilter(field_name="opened_at", lookup_expr="lt")

    class Meta:
        model = Ticket
        fields = ["account", "status", "priority", "is_escalated"]
