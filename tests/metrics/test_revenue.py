"""The ledger's period figures against hand-worked numbers (glossary formulas, metrics.formulas)."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Account
from accounts.selectors import account_mrr_on
from metrics.selectors import revenue_summary
from tests.factories import AccountFactory
from tests.metrics.ledger_fixtures import Q1, D, build_q1_ledger, monthly, yearly

pytestmark = pytest.mark.django_db


def test_mrr_in_force_on_a_day_per_account():
    acc = build_q1_ledger()
    on_start = account_mrr_on(day=D(2025, 1, 1))
    assert {a.name: on_start.get(a.id) for a in acc.values() if a.id in on_start} == {
        "A": Decimal("1000.00"), "B": Decimal("500.00"), "C": Decimal("400.00"), "D": Decimal("500.00"),
        "E": Decimal("300.00"), "H": Decimal("100.00"),
    }  # fmt: skip
    # Mid-month upgrade: 500 until Feb 14, 800 from Feb 15.
    assert account_mrr_on(day=D(2025, 2, 14), accounts=[acc["B"].id]) == {acc["B"].id: Decimal("500.00")}
    assert account_mrr_on(day=D(2025, 2, 15), accounts=[acc["B"].id]) == {acc["B"].id: Decimal("800.00")}
    # A contract ending on the last day still counts that day, not the next.
    assert account_mrr_on(day=D(2025, 2, 28), accounts=[acc["D"].id]) == {acc["D"].id: Decimal("500.00")}
    assert account_mrr_on(day=D(2025, 3, 1), accounts=[acc["D"].id]) == {}
    # Dated churn: counts until the day before churned_on.
    assert account_mrr_on(day=D(2025, 3, 30), accounts=[acc["E"].id]) == {acc["E"].id: Decimal("300.00")}
    assert account_mrr_on(day=D(2025, 3, 31), accounts=[acc["E"].id]) == {}


def test_q1_summary_matches_the_hand_worked_ledger():
    acc = build_q1_ledger()
    s = revenue_summary(start=Q1[0], end=Q1[1])
    # Start: A1000 + B500 + C400 + D500 + E300 + H100 = 2800; end: A1000 + B800 + C250 + F200 + G150 + H300 = 2700.
    assert s["mrr_start"] == Decimal("2800.00")
    assert s["mrr_end"] == Decimal("2700.00")
    assert s["arr_end"] == Decimal("32400.00")
    assert s["new_mrr"] == Decimal("350.00")  # F 200 + G 150
    assert s["reactivation_mrr"] == Decimal("150.00")  # G, inside new as well
    assert s["expansion_mrr"] == Decimal("500.00")  # B 300 + H 200
    assert s["contraction_mrr"] == Decimal("150.00")  # C
    assert s["churned_mrr"] == Decimal("800.00")  # D 500 + E 300
    # 2800 + 350 + 500 - 150 - 800 = 2700: the movements explain the change.
    assert s["mrr_start"] + s["new_mrr"] + s["expansion_mrr"] - s["contraction_mrr"] - s["churned_mrr"] == s["mrr_end"]
    assert s["nrr_pct"] == Decimal("83.93")  # (2800 + 500 - 800 - 150) / 2800 = 83.928...
    assert s["grr_pct"] == Decimal("66.07")  # (2800 - 800 - 150) / 2800 = 66.071...
    assert s["gross_mrr_churn_pct"] == Decimal("28.57")  # 800 / 2800
    assert s["net_mrr_churn_pct"] == Decimal("10.71")  # (800 - 500) / 2800
    assert s["dollar_churn_pct"] == Decimal("-14.29")  # ((2800 - 2700) - 500) / 2800
    assert s["growth_rate_pct"] == Decimal("-3.57")  # (2700 - 2800) / 2800
    assert (s["customers_start"], s["customers_end"], s["logos_churned"]) == (6, 6, 2)
    assert s["logo_churn_pct"] == Decimal("33.33")  # 2 / 6
    assert s["cgr_pct"] == Decimal("0.00")  # (6 - 6) / 6
    assert s["arpu"] == Decimal("450.00")  # 2700 / 6
    ids = {k: sorted(Account.objects.get(pk=i).name for i in v) for k, v in s["movements"].items()}
    assert ids == {
        "new": ["F", "G"], "reactivation": ["G"], "expansion": ["B", "H"], "contraction": ["C"], "churned": ["D", "E"],
    }  # fmt: skip
    assert acc  # built


def test_a_contract_ending_on_the_last_day_churns_the_next_month():
    acc = build_q1_ledger()
    scope = Account.objects.filter(pk=acc["D"].pk)
    february = revenue_summary(start=D(2025, 2, 1), end=D(2025, 2, 28), accounts=scope)
    march = revenue_summary(start=D(2025, 3, 1), end=D(2025, 3, 31), accounts=scope)
    assert (february["churned_mrr"], february["nrr_pct"]) == (Decimal("0.00"), Decimal("100.00"))
    assert (march["mrr_start"], march["churned_mrr"], march["logos_churned"]) == (Decimal("0.00"), Decimal("0.00"), 0)
    january_to_march = revenue_summary(start=D(2025, 2, 28), end=D(2025, 3, 1), accounts=scope)
    assert january_to_march["churned_mrr"] == Decimal("500.00")


def test_empty_scope_gives_nulls_not_zeros():
    build_q1_ledger()
    s = revenue_summary(start=Q1[0], end=Q1[1], accounts=Account.objects.none())
    assert s["mrr_start"] == s["mrr_end"] == Decimal("0.00")
    for key in ("nrr_pct", "grr_pct", "gross_mrr_churn_pct", "net_mrr_churn_pct", "dollar_churn_pct",
                "logo_churn_pct", "cgr_pct", "arpu", "growth_rate_pct"):  # fmt: skip
        assert s[key] is None, key
    assert s["movements"] == {k: [] for k in ("new", "reactivation", "expansion", "contraction", "churned")}


def test_mrr_is_summed_exactly_before_rounding():
    # Three yearly 1,000 contracts: 83.333... each; 3,000 / 12 = 250.00 exactly, not 3 x 83.33 = 249.99.
    for _ in range(3):
        yearly(AccountFactory(), D(2025, 1, 1), D(2025, 12, 31), "1000")
    s = revenue_summary(start=D(2025, 1, 1), end=D(2025, 1, 31))
    assert s["mrr_end"] == Decimal("250.00")
    assert s["arpu"] == Decimal("83.33")


def test_renewal_on_the_next_day_is_neither_churn_nor_new():
    from accounts import services

    account = AccountFactory()
    old = monthly(account, D(2024, 4, 1), D(2025, 3, 31), "100")
    services.contract_renew(contract=old, data={"recurring_amount": Decimal("120")})
    s = revenue_summary(start=D(2025, 3, 1), end=D(2025, 4, 30))
    assert (s["churned_mrr"], s["new_mrr"], s["expansion_mrr"]) == (Decimal("0.00"), Decimal("0.00"), Decimal("20.00"))
    assert old.successors.get().end_date == dt.date(2026, 3, 31)  # same 12-month term again
