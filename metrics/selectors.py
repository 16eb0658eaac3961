"""Reads of revenue metrics: the period summary of the ledger (MRR movements, retention, churn, customers) for
any scope, set-based (one aggregate statement over the accounts' per-account figures, never a Python loop per
account). Formulas live in ``metrics.formulas``; the definition of MRR in force in ``accounts.selectors``."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from accounts.models import Account, Contract
from accounts.selectors import contract_counts_q, contract_in_force_q, mrr_from_arr
from metrics import formulas as f
from metrics.models import MrrMonth

CENT = Decimal("0.01")
ZERO = Decimal("0")
MOVEMENTS = ("new", "reactivation", "expansion", "contraction", "churned")
# The movement of one account between the period's first day (a0: ARR in force) and last day (a1).
_MOVEMENT_SQL = {
    "new": "t.a0 = 0 AND t.a1 > 0",
    "expansion": "t.a0 > 0 AND t.a1 > t.a0",
    "contraction": "t.a0 > 0 AND t.a1 > 0 AND t.a1 < t.a0",
    "churned": "t.a0 > 0 AND t.a1 = 0",
}


def _had_revenue_before_sql(start: dt.date) -> str:
    """SQL: the account of row ``t`` had a counting contract on some day before ``start`` (reactivation). Only
    evaluated for "new" accounts (CASE short-circuits), an index probe on (account, start_date) each. The date
    is a date object's ISO text, not user input."""
    return (
        "EXISTS (SELECT 1 FROM accounts_contract p WHERE p.account_id = t.account_id "
        f"AND p.start_date < '{start.isoformat()}' AND p.status <> 'draft' "
        "AND NOT (p.status = 'cancelled' AND p.cancelled_on IS NULL) AND p.arr > 0 "
        "AND (p.cancelled_on IS NULL OR p.cancelled_on > p.start_date))"
    )


def _movement_sql(start: dt.date) -> dict[str, str]:
    return _MOVEMENT_SQL | {"reactivation": f"{_MOVEMENT_SQL['new']} AND {_had_revenue_before_sql(start)}"}


def _dec(value: Any) -> Decimal:
    """Database sums as exact Decimals (PostgreSQL returns numerics; SQLite floats of cent amounts)."""
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    return Decimal(repr(value)).quantize(CENT) if isinstance(value, float) else Decimal(value)


def _account_ids(accounts: QuerySet | None) -> QuerySet | None:
    # None: every account, no filter at all (an unfiltered Account queryset is the same scope, cheaper as None).
    if accounts is None or (accounts.model is Account and not accounts.query.where):
        return None
    return accounts.order_by().values("id") if accounts.model is Account else accounts


def per_account_arr(*, start: dt.date, end: dt.date, accounts: QuerySet | None = None) -> QuerySet:
    """Per account with revenue in the period: ``a0`` ARR in force on ``start``, ``a1`` on ``end``. One GROUP BY
    over the contracts overlapping the period (only they can count on either day)."""
    qs = Contract.objects.filter(contract_counts_q(), arr__gt=0, start_date__lte=end, end_date__gte=start).filter(
        Q(cancelled_on__isnull=True) | Q(cancelled_on__gt=start)
    )
    ids = _account_ids(accounts)
    if ids is not None:
        qs = qs.filter(account_id__in=ids)
    zero = Value(ZERO)
    return (
        qs.order_by()
        .values("account_id")
        .annotate(
            a0=Coalesce(Sum("arr", filter=contract_in_force_q(start)), zero),
            a1=Coalesce(Sum("arr", filter=contract_in_force_q(end)), zero),
        )
    )


def _summary_sql(inner: QuerySet, start: dt.date) -> tuple[str, list]:
    sql, params = inner.query.sql_with_params()
    _MOVEMENT_SQL = _movement_sql(start)  # the table of this period, with its reactivation test
    cases = ",\n".join(
        [
            f"SUM(CASE WHEN {_MOVEMENT_SQL['new']} THEN t.a1 ELSE 0 END)",
            f"SUM(CASE WHEN {_MOVEMENT_SQL['reactivation']} THEN t.a1 ELSE 0 END)",
            f"SUM(CASE WHEN {_MOVEMENT_SQL['expansion']} THEN t.a1 - t.a0 ELSE 0 END)",
            f"SUM(CASE WHEN {_MOVEMENT_SQL['contraction']} THEN t.a0 - t.a1 ELSE 0 END)",
            f"SUM(CASE WHEN {_MOVEMENT_SQL['churned']} THEN t.a0 ELSE 0 END)",
            "SUM(CASE WHEN t.a0 > 0 THEN 1 ELSE 0 END)",
            "SUM(CASE WHEN t.a1 > 0 THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN {_MOVEMENT_SQL['churned']} THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN {_MOVEMENT_SQL['new']} THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN {_MOVEMENT_SQL['reactivation']} THEN 1 ELSE 0 END)",
        ]
    )
    return f"SELECT SUM(t.a0), SUM(t.a1),\n{cases}\nFROM ({sql}) t", list(params)


