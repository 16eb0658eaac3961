"""Data of the team and portfolio dashboards and of the CSM's book summary, for a validated ``DashboardFilters``.

Every figure reads the one definitions: the period's MRR movements and ratios from
``metrics.selectors.revenue_summary`` (the ledger), ARR in force from ``accounts.selectors.contract_in_force_q``.
Each block is a fixed number of aggregate queries whatever the number of accounts (tests pin them).
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import Account, Contract, Tier
from accounts.selectors import contract_in_force_q, mrr_from_arr
from csp.models import User
from health.models import AccountHealth, Band
from metrics.forecast import upcoming_contracts
from metrics.scope import DashboardFilters, add_months, month_end, quarter_label, quarter_start
from metrics.selectors import revenue_series, revenue_summary
from playbooks.models import CTA
from playbooks.selectors import cta_active_q
from segments.models import Segment
from segments.selectors import segment_account_ids_q

BANDS = (Band.GREEN, Band.YELLOW, Band.RED)


def waterfall(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The MRR bridge of a period: start, + new, + expansion, - contraction, - churned, = end. Each step carries
    the floating bar's low and high, for the chart, and its drill-down movement."""
    steps, level = [], summary["mrr_start"]
    steps.append({"label": "MRR at start", "value": level, "low": 0, "high": level, "kind": "total", "drill": "start"})
    for key, label, sign, drill in (
        ("new_mrr", "New", 1, "new"),
        ("expansion_mrr", "Expansion", 1, "expansion"),
        ("contraction_mrr", "Contraction", -1, "contraction"),
        ("churned_mrr", "Churned", -1, "churned"),
    ):
        value = summary[key]
        after = level + sign * value
        steps.append(
            {
                "label": label,
                "value": sign * value,
                "low": min(level, after),
                "high": max(level, after),
                "kind": "up" if sign > 0 else "down",
                "drill": drill,
            }
        )
        level = after
    end = summary["mrr_end"]
    steps.append({"label": "MRR at end", "value": end, "low": 0, "high": end, "kind": "total", "drill": "end"})
    return steps


def trend(*, accounts: QuerySet[Account], end: dt.date, months: int = 12) -> list[dict[str, Any]]:
    """NRR, GRR and logo churn of each of the ``months`` calendar months up to ``end``'s month, from the ledger's
    monthly snapshots in one statement (``metrics.selectors.revenue_series``)."""
    firsts = [add_months(end, -i) for i in range(months - 1, -1, -1)]
    series = revenue_series(periods=[(first, month_end(first)) for first in firsts], accounts=accounts)
    return [
        {
            "month": s["start"],
            "label": s["start"].strftime("%Y-%m"),
            "start": s["start"],
            "end": s["end"],
            "nrr_pct": s["nrr_pct"],
            "grr_pct": s["grr_pct"],
            "logo_churn_pct": s["logo_churn_pct"],
            "mrr_end": s["mrr_end"],
        }
        for s in series
    ]


def per_csm(flt: DashboardFilters) -> list[dict[str, Any]]:
    """Per account owner in scope: book size, ARR in force, health mix, overdue CTAs (capacity). Five queries:
    books, ARR, health, overdue CTAs, the owners."""
    accounts = flt.accounts().order_by().values("id")
    day = min(flt.end, flt.today)
    books = dict(
        flt.accounts().exclude(owner=None).order_by().values("owner").annotate(n=Count("id")).values_list("owner", "n")
    )
    arr = dict(
        Contract.objects.filter(contract_in_force_q(day), account_id__in=accounts)
        .exclude(account__owner=None)
        .order_by()
        .values("account__owner")
        .annotate(total=Sum("arr"))
        .values_list("account__owner", "total")
    )
    health: dict[int, dict[str, int]] = defaultdict(dict)
    for owner, band, n in (
        AccountHealth.objects.filter(account_id__in=accounts)
        .exclude(account__owner=None)
        .order_by()
        .values("account__owner", "band")
        .annotate(n=Count("account"))
        .values_list("account__owner", "band", "n")
    ):
        health[owner][band] = n
    overdue = dict(
        CTA.objects.filter(cta_active_q(flt.today), due_date__lt=flt.today, account_id__in=accounts)
        .exclude(owner=None)
        .order_by()
        .values("owner")
        .annotate(n=Count("id"))
        .values_list("owner", "n")
    )
    owner_ids = set(books) | set(overdue)
    allowed = flt.owner_ids()
    owners = User.objects.filter(pk__in=owner_ids)
    if allowed is not None:
        owners = owners.filter(pk__in=allowed)
    rows = []
    for owner in owners.order_by("full_name", "email"):
        mix = health.get(owner.pk, {})
        total_arr = arr.get(owner.pk) or Decimal("0")
        rows.append(
            {
                "owner": owner,
                "accounts": books.get(owner.pk, 0),
                "arr": total_arr,
                "mrr": mrr_from_arr(total_arr),
                "health": {band: mix.get(band, 0) for band in BANDS},
                "unscored": books.get(owner.pk, 0) - sum(mix.get(band, 0) for band in BANDS),
                "overdue_ctas": overdue.get(owner.pk, 0),
            }
        )
    return rows


