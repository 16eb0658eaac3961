"""Revenue and logo retention by start-month cohort: the triangle table and its chart.

An account's cohort is the month of the first day it had MRR (the earliest start of a contract that counts,
``accounts.selectors.contract_counts_q``). Month 0 is the cohort month itself; cell (cohort, k) reads the MRR in
force on the last day of month k (``accounts.selectors.account_arr_on``, the one definition):
- logo retention = accounts of the cohort with MRR that day / accounts in the cohort,
- revenue retention = the cohort's MRR that day / its MRR at the end of month 0 (expansion can lift it above 100%).
Queries: one for the cohorts, one per month end shown (``months`` + 1 at most), whatever the number of accounts.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Min, QuerySet
from django.utils import timezone

from accounts.models import Account, Contract
from accounts.selectors import account_arr_on, contract_counts_q, mrr_from_arr
from metrics.scope import add_months, month_end, month_start


def _pct(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"))


def cohort_triangle(*, accounts: QuerySet[Account], months: int = 12, today: dt.date | None = None) -> dict:
    """Cohorts of the last ``months`` start months (this month included) with their retention per month since
    start. Returns ``{"months": [offsets], "cohorts": [{"month", "size", "mrr0", "cells": [...]}, ...]}``; each
    cell has ``logos``, ``logo_pct``, ``mrr``, ``revenue_pct`` (None beyond today: the triangle)."""
    today = today or timezone.localdate()
    first_month = add_months(month_start(today), -(months - 1))
    starts = (
        Contract.objects.filter(contract_counts_q(), arr__gt=0, account_id__in=accounts.order_by().values("id"))
        .order_by()
        .values("account_id")
        .annotate(first=Min("start_date"))
        .filter(first__gte=first_month, first__lte=today)
        .values_list("account_id", "first")
    )
    cohort_of: dict[int, dt.date] = {account_id: month_start(first) for account_id, first in starts}
    members: dict[dt.date, list[int]] = defaultdict(list)
    for account_id, cohort in cohort_of.items():
        members[cohort].append(account_id)
    month_list = [add_months(first_month, i) for i in range(months)]
    # MRR in force at each month end (today for the running month), for the cohort accounts only.
    ids = list(cohort_of)
    arr_at: dict[dt.date, dict[int, Decimal]] = {}
    for month in month_list:
        day = min(month_end(month), today)
        arr_at[month] = account_arr_on(day=day, accounts=ids) if ids else {}
    cohorts = []
    for index, cohort in enumerate(month_list):
        accounts_in = members.get(cohort, [])
        base = arr_at[cohort]
        mrr0 = mrr_from_arr(sum((base.get(a, Decimal("0")) for a in accounts_in), Decimal("0")))
        cells = []
        for offset in range(months):
            if index + offset >= months:
                cells.append(None)
                continue
            values = arr_at[month_list[index + offset]]
            logos = sum(1 for a in accounts_in if values.get(a))
            mrr = mrr_from_arr(sum((values.get(a, Decimal("0")) for a in accounts_in), Decimal("0")))
            cells.append(
                {
                    "offset": offset,
                    "logos": logos,
                    "logo_pct": _pct(logos, len(accounts_in)),
                    "mrr": mrr,
                    "revenue_pct": _pct(mrr, mrr0),
                }
            )
        cohorts.append({"month": cohort, "size": len(accounts_in), "mrr0": mrr0, "ids": accounts_in, "cells": cells})
    return {"months": list(range(months)), "cohorts": cohorts}


def average_curve(triangle: dict, key: str) -> list[Decimal | None]:
    """Per month since start, the retention over every cohort old enough, weighted by cohort size (logos) or
    month-0 MRR (revenue): the line the chart draws."""
    curve = []
    for offset in triangle["months"]:
        part = whole = Decimal("0")
        for cohort in triangle["cohorts"]:
            cell = cohort["cells"][offset]
            if cell is None or not cohort["size"]:
                continue
            if key == "logo_pct":
                part += cell["logos"]
                whole += cohort["size"]
            else:
                part += cell["mrr"]
                whole += cohort["mrr0"]
        curve.append(_pct(part, whole))
    return curve
