"""The registry of measures a scorecard can use, and the set-based sources that compute their raw values.

A *source* runs one aggregate query (GROUP BY account) for every account at once, or for a filtered few,
as of a day; a *measure* reads its raw value from the rows of the sources it declares. A full recompute
therefore runs one query per source, whatever the number of accounts. A later app adds a measure by
calling ``register_source`` and ``register`` (e.g. surveys: a "latest NPS" source over survey answers).
"""

import datetime as dt
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max, Min, Q, Sum
from django.utils import timezone

from accounts.models import Contract
from accounts.selectors import contract_in_force_q
from events.metrics import WINDOW, active_window, license_utilization, seats_in_force_q
from events.models import AccountDailyEvent, AccountDailyUser, KeyFeature
from health.models import Band, Direction, HealthOverride, MeasureGroup, SentimentPulse
from support.models import Ticket, TicketStatus

# Days of usage rollups read per recompute: the current 30-day period (events' active-user window) and the
# previous one.
PERIOD_DAYS = WINDOW
USAGE_LOOKBACK_DAYS = 2 * PERIOD_DAYS
SUPPORT_WINDOW_DAYS = 90
ARR_CHANGE_DAYS = 90
SENTIMENT_MAX_AGE_DAYS = 365

# Rows by account id; the key None, when present, is the row of every account the query returned nothing for.
Rows = dict[int | None, dict[str, Any]]
SourceFn = Callable[[list[int] | None, dt.date], Rows]


@dataclass(frozen=True)
class MeasureDef:
    """A measure of the registry: how to read its raw value and sensible defaults for a new scorecard."""

    key: str
    label: str
    group: str
    unit: str
    sources: tuple[str, ...]
    value: Callable[[dict[str, dict[str, Any]]], float | None]
    direction: str = Direction.HIGHER
    breakpoints: list[list[float]] = field(default_factory=list)
    help: str = ""


SOURCES: dict[str, SourceFn] = {}
MEASURES: dict[str, MeasureDef] = {}


def register_source(name: str) -> Callable[[SourceFn], SourceFn]:
    def deco(fn: SourceFn) -> SourceFn:
        SOURCES[name] = fn
        return fn

    return deco


def register(measure: MeasureDef) -> MeasureDef:
    # Keys are written raw into snapshot JSON streamed by COPY (health.bulk): keep them plain.
    if not re.fullmatch(r"[a-z0-9_]+", measure.key):
        raise ValueError(f"Measure keys are lowercase letters, digits and underscores: {measure.key!r}")
    MEASURES[measure.key] = measure
    return measure


def measure_choices() -> list[tuple[str, str]]:
    return [(m.key, f"{m.label} ({MeasureGroup(m.group).label})") for m in MEASURES.values()]


