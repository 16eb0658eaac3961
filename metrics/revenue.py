"""The figures of the revenue endpoint beyond the ledger summary: MoM/QoQ/YoY, run rate, LTV, CAC and LTV:CAC,
ACV and TCV of bookings, renewal win/loss and gross renewal rate. Each is one aggregate statement over the
scope's contracts (``accounts.selectors.contract_in_force_q`` for MRR), formulas from ``metrics.formulas``."""

import calendar
import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Least
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


def comparisons(*, end: dt.date, mrr_end: Decimal, accounts: QuerySet | None) -> dict[str, Any]:
    """MoM, QoQ and YoY change of MRR at the period's end (one statement)."""
    days = {"mom": shift_months(end, -1), "qoq": shift_months(end, -3), "yoy": shift_months(end, -12)}
    totals: dict[str, Any] = {key: None for key in days}
    if not _is_empty(accounts):
        totals = _contracts(accounts).aggregate(
            **{key: Sum("arr", filter=contract_in_force_q(day)) for key, day in days.items()}
        )
    out = {}
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
    empty = {"up": 0, "won": 0, "lost": 0, "arr_up": None, "arr_kept": None}
    if not _is_empty(accounts):
        renewal = Contract.objects.filter(previous=OuterRef("pk"), start_date__gt=OuterRef("end_date"))
        amended = Contract.objects.filter(previous=OuterRef("pk"), start_date__lte=OuterRef("end_date"))
        new_arr = Subquery(renewal.order_by("start_date").values("arr")[:1])
        qs = (
            _contracts(accounts)
            .filter(contract_counts_q(), end_date__gte=start, end_date__lte=end)
            .annotate(
                renewed=Exists(renewal), amended=Exists(amended), kept=Least(Coalesce(new_arr, Value(ZERO)), "arr")
            )
            .filter(amended=False)
        )
        lost = Q(renewed=False) & (Q(cancelled_on__isnull=False) | Q(end_date__lt=today))
        empty = qs.aggregate(
            up=Count("id"),
            won=Count("id", filter=Q(renewed=True)),
            lost=Count("id", filter=lost),
            arr_up=Sum("arr", filter=Q(renewed=True) | lost),
            arr_kept=Sum("kept", filter=Q(renewed=True)),
        )
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


def one_time_fees(*, start: dt.date, end: dt.date, accounts: QuerySet | None) -> Decimal:
    if _is_empty(accounts):
        return ZERO
    qs = _contracts(accounts).filter(contract_counts_q(), start_date__gte=start, start_date__lte=end)
    return _dec(qs.aggregate(total=Sum("one_time_fees"))["total"])


def run_rate(*, start: dt.date, end: dt.date, mrr_end: Decimal, accounts: QuerySet | None) -> Decimal:
    """Annual Run Rate = revenue in period x # of periods in one year, the period taken as a month: MRR at the
    period's end plus the period's one-time fees per month, x 12 (includes one-time fees, unlike ARR)."""
    months = Decimal((end - start).days + 1) * 12 / Decimal(365)
    fees_per_month = one_time_fees(start=start, end=end, accounts=accounts) / max(months, Decimal(1))
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
    out = comparisons(end=end, mrr_end=summary["mrr_end"], accounts=accounts)
    out["run_rate"] = run_rate(start=start, end=end, mrr_end=summary["mrr_end"], accounts=accounts)
    out["ltv"] = ltv
    out.update(acquisition(start=start, end=end, ltv=ltv))
    out.update(bookings(start=start, end=end, accounts=accounts))
    out.update(renewals(start=start, end=end, accounts=accounts, today=today))
    return out
