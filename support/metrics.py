"""Support metrics, per the glossary (seeds/000 "Terms used in the CSM landscape").

- Resolution Rate: RR = (# of solved/closed tickets ÷ # of tickets received) x 100
- Response Time: the average time taken to respond to a customer after receiving a request.
Resolution time (opened to solved) is averaged the same way over the tickets solved.
"""

import datetime as dt
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet

from support.models import Ticket, TicketStatus

SOLVED = (TicketStatus.SOLVED, TicketStatus.CLOSED)


def _avg(value: Any) -> dt.timedelta | None:
    if value is None or isinstance(value, dt.timedelta):
        return value
    return dt.timedelta(microseconds=float(value))  # some backends hand back microseconds


def ticket_metrics(*, account_id: int, since: dt.datetime) -> dict[str, Any]:
    """Tickets received since ``since`` for one account, in one aggregate query: received, solved, open,
    RR (solved ÷ received x 100, None when nothing was received), average response and resolution time."""
    return ticket_rollup(tickets=Ticket.objects.filter(account_id=account_id, opened_at__gte=since))


def ticket_rollup(*, tickets: QuerySet[Ticket]) -> dict[str, Any]:
    """The figures of ``ticket_metrics`` for any set of tickets (one account, a team's book, a period), in one
    aggregate query: the one definition of resolution rate and response time."""
    qs = tickets
    agg = qs.aggregate(
        received=Count("id"),
        solved=Count("id", filter=Q(status__in=SOLVED)),
        open=Count("id", filter=~Q(status__in=SOLVED)),
        escalated=Count("id", filter=Q(is_escalated=True)),
        response=Avg(ExpressionWrapper(F("first_response_at") - F("opened_at"), output_field=DurationField())),
        resolution=Avg(
            ExpressionWrapper(F("solved_at") - F("opened_at"), output_field=DurationField()),
            filter=Q(status__in=SOLVED),
        ),
    )
    received = agg["received"]
    return {
        "received": received,
        "solved": agg["solved"],
        "open": agg["open"],
        "escalated": agg["escalated"],
        "resolution_rate": round(agg["solved"] * 100 / received, 1) if received else None,
        "avg_response": _avg(agg["response"]),
        "avg_resolution": _avg(agg["resolution"]),
    }
