"""The figures of the revenue endpoint beyond the ledger summary: MoM/QoQ/YoY, run rate, LTV, CAC and LTV:CAC,
ACV and TCV of bookings, renewal win/loss and gross renewal rate. Each is one aggregate statement over the
scope's contracts (``accounts.selectors.contract_in_force_q`` for MRR), formulas from ``metrics.formulas``."""

import calendar
import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, F, Min, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import Contract
from accounts.selectors import contract_counts_q, contract_in_force_q, mrr_from_arr
from metrics import formulas as f
from metrics.models import AcquisitionCost
from metrics.selectors import _account_ids, _dec, _is_empty, movement_totals

ZERO = Decimal("0")
DEC = {"output_field": Contract._meta.get_field("arr")}


def shift_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` earlier/later; a month's last day maps to the other month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    is_month_end = day.day == calendar.monthrange(day.year, day.month)[1]
    return dt.date(year, month, last if is_month_end else min(day.day, last))


def _contracts(accounts: QuerySet | None) -> QuerySet:
    qs = Contract.objects.order_by()
    ids = _account_ids(accounts)
    return qs if ids is None else qs.filter(account_id__in=ids)


def comparisons(*, start: dt.date, end: dt.date, mrr_end: Decimal, accounts: QuerySet | None) -> dict[str, Any]:
    """MoM, QoQ and YoY change of MRR at the period's end, and the one-time fees of contracts starting in the
    period (for the run rate), in one statement."""
    days = {"mom": shift_months(end, -1), "qoq": shift_months(end, -3), "yoy": shift_months(end, -12)}
    totals: dict[str, Any] = {key: None for key in [*days, "fees"]}
    if not _is_empty(accounts):
        booked = contract_counts_q() & Q(start_date__gte=start, start_date__lte=end)
        totals = _contracts(accounts).aggregate(
            fees=Sum("one_time_fees", filter=booked),
            **{key: Sum("arr", filter=contract_in_force_q(day)) for key, day in days.items()},
        )
    out: dict[str, Any] = {"one_time_fees": f.money(_dec(totals["fees"]))}
    for key in days:
        previous = mrr_from_arr(_dec(totals[key]))
        out[f"{key}_pct"] = f.change_pct(mrr_end, previous)
        out[f"mrr_{key}_base"] = previous
    return out


def bookings(*, start: dt.date, end: dt.date, accounts: QuerySet | None) -> dict[str, Any]:
    """New and renewal contracts starting in the period (amendments are not bookings): count, TCV (recurring
    over the term + one-time fees) and ACV (TCV excluding one-time fees ÷ years in contract, averaged)."""
    if _is_empty(accounts):
        rows = []
    else:
        is_amendment = Q(previous__isnull=False) & Q(previous__end_date__gte=F("start_date"))
        rows = list(
            _contracts(accounts)
            .filter(contract_counts_q(), start_date__gte=start, start_date__lte=end)
            .exclude(is_amendment)
            .values_list("arr", "one_time_fees", "start_date", "end_date")
        )
    tcv = recurring = years_total = ZERO
    for arr, fees, first, last in rows:
        years = term_years(first, last)
        recurring += _dec(arr) * years
        tcv += _dec(arr) * years + _dec(fees)
        years_total += years
    return {
        "bookings": len(rows),
        "tcv": f.money(tcv),
        "acv": f.acv(recurring, years_total),
    }


def term_years(first: dt.date, last: dt.date) -> Decimal:
    """Years in a contract: whole months ÷ 12 when the term is whole months, else days ÷ 365."""
    after = last + dt.timedelta(days=1)
    months = (after.year - first.year) * 12 + after.month - first.month
    if months > 0 and shift_months(first, months) == after:
        return Decimal(months) / 12
    return Decimal((last - first).days + 1) / 365


def renewals(*, start: dt.date, end: dt.date, accounts: QuerySet | None, today: dt.date) -> dict[str, Any]:
    """Contracts up for renewal in the period (ending in it; amended ones are replaced, not up): won when renewed
    by a successor starting after the end, lost when cancelled or ended unrenewed before today. Win/Loss Ratio and
    Gross Renewal Rate = ((renewal revenue renewed - expansion) ÷ revenue up for renewal) x 100."""
    empty: dict[str, Any] = {"up": 0, "won": 0, "lost": 0, "arr_up": None, "arr_kept": None}
    if not _is_empty(accounts):
        # Per contract up for renewal, its successors joined once (LEFT JOIN + GROUP BY, no per-row subquery):
        # renewed = a successor starting after the end; amended = one starting within the term.
        after, within = Q(successors__start_date__gt=F("end_date")), Q(successors__start_date__lte=F("end_date"))
        per_contract = (
            _contracts(accounts)
            .filter(contract_counts_q(), end_date__gte=start, end_date__lte=end)
            .values("id", "arr", "cancelled_on", "end_date")
            .annotate(
                renewed=Count("successors__id", filter=after),
                amended=Count("successors__id", filter=within),
                new_arr=Min("successors__arr", filter=after),
            )
        )
        sql, params = per_contract.query.sql_with_params()
        lost = f"t.renewed = 0 AND (t.cancelled_on IS NOT NULL OR t.end_date < '{today.isoformat()}')"
        outer = f"""
            SELECT COUNT(*),
                   SUM(CASE WHEN t.renewed > 0 THEN 1 ELSE 0 END),
                   SUM(CASE WHEN {lost} THEN 1 ELSE 0 END),
                   SUM(CASE WHEN t.renewed > 0 OR ({lost}) THEN t.arr ELSE 0 END),
                   SUM(CASE WHEN t.renewed = 0 THEN 0 WHEN t.new_arr < t.arr THEN t.new_arr ELSE t.arr END)
            FROM ({sql}) t WHERE t.amended = 0
        """
        with connection.cursor() as cursor:
            cursor.execute(outer, params)
            row = cursor.fetchone()
        empty = {
            "up": row[0] or 0,
            "won": int(row[1] or 0),
            "lost": int(row[2] or 0),
            "arr_up": row[3],
            "arr_kept": row[4],
        }
    won, lost = empty["won"], empty["lost"]
    return {
        "renewals_up": empty["up"],
        "renewals_won": won,
        "renewals_lost": lost,
        "renewals_pending": empty["up"] - won - lost,
        "win_loss_ratio": f.win_loss_ratio(won, lost),
        "renewal_rate_pct": f.pct(won, won + lost),
        "gross_renewal_rate_pct": f.pct(_dec(empty["arr_kept"]), _dec(empty["arr_up"]) or None),
    }


def run_rate(*, start: dt.date, end: dt.date, mrr_end: Decimal, one_time_fees: Decimal) -> Decimal:
    """Annual Run Rate = revenue in period x # of periods in one year, the period taken as a month: MRR at the
    period's end plus the period's one-time fees per month, x 12 (includes one-time fees, unlike ARR)."""
    months = Decimal((end - start).days + 1) * 12 / Decimal(365)
    fees_per_month = one_time_fees / max(months, Decimal(1))
    return f.annual_run_rate(mrr_end + fees_per_month, Decimal(12))


def acquisition(*, start: dt.date, end: dt.date, ltv: Decimal | None) -> dict[str, Any]:
    """CAC = sales & marketing expenses (entered by admins per month) ÷ # of new customers acquired company-wide
    in the period; LTV:CAC = LTV ÷ CAC. Null when no expense was entered for the period's months."""
    expense = AcquisitionCost.objects.filter(month__gte=start.replace(day=1), month__lte=end).aggregate(
        total=Sum("sales_marketing_expense"), months=Count("id")
    )
    if not expense["months"]:
        return {"sales_marketing_expense": None, "new_customers_company": None, "cac": None, "ltv_cac": None}
    new_customers = movement_totals(start=start, end=end, accounts=None)["logos_new"]
    cac = f.cac(_dec(expense["total"]), new_customers)
    return {
        "sales_marketing_expense": f.money(_dec(expense["total"])),
        "new_customers_company": new_customers,
        "cac": cac,
        "ltv_cac": f.ltv_cac(ltv, cac),
    }


def revenue_figures(
    *, summary: dict[str, Any], accounts: QuerySet | None, today: dt.date | None = None
) -> dict[str, Any]:
    """Everything the revenue endpoint adds to ``metrics.selectors.revenue_summary`` for the same scope."""
    today = today or timezone.localdate()
    start, end = summary["start"], summary["end"]
    ltv = f.ltv(summary["arr_end"] / 12, summary["customers_end"], summary["logos_churned"], summary["customers_start"])
    out = comparisons(start=start, end=end, mrr_end=summary["mrr_end"], accounts=accounts)
    out["run_rate"] = run_rate(start=start, end=end, mrr_end=summary["mrr_end"], one_time_fees=out["one_time_fees"])
    out["ltv"] = ltv
    out.update(acquisition(start=start, end=end, ltv=ltv))
    out.update(bookings(start=start, end=end, accounts=accounts))
    out.update(renewals(start=start, end=end, accounts=accounts, today=today))
    return out