def _is_empty(accounts: QuerySet | None) -> bool:
    # An empty scope (``.none()``) cannot be compiled to SQL: answer without a query.
    return accounts is not None and accounts.query.is_empty()


def movement_totals(*, start: dt.date, end: dt.date, accounts: QuerySet | None = None) -> dict[str, Any]:
    """ARR at both ends of the period, ARR per movement and customer counts of a scope (one statement)."""
    row: tuple = (None,) * 12
    if not _is_empty(accounts):
        sql, params = _summary_sql(per_account_arr(start=start, end=end, accounts=accounts), start)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
    keys = ("arr_start", "arr_end", "new", "reactivation", "expansion", "contraction", "churned")
    out: dict[str, Any] = {key: _dec(value) for key, value in zip(keys, row[:7], strict=True)}
    counts = ("customers_start", "customers_end", "logos_churned", "logos_new", "logos_reactivated")
    out.update({key: int(value or 0) for key, value in zip(counts, row[7:], strict=True)})
    return out


def movement_account_ids(
    *, start: dt.date, end: dt.date, accounts: QuerySet | None = None, movement: str | None = None
) -> dict[str, list[int]]:
    """Ids of the accounts in each movement (or one movement), for drill-downs (one statement)."""
    kinds = [movement] if movement else list(MOVEMENTS)
    if _is_empty(accounts):
        return {k: [] for k in kinds}
    sql, params = per_account_arr(start=start, end=end, accounts=accounts).query.sql_with_params()
    kinds_sql = [k for k in kinds if k != "reactivation"] or ["new"]
    cases = " ".join(f"WHEN {_MOVEMENT_SQL[k]} THEN %s" for k in kinds_sql)
    reactivated = f"CASE WHEN {_movement_sql(start)['reactivation']} THEN 1 ELSE 0 END"
    select = f"SELECT t.account_id, CASE {cases} ELSE NULL END, {reactivated} FROM ({sql}) t ORDER BY 1"
    result: dict[str, list[int]] = {k: [] for k in kinds}
    with connection.cursor() as cursor:
        cursor.execute(select, [*kinds_sql, *params])
        for account_id, kind, was_customer in cursor.fetchall():
            if kind in result:
                result[kind].append(account_id)
            if kind == "new" and was_customer and "reactivation" in result:
                result["reactivation"].append(account_id)
    return result


def revenue_summary(
    *, start: dt.date, end: dt.date, accounts: QuerySet | None = None, with_movements: bool = True
) -> dict[str, Any]:
    """Every ledger figure of a period [start, end] for a scope (an Account queryset; None = all accounts):
    MRR at both ends, MRR movements (new incl. reactivation, reactivation, expansion, contraction, churned),
    NRR, GRR, gross/net MRR churn, dollar churn, customers, logo churn, CGR, ARPU (glossary formulas,
    ``metrics.formulas``), and ``movements`` = {movement: [account ids]}. Money in MRR units (cents), %
    rounded to 2 decimals, ``None`` where a denominator is 0. Two statements (one without movements)."""
    t = movement_totals(start=start, end=end, accounts=accounts)
    # Every ratio is taken on exact ARR sums; ARR = 12 x MRR so the ratios are those of MRR.
    a0, a1 = t["arr_start"], t["arr_end"]
    summary: dict[str, Any] = {
        "start": start,
        "end": end,
        "mrr_start": mrr_from_arr(a0),
        "mrr_end": mrr_from_arr(a1),
        "arr_start": f.money(a0),
        "arr_end": f.money(a1),
        "new_mrr": mrr_from_arr(t["new"]),
        "reactivation_mrr": mrr_from_arr(t["reactivation"]),
        "expansion_mrr": mrr_from_arr(t["expansion"]),
        "contraction_mrr": mrr_from_arr(t["contraction"]),
        "churned_mrr": mrr_from_arr(t["churned"]),
        "net_new_mrr": mrr_from_arr(a1 - a0),
        "nrr_pct": f.nrr_pct(a0, t["expansion"], t["churned"], t["contraction"]),
        "grr_pct": f.grr_pct(a0, t["churned"], t["contraction"]),
        "gross_mrr_churn_pct": f.gross_mrr_churn_pct(t["churned"], a0),
        "net_mrr_churn_pct": f.net_mrr_churn_pct(t["churned"], t["expansion"], a0),
        "dollar_churn_pct": f.dollar_churn_pct(a0, a1, t["expansion"]),
        "growth_rate_pct": f.growth_rate_pct(a1, a0),
        "customers_start": t["customers_start"],
        "customers_end": t["customers_end"],
        "logos_new": t["logos_new"],
        "logos_reactivated": t["logos_reactivated"],
        "logos_churned": t["logos_churned"],
        "logo_churn_pct": f.logo_churn_pct(t["logos_churned"], t["customers_start"]),
        "cgr_pct": f.cgr_pct(t["customers_end"], t["customers_start"]),
        "arpu": f.arpu(a1 / 12, t["customers_end"]),
    }
    if with_movements:
        summary["movements"] = movement_account_ids(start=start, end=end, accounts=accounts)
    return summary


