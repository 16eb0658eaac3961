"""Cohort triangle on a hand-built ledger: logo and revenue retention by start month."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Account, ContractStatus
from metrics.cohorts import average_curve, cohort_triangle
from tests.factories import AccountFactory, ContractFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 15)


def test_triangle():
    a, b, c, d = AccountFactory(), AccountFactory(), AccountFactory(), AccountFactory()
    ContractFactory(account=a, start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31), recurring_amount=12000)
    ContractFactory(  # a one-month monthly contract: gone by the end of February
        account=b, start_date=dt.date(2026, 1, 10), end_date=dt.date(2026, 1, 31), recurring_amount=500,
        billing_period="month", arr=Decimal("6000"),
    )  # fmt: skip
    old = ContractFactory(
        account=c, start_date=dt.date(2026, 2, 1), end_date=dt.date(2027, 1, 31), recurring_amount=24000,
        status=ContractStatus.CANCELLED, cancelled_on=dt.date(2026, 3, 1),
    )  # fmt: skip
    ContractFactory(  # upgraded from March 1st
        account=c, start_date=dt.date(2026, 3, 1), end_date=dt.date(2027, 1, 31), recurring_amount=36000, previous=old
    )
    ContractFactory(account=d, start_date=dt.date(2025, 6, 1), end_date=dt.date(2026, 5, 31))  # older cohort
    ContractFactory(
        account=AccountFactory(), start_date=dt.date(2026, 2, 1), end_date=dt.date(2026, 12, 31),
        status=ContractStatus.DRAFT,
    )  # fmt: skip

    tri = cohort_triangle(accounts=Account.objects.all(), months=3, today=TODAY)
    jan, feb, mar = tri["cohorts"]
    assert [c["month"] for c in tri["cohorts"]] == [dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)]
    assert (jan["size"], jan["mrr0"]) == (2, Decimal("1500.00"))
    assert [(x["logos"], x["logo_pct"], x["mrr"], x["revenue_pct"]) for x in jan["cells"]] == [
        (2, Decimal("100.00"), Decimal("1500.00"), Decimal("100.00")),
        (1, Decimal("50.00"), Decimal("1000.00"), Decimal("66.67")),
        (1, Decimal("50.00"), Decimal("1000.00"), Decimal("66.67")),
    ]
    assert (feb["size"], feb["mrr0"]) == (1, Decimal("2000.00"))
    assert feb["cells"][1]["revenue_pct"] == Decimal("150.00") and feb["cells"][1]["logo_pct"] == Decimal("100.00")
    assert feb["cells"][2] is None  # the triangle: no future
    assert mar["size"] == 0 and mar["cells"][0]["logo_pct"] is None and mar["cells"][1] is None
    # Month 1 over the cohorts old enough (Jan, Feb): logos (1 + 1) / (2 + 1); MRR (1000 + 3000) / (1500 + 2000)
    assert average_curve(tri, "logo_pct")[1] == Decimal("66.67")
    assert average_curve(tri, "revenue_pct")[1] == Decimal("114.29")


def test_empty_scope():
    tri = cohort_triangle(accounts=Account.objects.none(), months=2, today=TODAY)
    assert [c["size"] for c in tri["cohorts"]] == [0, 0]
    assert average_curve(tri, "revenue_pct") == [None, None]
