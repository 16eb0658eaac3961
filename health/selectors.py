"""Reads of health: current rows, history, and the explanation of a score and of its last change."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Case, F, IntegerField, OuterRef, QuerySet, Subquery, When
from django.utils import timezone

from health.measures import MEASURES
from health.models import AccountHealth, HealthOverride, HealthSnapshot, MeasureGroup, Scorecard, SentimentPulse
from health.scoring import expand

CHART_DAYS = 180


def scorecard_list() -> QuerySet[Scorecard]:
    return Scorecard.objects.prefetch_related("measures", "segments")


def current_list() -> QuerySet[AccountHealth]:
    return AccountHealth.objects.select_related("account", "scorecard", "override", "override__created_by")


def override_list() -> QuerySet[HealthOverride]:
    return HealthOverride.objects.select_related("account", "account__owner", "created_by", "ended_by")


def sentiment_list() -> QuerySet[SentimentPulse]:
    return SentimentPulse.objects.select_related("account", "set_by")


def current_health(account_id: int) -> AccountHealth | None:
    return current_list().filter(account_id=account_id).first()


def history(account_id: int, days: int = CHART_DAYS, today: dt.date | None = None) -> list[HealthSnapshot]:
    """The account's snapshots of the last ``days`` days, oldest first (one query)."""
    today = today or timezone.localdate()
    return list(
        HealthSnapshot.objects.filter(account_id=account_id, as_of__gt=today - dt.timedelta(days=days))
        .select_related("scorecard")
        .order_by("computed_at", "id")
    )


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "no data"
    number = f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.1f}"
    if unit == "%":
        return f"{number}%"
    if unit == "pulse":
        return {0: "red", 50: "yellow", 100: "green"}.get(round(value), number)
    if unit in ("days", "hours"):
        return f"{number} {unit[:-1] if number == '1' else unit}"  # "1 day", not "1 days"
    return number


@dataclass
class MeasureRow:
    key: str
    label: str
    group: str
    help: str
    value: str
    points: float | None
    weight: float
    weight_share: float | None
    contribution: float | None
    missing: bool


@dataclass
class Change:
    key: str
    text: str
    delta: float


def _entries(snapshot: HealthSnapshot) -> dict[str, dict]:
    return {key: expand(entry) for key, entry in snapshot.breakdown.items()}


def measure_rows(snapshot: HealthSnapshot) -> list[MeasureRow]:
    """The breakdown of one snapshot, labelled and ordered by group, for the Health tab."""
    entries = _entries(snapshot)
    counted = sum(d["weight"] for d in entries.values() if d["points"] is not None) or 0
    rows = []
    for key, d in entries.items():
        mdef = MEASURES.get(key)
        rows.append(
            MeasureRow(
                key=key,
                label=mdef.label if mdef else key,
                group=MeasureGroup(mdef.group).label if mdef else "",
                help=mdef.help if mdef else "",
                value=_fmt(d["value"], mdef.unit if mdef else ""),
                points=d["points"],
                weight=d["weight"],
                weight_share=round(100 * d["weight"] / counted, 1) if counted and d["points"] is not None else None,
                contribution=d["contribution"],
                missing=d["missing"],
            )
        )
    order = list(MeasureGroup.labels)
    return sorted(rows, key=lambda r: order.index(r.group) if r.group in order else len(order))


def _differs(a: HealthSnapshot, b: HealthSnapshot) -> bool:
    if a.score != b.score:
        return True
    return any((a.breakdown.get(k) or [None])[0] != entry[0] for k, entry in b.breakdown.items())