def revenue_series(*, periods: list[tuple[dt.date, dt.date]], accounts: QuerySet | None = None) -> list[dict[str, Any]]:
    """Ledger figures for several month-aligned periods at once (e.g. the last 12 months for NRR/GRR and
    logo churn trends), read from the monthly snapshots (``metrics.models.MrrMonth``) in ONE statement:
    each period [first day of a month, last day of a month] compares the ARR in force on its first day with
    the ARR on its last day per account. Same movements and formulas as ``revenue_summary`` (which also
    splits out reactivation, needing each account's whole history, so it is not in the series)."""
    if not periods:
        return []

    values = ", ".join(["(%s, %s, %s)"] * len(periods))
    params: list = []
    for index, (first, last) in enumerate(periods):
        params += [index, first.replace(day=1), last.replace(day=1)]
    scope = ""
    ids = None if _is_empty(accounts) else _account_ids(accounts)
    if ids is not None:
        id_sql, id_params = ids.query.sql_with_params()
        scope, params = f"AND r.account_id IN ({id_sql})", params + list(id_params)
    table = MrrMonth._meta.db_table
    movement = _MOVEMENT_SQL
    sql = f"""
        WITH p(idx, s, e) AS (VALUES {values})
        SELECT t.idx, SUM(t.a0), SUM(t.a1),
               SUM(CASE WHEN {movement["new"]} THEN t.a1 ELSE 0 END),
               SUM(CASE WHEN {movement["expansion"]} THEN t.a1 - t.a0 ELSE 0 END),
               SUM(CASE WHEN {movement["contraction"]} THEN t.a0 - t.a1 ELSE 0 END),
               SUM(CASE WHEN {movement["churned"]} THEN t.a0 ELSE 0 END),
               SUM(CASE WHEN t.a0 > 0 THEN 1 ELSE 0 END),
               SUM(CASE WHEN t.a1 > 0 THEN 1 ELSE 0 END),
               SUM(CASE WHEN {movement["churned"]} THEN 1 ELSE 0 END)
        FROM (
            SELECT p.idx, r.account_id,
                   SUM(CASE WHEN r.month = p.s THEN r.arr_first ELSE 0 END) AS a0,
                   SUM(CASE WHEN r.month = p.e THEN r.arr_last ELSE 0 END) AS a1
            FROM {table} r JOIN p ON r.month = p.s OR r.month = p.e
            WHERE 1 = 1 {scope}
            GROUP BY p.idx, r.account_id
        ) t
        GROUP BY t.idx
    """
    rows: dict[int, tuple] = {}
    if not _is_empty(accounts):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = {row[0]: row for row in cursor.fetchall()}
    series = []
    for index, (first, last) in enumerate(periods):
        row = rows.get(index) or (index, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        a0, a1, new, expansion, contraction, churned = (_dec(v) for v in row[1:7])
        customers_start, customers_end, lost = (int(v or 0) for v in row[7:10])
        series.append(
            {
                "start": first,
                "end": last,
                "mrr_start": mrr_from_arr(a0),
                "mrr_end": mrr_from_arr(a1),
                "new_mrr": mrr_from_arr(new),
                "expansion_mrr": mrr_from_arr(expansion),
                "contraction_mrr": mrr_from_arr(contraction),
                "churned_mrr": mrr_from_arr(churned),
                "nrr_pct": f.nrr_pct(a0, expansion, churned, contraction),
                "grr_pct": f.grr_pct(a0, churned, contraction),
                "customers_start": customers_start,
                "customers_end": customers_end,
                "logos_churned": lost,
                "logo_churn_pct": f.logo_churn_pct(lost, customers_start),
            }
        )
    return series


def book_summary(*, user, today: dt.date | None = None) -> dict[str, Any]:
    """My book for the CSM home (``templates/metrics/_book_summary.html``, context name ``book``): ARR in force,
    this quarter's NRR and MRR movements, and the health mix of the accounts ``user`` owns. Three queries.
    Built in ``metrics.dashboards`` with the other dashboard blocks (imported here lazily: it reads this module)."""
    from metrics.dashboards import book_summary as build

    return build(user=user, today=today)