def day_end(day: dt.date) -> dt.datetime:
    """Start of the next day in the current time zone: "as of a day" means everything before this instant."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def _scoped(qs, account_ids: list[int] | None):
    return qs if account_ids is None else qs.filter(account_id__in=account_ids)


def _by_account(rows: Iterable[dict[str, Any]]) -> Rows:
    return {row.pop("account_id"): row for row in rows}


def _in_thread(name: str, account_ids: list[int] | None, as_of: dt.date) -> Rows:
    try:
        return SOURCES[name](account_ids, as_of)
    finally:
        connection.close()  # this thread's own connection


def run_sources(
    names: Iterable[str], account_ids: list[int] | None, as_of: dt.date, parallel: bool = False
) -> dict[str, Rows]:
    """Run each named source once (one aggregate query each) for the given accounts (None = all). With
    ``parallel`` they run at once on separate connections, so the slowest query sets the time, not their sum."""
    names = sorted(set(names))
    if not parallel or len(names) < 2:
        return {name: SOURCES[name](account_ids, as_of) for name in names}
    return start_sources(names, account_ids, as_of)()


def start_sources(names: Iterable[str], account_ids: list[int] | None, as_of: dt.date) -> Callable[[], dict[str, Rows]]:
    """Start the named sources at once on separate connections (only valid outside a transaction) and return the
    function that waits for their rows: the caller does its own work meanwhile."""
    names = sorted(set(names))
    pool = ThreadPoolExecutor(max_workers=max(1, len(names)))
    futures = {name: pool.submit(_in_thread, name, account_ids, as_of) for name in names}

    def rows() -> dict[str, Rows]:
        try:
            return {name: future.result() for name, future in futures.items()}
        finally:
            pool.shutdown(wait=True)

    return rows


# --- sources ----------------------------------------------------------------------------------------------


@register_source("usage")
def usage_source(account_ids: list[int] | None, as_of: dt.date) -> Rows:
    """Active users over 7 and 30 days (distinct user keys), user-days, last active day, and event volume of the
    current and previous 30-day periods, from ``AccountDailyUser``: one GROUP BY over 60 days of rollups."""
    d7, d60 = (as_of - dt.timedelta(days=n - 1) for n in (7, USAGE_LOOKBACK_DAYS))
    d30 = active_window(as_of)[0]  # au30 is the active users of license utilization (events.metrics)
    current = Q(day__gte=d30)
    qs = _scoped(AccountDailyUser.objects.filter(day__gte=d60, day__lte=as_of), account_ids)
    rows = (
        qs.values("account_id")
        .order_by()
        .annotate(
            au7=Count("user_key", distinct=True, filter=Q(day__gte=d7)),
            au30=Count("user_key", distinct=True, filter=current),
            user_days30=Count("id", filter=current),
            events30=Sum("events", filter=current),
            events_prev=Sum("events", filter=Q(day__lt=d30)),
            last_day=Max("day"),
        )
    )
    return _by_account(rows)


@register_source("features")
def features_source(account_ids: list[int] | None, as_of: dt.date) -> Rows:
    """Distinct key features used per account over 30 days, from ``AccountDailyEvent`` (two queries: the key
    feature list, then one GROUP BY). With no key feature defined, adoption is undefined: every row is empty."""
    names = list(KeyFeature.objects.values_list("event_name", flat=True))
    if not names:
        return {}
    d30 = as_of - dt.timedelta(days=PERIOD_DAYS - 1)
    qs = _scoped(AccountDailyEvent.objects.filter(day__gte=d30, day__lte=as_of, event__in=names), account_ids)
    rows = _by_account(qs.values("account_id").order_by().annotate(used=Count("event", distinct=True)))
    for row in rows.values():
        row["total"] = len(names)
    rows[None] = {"used": 0, "total": len(names)}  # the row of accounts that used none
    return rows


@register_source("support")
def support_source(account_ids: list[int] | None, as_of: dt.date) -> Rows:
    """Tickets open at the end of the day, escalations and average first-response time over 90 days."""
    end = day_end(as_of)
    start = end - dt.timedelta(days=SUPPORT_WINDOW_DAYS)
    still_open = Q(solved_at__isnull=True, status__in=[TicketStatus.OPEN, TicketStatus.PENDING]) | Q(solved_at__gte=end)
    recent = Q(opened_at__gte=start)
    qs = _scoped(Ticket.objects.filter(opened_at__lt=end).filter(recent | still_open), account_ids)
    response = ExpressionWrapper(F("first_response_at") - F("opened_at"), output_field=DurationField())
    rows = (
        qs.values("account_id")
        .order_by()
        .annotate(
            open=Count("id", filter=still_open),
            escalations=Count("id", filter=recent & Q(is_escalated=True)),
            avg_response=Avg(response, filter=recent & Q(first_response_at__lt=end)),
        )
    )
    return _by_account(rows)


@register_source("contracts")
def contracts_source(account_ids: list[int] | None, as_of: dt.date) -> Rows:
    """ARR and seats of the contracts in force on the day and 90 days before, and the next contract end date
    (``accounts.selectors.contract_in_force_q``; seats as license utilization counts them, ``events.metrics``)."""
    then = as_of - dt.timedelta(days=ARR_CHANGE_DAYS)
    in_force_now = contract_in_force_q(as_of)
    in_force_then = contract_in_force_q(then)
    qs = _scoped(Contract.objects.filter(end_date__gte=then, start_date__lte=as_of), account_ids)
    rows = (
        qs.values("account_id")
        .order_by()
        .annotate(
            arr_now=Sum("arr", filter=in_force_now),
            arr_then=Sum("arr", filter=in_force_then),
            seats=Sum("seats", filter=seats_in_force_q(day=as_of)),
            # The one definition of the next renewal (accounts.selectors): the first end of a term in force.
            next_end=Min("end_date", filter=in_force_now),
        )
    )
    return _by_account(rows)


@register_source("sentiment")
def sentiment_source(account_ids: list[int] | None, as_of: dt.date) -> Rows:
    """The latest CSM pulse set on or before the day (within a year), per account."""
    end = day_end(as_of)
    qs = _scoped(
        SentimentPulse.objects.filter(set_at__lt=end, set_at__gte=end - dt.timedelta(days=SENTIMENT_MAX_AGE_DAYS)),
        account_ids,
    )
    rows: Rows = {}
    for account_id, sentiment in qs.order_by("account_id", "set_at", "id").values_list("account_id", "sentiment"):
        rows[account_id] = {"sentiment": sentiment}  # ordered by time: the last one wins
    return rows


# ``account`` is not a query: the recompute reads it with the account list (tier, last touchpoint).


def active_overrides(account_ids: list[int] | None, today: dt.date) -> dict[int, HealthOverride]:
    """The override in force per account today (the newest, if several): one query."""
    qs = _scoped(HealthOverride.objects.filter(ended_at__isnull=True, expires_on__gte=today), account_ids)
    found: dict[int, HealthOverride] = {}
    for override in qs.order_by("account_id", "created_at", "id"):
        found[override.account_id] = override
    return found


# --- measures ---------------------------------------------------------------------------------------------


def _ratio(num: float | None, den: float | None) -> float | None:
    return None if not den else 100.0 * (num or 0) / den


def _usage(r, key):
    return (r["usage"].get(key) if r["usage"] else None) or 0


def _stickiness(r):
    # Glossary: Stickiness = DAU ÷ MAU. DAU is the 30-day average of daily active users (user-days ÷ 30).
    u = r["usage"]
    return _ratio((u["user_days30"] or 0) / PERIOD_DAYS, u["au30"]) if u else None


def _days_since_activity(r):
    # No activity in the 60 days read counts as 60: the measure saturates well before that.
    last = r["usage"].get("last_day") if r["usage"] else None
    return float((r["as_of"] - last).days) if last else float(USAGE_LOOKBACK_DAYS)


def _usage_change(r):
    # Glossary (QoQ/YoY change): ((metric ÷ same metric in previous period) - 1) x 100, on event volume.
    u = r["usage"]
    if not u or not u.get("events_prev"):
        return None
    return ((u["events30"] or 0) / u["events_prev"] - 1) * 100


def _feature_adoption(r):
    f = r["features"]
    return _ratio(f["used"], f["total"]) if f else None


def _license_utilization(r):
    seats = r["contracts"].get("seats") if r["contracts"] else None
    return license_utilization(active_users=_usage(r, "au30"), seats=seats)


def _avg_response_hours(r):
    avg = r["support"].get("avg_response") if r["support"] else None
    return avg.total_seconds() / 3600 if avg is not None else None


def _days_since_touchpoint(r):
    touched = r["account"]["last_touchpoint_at"]
    if touched is None or touched >= day_end(r["as_of"]):
        return None  # never logged, or (in a history recompute) only after that day
    return float((r["as_of"] - timezone.localtime(touched).date()).days)


def _days_to_renewal(r):
    end = r["contracts"].get("next_end") if r["contracts"] else None
    return float((end - r["as_of"]).days) if end else None


def _arr_change(r):
    c = r["contracts"]
    if not c or not c.get("arr_then"):
        return None
    return (float(c["arr_now"] or 0) / float(c["arr_then"]) - 1) * 100


SENTIMENT_POINTS = {Band.RED: 0.0, Band.YELLOW: 50.0, Band.GREEN: 100.0}


def _sentiment(r):
    s = r["sentiment"]
    return SENTIMENT_POINTS[s["sentiment"]] if s else None


U, S, F_, E, C = MeasureGroup.USAGE, MeasureGroup.SUPPORT, MeasureGroup.FINANCIAL, MeasureGroup.ENGAGEMENT, "contracts"
LOWER = Direction.LOWER

for _m in [
    MeasureDef("active_users_7d", "Active users (7 days)", U, "users", ("usage",),
               lambda r: float(_usage(r, "au7")), breakpoints=[[0, 0], [5, 60], [20, 100]],
               help="Distinct users active in the last 7 days."),
    MeasureDef("active_users_30d", "Active users (30 days)", U, "users", ("usage",),
               lambda r: float(_usage(r, "au30")), breakpoints=[[0, 0], [10, 60], [50, 100]],
               help="Distinct users active in the last 30 days (MAU)."),
    MeasureDef("stickiness", "Stickiness (DAU/MAU)", U, "%", ("usage",), _stickiness,
               breakpoints=[[0, 0], [10, 50], [25, 100]],
               help="Glossary: Stickiness = Daily Active Users ÷ Monthly Active Users (30-day average DAU)."),
    MeasureDef("license_utilization", "License utilization", U, "%", ("usage", "contracts"), _license_utilization,
               breakpoints=[[0, 0], [50, 60], [80, 100]],
               help="Active users over 30 days ÷ seats of the contracts in force, x 100."),
    MeasureDef("key_feature_adoption", "Key-feature adoption", U, "%", ("features",), _feature_adoption,
               breakpoints=[[0, 0], [50, 70], [80, 100]],
               help="Key features used in the last 30 days ÷ key features defined, x 100."),
    MeasureDef("days_since_last_activity", "Days since last activity", U, "days", ("usage",), _days_since_activity,
               direction=LOWER, breakpoints=[[0, 100], [7, 70], [30, 0]],
               help="Days since any user was last active (60 when none in the last 60 days)."),
    MeasureDef("usage_change", "Usage change vs previous 30 days", U, "%", ("usage",), _usage_change,
               breakpoints=[[-50, 0], [0, 70], [20, 100]],
               help="Events of the last 30 days vs the 30 before: ((this ÷ previous) - 1) x 100."),
    MeasureDef("open_tickets", "Open tickets", S, "tickets", ("support",),
               lambda r: float(r["support"]["open"]) if r["support"] else 0.0,
               direction=LOWER, breakpoints=[[0, 100], [5, 50], [15, 0]], help="Tickets open or pending."),
    MeasureDef("escalations", "Escalations (90 days)", S, "tickets", ("support",),
               lambda r: float(r["support"]["escalations"]) if r["support"] else 0.0,
               direction=LOWER, breakpoints=[[0, 100], [1, 50], [3, 0]],
               help="Escalated tickets opened in the last 90 days."),
    MeasureDef("avg_response_hours", "Average response time", S, "hours", ("support",), _avg_response_hours,
               direction=LOWER, breakpoints=[[1, 100], [8, 70], [48, 0]],
               help="Glossary: Response Time, the average time to first response, over tickets of the last 90 days."),
    MeasureDef("days_since_touchpoint", "Days since last touchpoint", E, "days", ("account",), _days_since_touchpoint,
               direction=LOWER, breakpoints=[[0, 100], [30, 70], [90, 0]],
               help="Days since the CSM last logged a touchpoint."),
    MeasureDef("days_to_renewal", "Days to renewal", F_, "days", (C,), _days_to_renewal,
               breakpoints=[[0, 0], [30, 30], [90, 70], [180, 100]],
               help="Days until the earliest end date of the contracts in force."),
    MeasureDef("arr_change_90d", "ARR change (90 days)", F_, "%", (C,), _arr_change,
               breakpoints=[[-20, 0], [0, 70], [10, 100]],
               help="ARR of contracts in force today vs 90 days ago: ((now ÷ then) - 1) x 100 (ARR = MRR x 12)."),
    MeasureDef("csm_sentiment", "CSM sentiment", MeasureGroup.CSM_SENTIMENT, "pulse", ("sentiment",), _sentiment,
               breakpoints=[[0, 0], [100, 100]],
               help="The CSM's latest red/yellow/green pulse: red 0, yellow 50, green 100."),
]:  # fmt: skip
    register(_m)

# The surveys group registers itself here so it exists wherever the registry is read.
from health import survey_measures  # noqa: E402, F401
