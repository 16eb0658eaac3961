"""Does health predict churn? Renewal outcomes from the revenue history against the health score 90 days before.

A *renewal event* is a contract that counted toward MRR and reached its last day in the past: its natural end
date, or the day before an early cancellation (an amendment, i.e. a cancelled contract replaced by a successor,
is not an event). The account *churned* at that event when no contract of it is in force the next day (the same
in-force rule as ``accounts.selectors.contract_in_force_q``), else it *renewed*. For each event the health
snapshot taken ``LEAD_DAYS`` before the last day (the latest one in the ``WINDOW_DAYS`` before that) gives the
score, band and per-measure points the CSM saw at the time.

From these: churn rate per band (also the renewal rate per band the forecast weights with), and the ROC AUC of
the score as a churn predictor (the probability that a churned account scored lower than a renewed one; 0.5 is
a coin toss), overall and per measure. Three queries whatever the number of accounts.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Cast, Coalesce, Least
from django.utils import timezone

from accounts.models import Account, Contract, ContractStatus
from accounts.selectors import contract_counts_q
from health.models import Band, HealthSnapshot

LEAD_DAYS = 90
WINDOW_DAYS = 90
LOOKBACK_DAYS = 3 * 365
ONE_DAY = dt.timedelta(days=1)
BANDS = (Band.GREEN, Band.YELLOW, Band.RED)


@dataclass
class Event:
    """One renewal event: the contract, its account, the last day it counted, whether the logo churned, its ARR,
    and the health seen ``LEAD_DAYS`` before (None when no snapshot was taken then)."""

    contract_id: int
    account_id: int
    last_day: dt.date
    churned: bool
    arr: Decimal
    score: float | None = None
    band: str = ""
    points: dict[str, float] = field(default_factory=dict)


def _in_force_on_q(day_ref) -> Q:
    """``contract_in_force_q`` with the day taken from the outer query (a subquery reference)."""
    return (
        contract_counts_q()
        & Q(start_date__lte=day_ref, end_date__gte=day_ref)
        & (Q(cancelled_on__isnull=True) | Q(cancelled_on__gt=day_ref))
    )


def renewal_events(
    *, accounts: QuerySet[Account] | None = None, today: dt.date | None = None, lookback_days: int = LOOKBACK_DAYS
) -> list[Event]:
    """Renewal events whose outcome is known (the day after them is today or earlier), with the health score
    ``LEAD_DAYS`` before each. Two queries: the events with their outcome and snapshot id, then the snapshots."""
    today = today or timezone.localdate()
    date = DateField()
    qs = (
        Contract.objects.filter(contract_counts_q(), arr__gt=0)
        .annotate(
            # The day after the contract last counted: the day after its end, or its cancellation day if earlier.
            next_day=Least(
                Coalesce(F("cancelled_on"), _plus(F("end_date"), 1)), _plus(F("end_date"), 1), output_field=date
            )
        )
        .filter(next_day__lte=today, next_day__gt=today - dt.timedelta(days=lookback_days))
        # Amended contracts (cancelled and replaced by a successor) are not renewal decisions.
        .exclude(Q(status=ContractStatus.CANCELLED) & Exists(Contract.objects.filter(previous=OuterRef("pk"))))
        .annotate(
            renewed=Exists(
                Contract.objects.filter(_in_force_on_q(OuterRef("next_day")), account_id=OuterRef("account_id"))
                .exclude(pk=OuterRef("pk"))
                .values("pk")
            ),
            lead_day=_plus(F("next_day"), -(LEAD_DAYS + 1)),
            window_start=_plus(F("next_day"), -(LEAD_DAYS + WINDOW_DAYS + 1)),
        )
    )
    if accounts is not None:
        qs = qs.filter(account_id__in=accounts.order_by().values("id"))
    snapshot = HealthSnapshot.objects.filter(
        account_id=OuterRef("account_id"),
        as_of__lte=OuterRef("lead_day"),
        as_of__gt=OuterRef("window_start"),
        score__isnull=False,
    ).order_by("-as_of", "-computed_at", "-id")
    rows = list(
        qs.annotate(snapshot_id=Subquery(snapshot.values("id")[:1]))
        .order_by("next_day", "id")
        .values_list("id", "account_id", "next_day", "renewed", "arr", "snapshot_id")
    )
    snapshot_ids = [row[5] for row in rows if row[5] is not None]
    snapshots = {}
    if snapshot_ids:
        snapshots = {
            s["id"]: s
            for s in HealthSnapshot.objects.filter(id__in=snapshot_ids).values("id", "score", "band", "breakdown")
        }
    events = []
    for contract_id, account_id, next_day, renewed, arr, snapshot_id in rows:
        event = Event(contract_id, account_id, _as_date(next_day) - ONE_DAY, not renewed, arr or Decimal("0"))
        if snap := snapshots.get(snapshot_id):
            event.score, event.band = snap["score"], snap["band"]
            event.points = {
                key: float(part["points"])
                for key, part in (snap["breakdown"] or {}).items()
                if isinstance(part, dict) and not part.get("missing") and part.get("points") is not None
            }
        events.append(event)
    return events


class _ShiftDays(Func):
    """A date moved by whole days, in the database's own date arithmetic (PostgreSQL ``date + integer``, SQLite
    ``date(x, '+N days')``), so correlated subqueries stay cheap (Django's generic duration maths calls back into
    Python on SQLite, once per row of every subquery)."""

    output_field = DateField()

    def __init__(self, expression, days: int):
        super().__init__(expression)
        self.days = int(days)

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(({sql}) + {self.days})", params

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"date({sql}, '{self.days:+d} days')", params

    def as_sql(self, compiler, connection, **extra):
        expression = Cast(
            ExpressionWrapper(self.source_expressions[0] + dt.timedelta(days=self.days), output_field=DateField()),
            DateField(),
        )
        return compiler.compile(expression)


def _plus(expr, days: int) -> _ShiftDays:
    return _ShiftDays(expr, days)


def _as_date(value) -> dt.date:
    # SQLite hands back annotated dates as text.
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value.date() if isinstance(value, dt.datetime) else value


def roc_auc(pairs: list[tuple[float, bool]]) -> float | None:
    """ROC AUC of a health value as a churn predictor (lower value = more likely to churn): the Mann-Whitney
    probability that a churned event has a lower value than a renewed one, ties counting half. ``None`` when
    either outcome is missing (the AUC is undefined, not 0.5)."""
    churned = sum(1 for _, c in pairs if c)
    renewed = len(pairs) - churned
    if not churned or not renewed:
        return None
    # Rank by value descending, so that a high rank means "looks healthy"; average ranks over ties.
    ordered = sorted(pairs, key=lambda p: p[0])
    rank_sum_renewed, i = 0.0, 0
    while i < len(ordered):
        j = i
        while j < len(ordered) and ordered[j][0] == ordered[i][0]:
            j += 1
        avg_rank = (i + 1 + j) / 2  # ranks i+1..j
        rank_sum_renewed += avg_rank * sum(1 for k in range(i, j) if not ordered[k][1])
        i = j
    u_renewed = rank_sum_renewed - renewed * (renewed + 1) / 2
    return u_renewed / (churned * renewed)


def _rate(part: int, whole: int) -> float | None:
    return None if not whole else part / whole


def backtest(events: list[Event]) -> dict:
    """Churn rate per band, the score's AUC and each measure's AUC over the events that had a snapshot."""
    scored = [e for e in events if e.score is not None]
    bands = []
    for band in BANDS:
        in_band = [e for e in scored if e.band == band]
        churned = sum(1 for e in in_band if e.churned)
        bands.append(
            {
                "band": band,
                "label": Band(band).label,
                "events": len(in_band),
                "churned": churned,
                "renewed": len(in_band) - churned,
                "churn_rate": _rate(churned, len(in_band)),
                "renewal_rate": _rate(len(in_band) - churned, len(in_band)),
                "arr": sum((e.arr for e in in_band), Decimal("0")),
            }
        )
    per_measure: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for e in scored:
        for key, points in e.points.items():
            per_measure[key].append((points, e.churned))
    measures = sorted(
        (
            {"key": key, "events": len(pairs), "auc": roc_auc(pairs), "churned": sum(1 for _, c in pairs if c)}
            for key, pairs in per_measure.items()
        ),
        key=lambda m: (-(m["auc"] if m["auc"] is not None else -1), m["key"]),
    )
    for m in measures:
        m["signal"] = signal_label(m["auc"])
    churned_all = sum(1 for e in events if e.churned)
    auc = roc_auc([(e.score, e.churned) for e in scored])
    return {
        "events": len(events),
        "scored": len(scored),
        "churned": churned_all,
        "churn_rate": _rate(churned_all, len(events)),
        "renewal_rate": _rate(len(events) - churned_all, len(events)),
        "bands": bands,
        "auc": auc,
        "signal": signal_label(auc),
        "measures": measures,
    }


def signal_label(auc: float | None) -> str:
    """Plain words for an AUC: how well a value separates churned from renewed accounts."""
    if auc is None:
        return "not enough outcomes"
    if auc >= 0.8:
        return "strong"
    if auc >= 0.7:
        return "useful"
    if auc >= 0.6:
        return "weak"
    if auc > 0.4:
        return "no signal"
    return "inverted (higher looks riskier)"


def renewal_rates_by_band(*, today: dt.date | None = None) -> dict[str, float | None]:
    """Historical renewal rate per health band (company-wide, all renewal events with a snapshot), plus ``""``:
    the rate over every event, for accounts without a band. What the renewal forecast weights ARR with."""
    result = backtest(renewal_events(today=today))
    rates: dict[str, float | None] = {b["band"]: b["renewal_rate"] for b in result["bands"]}
    rates[""] = result["renewal_rate"]
    return rates
