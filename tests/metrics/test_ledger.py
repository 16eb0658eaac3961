"""Monthly snapshots (metrics.ledger) agree with the one MRR definition and refresh after contract changes."""

from decimal import Decimal

import pytest

from accounts import services
from accounts.selectors import account_arr_on
from metrics.ledger import ledger_refresh, month_range
from metrics.models import MrrMonth
from metrics.selectors import revenue_series, revenue_summary
from tests.factories import AccountFactory
from tests.metrics.ledger_fixtures import D, build_q1_ledger, monthly

pytestmark = pytest.mark.django_db


def test_snapshots_equal_mrr_in_force_on_every_first_and_last_day():
    build_q1_ledger()
    ledger_refresh(today=D(2025, 6, 1))
    rows = {(r.account_id, r.month): r for r in MrrMonth.objects.all()}
    assert rows
    for first, last in month_range(D(2024, 1, 1), D(2026, 1, 31)):
        on_first, on_last = account_arr_on(day=first), account_arr_on(day=last)
        for account_id in set(on_first) | set(on_last):
            row = rows[(account_id, first)]
            assert (row.arr_first, row.arr_last) == (on_first.get(account_id, 0), on_last.get(account_id, 0))


def test_series_agree_with_the_period_summary():
    build_q1_ledger()
    ledger_refresh(today=D(2025, 6, 1))
    periods = [(D(2025, 1, 1), D(2025, 1, 31)), (D(2025, 2, 1), D(2025, 2, 28)), (D(2025, 1, 1), D(2025, 3, 31))]
    series = revenue_series(periods=periods)
    for point, (start, end) in zip(series, periods, strict=True):
        summary = revenue_summary(start=start, end=end, with_movements=False)
        for key in ("mrr_start", "mrr_end", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "nrr_pct",
                    "grr_pct", "customers_start", "customers_end", "logos_churned", "logo_churn_pct"):  # fmt: skip
            assert point[key] == summary[key], (start, key)
    assert series[2]["nrr_pct"] == Decimal("83.93")


def test_series_is_one_statement(django_assert_num_queries):
    build_q1_ledger()
    ledger_refresh(today=D(2025, 6, 1))
    periods = [(m, e) for m, e in month_range(D(2024, 4, 1), D(2025, 3, 31))]
    with django_assert_num_queries(1):  # the CTE of 12 periods joined to the snapshots
        assert len(revenue_series(periods=periods)) == 12


def test_contract_changes_refresh_the_ledger_after_commit(django_capture_on_commit_callbacks):
    account = AccountFactory()
    with django_capture_on_commit_callbacks(execute=True):
        contract = monthly(account, D(2025, 1, 1), D(2025, 12, 31), "100")
    assert MrrMonth.objects.get(account=account, month=D(2025, 3, 1)).arr_last == Decimal("1200")
    with django_capture_on_commit_callbacks(execute=True):
        services.contract_amend(contract=contract, effective_date=D(2025, 3, 15), data={"recurring_amount": 150})
    row = MrrMonth.objects.get(account=account, month=D(2025, 3, 1))
    assert (row.arr_first, row.arr_last) == (Decimal("1200"), Decimal("1800"))
    with django_capture_on_commit_callbacks(execute=True):
        services.account_churn(account=account, churned_on=D(2025, 6, 1), reason="moved to a competitor")
    assert not MrrMonth.objects.filter(account=account, month__gte=D(2025, 6, 1)).exists()
    assert MrrMonth.objects.get(account=account, month=D(2025, 5, 1)).arr_last == Decimal("1800")


def test_refresh_is_idempotent_and_scoped():
    acc = build_q1_ledger()
    first = ledger_refresh(today=D(2025, 6, 1))
    assert ledger_refresh(today=D(2025, 6, 1)) == first == MrrMonth.objects.count()
    before = MrrMonth.objects.exclude(account=acc["A"]).count()
    ledger_refresh(account_ids=[acc["A"].id], today=D(2025, 6, 1))
    assert MrrMonth.objects.exclude(account=acc["A"]).count() == before
    assert MrrMonth.objects.filter(account=acc["A"]).count() == 12


def test_deleting_an_account_removes_its_snapshots():
    account = AccountFactory()
    monthly(account, D(2025, 1, 1), D(2025, 3, 31), "100")
    ledger_refresh(today=D(2025, 6, 1))
    assert MrrMonth.objects.filter(account=account).count() == 3
    services.account_delete(account=account)
    assert not MrrMonth.objects.exists()
