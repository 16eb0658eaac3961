"""Usage, support and onboarding figures rolled up from accounts to any scope (a team's book, a segment, the
company) for a period, reusing each figure's one definition in its own app:

- usage from the daily active-user rollup of ``events`` (``events.models.AccountDailyUser``; the 30-day window
  ``events.metrics.WINDOW``; License utilization = active users ÷ seats x 100, ``events.metrics``), set-based
  over the scope: DAU, MAU, Stickiness = DAU ÷ MAU (monthly rolling average), Adoption Rate
  AR = (# of new users ÷ total # of users) x 100, Growth Rate of MAU, PES = (AR + Stickiness + GR) ÷ 3;
- support from ``support.metrics.ticket_rollup`` (RR = solved ÷ received x 100, average response time);
- onboarding from ``success.selectors.plan_metrics`` (TTO = go-live - contract start, TTFV = first value -
  go-live, in days), averaged over the plans whose milestone fell in the period.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Min, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import Contract
from accounts.selectors import contract_in_force_q
from events.metrics import WINDOW
from events.models import AccountDailyUser
from metrics import formulas as f
from metrics.selectors import _account_ids, _is_empty
from success.models import MilestoneKind
from success.selectors import plan_list, plan_metrics
from support.metrics import ticket_rollup
from support.models import Ticket


def _window(day: dt.date) -> tuple[dt.date, dt.date]:
    return day - dt.timedelta(days=WINDOW - 1), day


def _active_users(ids: QuerySet | None, first: dt.date, last: dt.date) -> dict[str, int]:
    """User-days and distinct users (per account) active in [first, last] (one aggregate)."""
    qs = AccountDailyUser.objects.filter(day__gte=first, day__lte=last)
    if ids is not None:
        qs = qs.filter(account_id__in=ids)
    # A person is (account, user key): the same id at two customers is two people.
    return {"user_days": qs.count(), "users": qs.values("account_id", "user_key").distinct().count()}


def usage(*, start: dt.date, end: dt.date, accounts: QuerySet | None) -> dict[str, Any]:
    """Usage figures of the scope as of the period's end (or today, if earlier)."""
    ids = _account_ids(accounts)
    day = min(end, timezone.localdate())
    first, last = _window(day)
    now = _active_users(ids, first, last)
    before = _active_users(ids, *_window(min(start, day) - dt.timedelta(days=1)))
    dau_today = AccountDailyUser.objects.filter(day=day)
    if ids is not None:
        dau_today = dau_today.filter(account_id__in=ids)
    mau = now["users"]
    avg_dau = Decimal(now["user_days"]) / WINDOW
    seats_qs = Contract.objects.filter(contract_in_force_q(day))
    if ids is not None:
        seats_qs = seats_qs.filter(account_id__in=ids)
    seats = seats_qs.aggregate(n=Sum("seats"))["n"] or 0
    # New users: first seen (ever, for that account) inside the period; total: active inside the period.
    period = AccountDailyUser.objects.filter(day__lte=day)
    if ids is not None:
        period = period.filter(account_id__in=ids)
    firsts = period.values("account_id", "user_key").annotate(first=Min("day"))
    users_in_period = period.filter(day__gte=start).values("account_id", "user_key").distinct().count()
    new_users = firsts.filter(first__gte=start).count()
    stickiness = f.pct(avg_dau, mau)
    adoption = f.adoption_rate_pct(new_users, users_in_period)
    growth = f.growth_rate_pct(Decimal(mau), Decimal(before["users"]) if before["users"] else None)
    return {
        "as_of": day.isoformat(),
        "dau": dau_today.count(),
        "avg_dau_30d": str(avg_dau.quantize(Decimal("0.01"))),
        "mau": mau,
        "mau_at_start": before["users"],
        "stickiness_pct": stickiness,
        "new_users": new_users,
        "users_in_period": users_in_period,
        "adoption_rate_pct": adoption,
        "mau_growth_rate_pct": growth,
        "pes": f.pes(adoption, stickiness, growth),
        "seats": seats,
        "license_utilization_pct": f.pct(mau, seats),
    }


def support(*, start: dt.date, end: dt.date, accounts: QuerySet | None) -> dict[str, Any]:
    """Tickets received in the period by the scope's accounts (``support.metrics.ticket_rollup``)."""
    ids = _account_ids(accounts)
    since = dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    tickets = Ticket.objects.filter(opened_at__gte=since, opened_at__lt=until)
    if ids is not None:
        tickets = tickets.filter(account_id__in=ids)
    r = ticket_rollup(tickets=tickets)
    hours = lambda delta: None if delta is None else round(delta.total_seconds() / 3600, 2)  # noqa: E731
    return {
        "tickets_received": r["received"],
        "tickets_solved": r["solved"],
        "resolution_rate_pct": f.resolution_rate_pct(r["solved"], r["received"]),
        "avg_response_hours": hours(r["avg_response"]),
        "avg_resolution_hours": hours(r["avg_resolution"]),
    }


def onboarding(*, start: dt.date, end: dt.date, accounts: QuerySet | None) -> dict[str, Any]:
    """Average TTO of the plans that went live in the period and TTFV of those reaching first value in it."""
    ids = _account_ids(accounts)
    in_period = Q(
        milestones__kind__in=[MilestoneKind.GO_LIVE, MilestoneKind.FIRST_VALUE],
        milestones__actual_date__gte=start,
        milestones__actual_date__lte=end,
    )
    plans = plan_list().filter(in_period).distinct()
    if ids is not None:
        plans = plans.filter(account_id__in=ids)
    tto, ttfv = [], []
    for plan in plans:  # plans with a milestone in the period only; figures from the success app's definition
        m = plan_metrics(plan)
        if m.tto_days is not None and m.go_live and start <= m.go_live <= end:
            tto.append(m.tto_days)
        if m.ttfv_days is not None and m.first_value and start <= m.first_value <= end:
            ttfv.append(m.ttfv_days)
    avg = lambda values: f.money(Decimal(sum(values)) / len(values)) if values else None  # noqa: E731
    return {"onboarded": len(tto), "avg_tto_days": avg(tto), "reached_value": len(ttfv), "avg_ttfv_days": avg(ttfv)}


def usage_rollup(*, start: dt.date, end: dt.date, accounts: QuerySet | None) -> dict[str, Any]:
    """The usage endpoint's JSON: usage, support and onboarding of the scope (None where undefined)."""
    out: dict[str, Any] = {"start": start.isoformat(), "end": end.isoformat()}
    if _is_empty(accounts):
        accounts = None if accounts is None else accounts.model.objects.filter(pk=-1)
    for name, fn in (("usage", usage), ("support", support), ("onboarding", onboarding)):
        section = fn(start=start, end=end, accounts=accounts)
        out[name] = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in section.items()}
    return out