def what_changed(older: HealthSnapshot, newer: HealthSnapshot) -> list[Change]:
    """Why the score moved between two snapshots, biggest effect first: each measure whose raw value or
    contribution changed, with its effect on the score in points (contributions add up to the score)."""
    days = max((newer.as_of - older.as_of).days, 0)
    span = f"over {days} day{'s' if days != 1 else ''}" if days else "today"
    changes = []
    old_entries, new_entries = _entries(older), _entries(newer)
    for key in dict.fromkeys([*new_entries, *old_entries]):
        a, b = old_entries.get(key), new_entries.get(key)
        mdef = MEASURES.get(key)
        label, unit = (mdef.label, mdef.unit) if mdef else (key, "")
        delta = round(((b or {}).get("contribution") or 0) - ((a or {}).get("contribution") or 0), 1)
        if a is None:
            changes.append(Change(key, f"{label} was added to the scorecard: {delta:+g} points", delta))
            continue
        if b is None:
            changes.append(Change(key, f"{label} was removed from the scorecard: {delta:+g} points", delta))
            continue
        va, vb = a["value"], b["value"]
        if va == vb:
            if abs(delta) >= 0.1:
                why = "its weight share changed as other measures gained or lost data"
                changes.append(
                    Change(key, f"{label} unchanged at {_fmt(vb, unit)}, but {why}: {delta:+g} points", delta)
                )
            continue
        if va is None:
            text = f"{label} now has data: {_fmt(vb, unit)} {span}"
        elif vb is None:
            text = f"{label} has no data any more (was {_fmt(va, unit)}) {span}"
        else:
            verb = "rose" if vb > va else "fell"
            text = f"{label} {verb} from {_fmt(va, unit)} to {_fmt(vb, unit)} {span}"
        changes.append(Change(key, f"{text}: {delta:+g} points", delta))
    return sorted(changes, key=lambda c: -abs(c.delta))


def explanation(account_id: int, today: dt.date | None = None) -> dict:
    """Everything the Health tab shows, from the current row and the snapshots of the last 180 days (2 queries)."""
    current = current_health(account_id)
    snaps = history(account_id, today=today)
    latest = snaps[-1] if snaps else None
    result: dict = {"current": current, "latest": latest, "rows": [], "changes": [], "compared_with": None}
    if latest is None:
        return result
    result["rows"] = measure_rows(latest)
    older = next((s for s in reversed(snaps[:-1]) if _differs(s, latest)), None)
    if older is not None:
        result["compared_with"] = older
        result["changes"] = what_changed(older, latest)
    result["chart"] = chart_data(snaps)
    return result


def pluralize_days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def chart_data(snaps: list[HealthSnapshot]) -> dict:
    """One point per day (the day's last snapshot): the score and each measure's points, for Chart.js."""
    by_day: dict[dt.date, HealthSnapshot] = {}
    for snap in snaps:
        by_day[snap.as_of] = snap
    days = sorted(by_day)
    keys = list(dict.fromkeys(k for d in days for k in by_day[d].breakdown))
    span = (days[-1] - days[0]).days + 1 if days else 0
    # The title says what the chart shows: a shorter history is not "the last 180 days".
    title = f"Last {CHART_DAYS} days" if span >= CHART_DAYS else f"Since {days[0]:%Y-%m-%d} ({pluralize_days(span)})"
    return {
        "title": title,
        "labels": [d.isoformat() for d in days],
        "score": [by_day[d].score for d in days],
        "measures": [
            {
                "key": k,
                "label": MEASURES[k].label if k in MEASURES else k,
                "points": [(by_day[d].breakdown.get(k) or [None, None])[1] for d in days],
                "values": [(by_day[d].breakdown.get(k) or [None])[0] for d in days],
            }
            for k in keys
        ],
    }


def override_history(account_id: int) -> list[HealthOverride]:
    return list(override_list().filter(account_id=account_id)[:20])


def latest_sentiment(account_id: int) -> SentimentPulse | None:
    return sentiment_list().filter(account_id=account_id).first()


def band_changes(*, owner_ids: Iterable[int], since: dt.date) -> QuerySet[AccountHealth]:
    """Accounts of these owners whose band today differs from their band on ``since`` (the last snapshot
    scored on or before that day), annotated with ``band_before`` and ``score_before``; worst band first.
    One query: rows that have not moved since ``since`` are cut by ``changed_at`` before the subqueries run."""
    before = HealthSnapshot.objects.filter(account_id=OuterRef("account_id"), as_of__lte=since).order_by(
        "-as_of", "-computed_at", "-id"
    )
    band_rank = Case(When(band="red", then=0), When(band="yellow", then=1), default=2, output_field=IntegerField())
    return (
        AccountHealth.objects.select_related("account", "account__owner")
        .filter(account__owner_id__in=owner_ids, changed_at__date__gt=since)
        .annotate(band_before=Subquery(before.values("band")[:1]), score_before=Subquery(before.values("score")[:1]))
        .filter(band_before__isnull=False)
        .exclude(band_before="")
        .exclude(band=F("band_before"))
        .order_by(band_rank, "-changed_at")
    )