def renewals_by_quarter(flt: DashboardFilters, quarters: int = 4) -> list[dict[str, Any]]:
    """Contracts up for renewal in this quarter and the next ones, with their ARR and how many are signed, churned
    or open (one query)."""
    first = quarter_start(flt.today)
    last = add_months(first, 3 * quarters) - dt.timedelta(days=1)
    buckets = {
        quarter_label(add_months(first, 3 * i)): {
            "quarter": quarter_label(add_months(first, 3 * i)),
            "contracts": 0,
            "arr": Decimal("0"),
            "signed": 0,
            "churned": 0,
            "open": 0,
        }
        for i in range(quarters)
    }
    for contract in upcoming_contracts(accounts=flt.accounts(), start=first, end=last):
        row = buckets[quarter_label(contract.end_date)]
        row["contracts"] += 1
        row["arr"] += contract.arr
        stage = getattr(getattr(contract, "renewal", None), "stage", "")
        row["signed" if stage == "signed" else "churned" if stage == "churned" else "open"] += 1
    return list(buckets.values())


def health_mix(accounts: QuerySet[Account]) -> dict[str, int]:
    """Accounts per health band (one query); ``unscored`` counts the accounts without a score."""
    counts = dict(
        AccountHealth.objects.filter(account_id__in=accounts.order_by().values("id"))
        .order_by()
        .values("band")
        .annotate(n=Count("account"))
        .values_list("band", "n")
    )
    return {band: counts.get(band, 0) for band in BANDS}


def team_dashboard(flt: DashboardFilters) -> dict[str, Any]:
    """Everything the team dashboard shows for the filters."""
    accounts = flt.accounts()
    summary = revenue_summary(start=flt.start, end=flt.end, accounts=accounts)
    return {
        "summary": summary,
        "waterfall": waterfall(summary),
        "trend": trend(accounts=accounts, end=flt.end),
        "csm_rows": per_csm(flt),
        "renewals": renewals_by_quarter(flt),
    }


def breakdown(flt: DashboardFilters) -> dict[str, list[dict[str, Any]]]:
    """The portfolio's rows: the period's figures per tier and per saved segment (one ledger statement each)."""
    base = flt.accounts()
    tiers = []
    for value, label in Tier.choices:
        summary = revenue_summary(start=flt.start, end=flt.end, accounts=base.filter(tier=value), with_movements=False)
        tiers.append({"key": value, "label": label, "summary": summary, "params": {"tier": value}})
    segments = []
    for segment in Segment.objects.order_by("name"):
        scoped = base.filter(**segment_account_ids_q(segment, today=flt.today))
        summary = revenue_summary(start=flt.start, end=flt.end, accounts=scoped, with_movements=False)
        segments.append(
            {"key": segment.pk, "label": segment.name, "summary": summary, "params": {"segment": segment.pk}}
        )
    return {"tiers": tiers, "segments": segments}


def portfolio_dashboard(flt: DashboardFilters) -> dict[str, Any]:
    """The whole company (within the filters): the period, its bridge, the trend, health mix, tiers, segments."""
    accounts = flt.accounts()
    summary = revenue_summary(start=flt.start, end=flt.end, accounts=accounts)
    return {
        "summary": summary,
        "waterfall": waterfall(summary),
        "trend": trend(accounts=accounts, end=flt.end),
        "health": health_mix(accounts),
        "breakdown": breakdown(flt),
        "renewals": renewals_by_quarter(flt),
    }


def book_accounts(user: User) -> QuerySet[Account]:
    return Account.objects.filter(Q(owner=user))


def book_summary(*, user: User, today: dt.date | None = None) -> dict[str, Any]:
    """ "My book" on the CSM home: ARR in force today, this quarter so far (NRR, MRR movements) and the health mix
    of the accounts the user owns. Three queries."""
    today = today or timezone.localdate()
    accounts = book_accounts(user)
    start = quarter_start(today)
    summary = revenue_summary(start=start, end=today, accounts=accounts, with_movements=False)
    return {
        "start": start,
        "end": today,
        "period": quarter_label(today),
        "summary": summary,
        "arr": summary["arr_end"],
        "nrr_pct": summary["nrr_pct"],
        "health": health_mix(accounts),
    }
