"""The revenue ledger: monthly per-account snapshots of recurring revenue (``metrics.models.MrrMonth``).

Refreshed set-based - one DELETE and one INSERT ... SELECT over contracts joined to the months, for any
number of accounts - after contract changes commit (``accounts.revenue_signals.revenue_changed`` -> Celery task
on the ``long`` queue) and nightly for every account (beat). Portable SQL (PostgreSQL and SQLite): the months
are a VALUES list in a CTE. The contract-in-force rule is the one of ``accounts.selectors.contract_in_force_q``,
written once here in SQL; ``tests/metrics/test_ledger.py`` checks the two agree.
"""

import datetime as dt
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from accounts.models import Contract, ContractStatus
from metrics.models import MrrMonth

# How far ahead of today snapshots go: renewals already signed show in forecasts and cohorts.
MONTHS_AHEAD = 24


def month_first(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_range(first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """(first day, last day) of every month from ``first``'s month to ``last``'s month."""
    months, cursor = [], month_first(first)
    while cursor <= last:
        following = next_month(cursor)
        months.append((cursor, following - dt.timedelta(days=1)))
        cursor = following
    return months


def ledger_months(today: dt.date | None = None) -> list[tuple[dt.date, dt.date]]:
    """Months the ledger covers: from the first contract's start to the last end, at most MONTHS_AHEAD ahead."""
    today = today or timezone.localdate()
    bounds = Contract.objects.aggregate(first=Min("start_date"), last=Max("end_date"))
    if bounds["first"] is None:
        return []
    horizon = month_first(today)
    for _ in range(MONTHS_AHEAD):
        horizon = next_month(horizon)
    return month_range(bounds["first"], min(bounds["last"], horizon))


def _in_force_sql(day: str) -> str:
    # accounts.selectors.contract_in_force_q in SQL, for a day given as an SQL expression.
    return f"c.start_date <= {day} AND c.end_date >= {day} AND (c.cancelled_on IS NULL OR c.cancelled_on > {day})"


def snapshot_select_sql(months: list[tuple[dt.date, dt.date]], account_ids: list[int] | None) -> tuple[str, list]:
    """The SELECT computing (account_id, month, arr_first, arr_last) for the given months and accounts: one
    row per account and month with revenue on any day of the month."""
    params: list = [day for pair in months for day in pair]
    params += [ContractStatus.DRAFT, ContractStatus.CANCELLED]
    scope = ""
    if account_ids is not None:
        scope = f"AND c.account_id IN ({', '.join(['%s'] * len(account_ids))})"
        params += account_ids
    # Counting contracts (not drafts; a cancelled one only with its date) overlapping the month on a day
    # before their cancellation.
    sql = f"""
        WITH m(first_day, last_day) AS (VALUES {", ".join(["(%s, %s)"] * len(months))})
        SELECT c.account_id, m.first_day,
               SUM(CASE WHEN {_in_force_sql("m.first_day")} THEN c.arr ELSE 0 END),
               SUM(CASE WHEN {_in_force_sql("m.last_day")} THEN c.arr ELSE 0 END)
        FROM accounts_contract c
        JOIN m ON c.start_date <= m.last_day AND c.end_date >= m.first_day
        WHERE c.status <> %s AND NOT (c.status = %s AND c.cancelled_on IS NULL) AND c.arr > 0
          AND (c.cancelled_on IS NULL OR (c.cancelled_on > m.first_day AND c.cancelled_on > c.start_date))
          {scope}
        GROUP BY c.account_id, m.first_day
    """
    return sql, params


@transaction.atomic
def ledger_refresh(*, account_ids: Iterable[int] | None = None, today: dt.date | None = None) -> int:
    """Recompute the monthly snapshots of the given accounts (``None``: every account) from their contracts in
    one DELETE and one INSERT ... SELECT. Idempotent; returns the number of snapshot rows written."""
    ids = None if account_ids is None else sorted(set(account_ids))
    if ids == []:
        return 0
    table = MrrMonth._meta.db_table
    with connection.cursor() as cursor:
        if ids is None:
            cursor.execute(f"TRUNCATE {table}" if connection.vendor == "postgresql" else f"DELETE FROM {table}")
        else:
            cursor.execute(f"DELETE FROM {table} WHERE account_id IN ({', '.join(['%s'] * len(ids))})", ids)
        months = ledger_months(today)
        if not months:
            return 0
        select, params = snapshot_select_sql(months, ids)
        cursor.execute(f"INSERT INTO {table} (account_id, month, arr_first, arr_last) {select}", params)
        return cursor.rowcount
