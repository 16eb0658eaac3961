"""A hand-built ledger for Q1 2025, every MRR worked out by hand in the comments (shared by the ledger tests)."""

import datetime as dt
from decimal import Decimal

from accounts import services
from accounts.models import ContractStatus
from tests.factories import AccountFactory, ContractFactory

D = dt.date
Q1 = (D(2025, 1, 1), D(2025, 3, 31))


def monthly(account, start, end, amount, **kw):
    data = {"start_date": start, "end_date": end, "recurring_amount": Decimal(amount), "billing_period": "month"}
    return services.contract_create(account=account, data=data | kw)


def yearly(account, start, end, amount, **kw):
    data = {"start_date": start, "end_date": end, "recurring_amount": Decimal(amount), "billing_period": "year"}
    return services.contract_create(account=account, data=data | kw)


def build_q1_ledger(owner=None) -> dict:
    """MRR on 2025-01-01 / 2025-03-31 per account:
    A steady yearly 12,000 from the 1st to the last day       1000 / 1000
    B monthly 500, upgraded mid-month (Feb 15) to 800          500 / 800   expansion 300
    C monthly 400, downgraded mid-month (Mar 10) to 250        400 / 250   contraction 150
    D yearly 6,000 ending on Feb 28 (last day), not renewed    500 / 0     churned 500
    E monthly 300, account churned (dated) on Mar 31           300 / 0     churned 300
    F new monthly 200 from Feb 1                                 0 / 200   new 200
    G monthly 100 in H1 2024, back with 150 from Mar 1           0 / 150   new 150, reactivation 150
    H overlapping: monthly 100 + yearly 2,400 from Jan 15      100 / 300   expansion 200
    I draft 999, J cancelled without a date 777, K one-time fees only: never count.
    """
    mk = (lambda name: AccountFactory(name=name, owner=owner)) if owner else (lambda name: AccountFactory(name=name))
    acc = {name: mk(name) for name in "ABCDEFGHIJK"}
    yearly(acc["A"], D(2025, 1, 1), D(2025, 12, 31), "12000")
    b = monthly(acc["B"], D(2024, 7, 1), D(2025, 6, 30), "500")
    services.contract_amend(contract=b, effective_date=D(2025, 2, 15), data={"recurring_amount": Decimal("800")})
    c = monthly(acc["C"], D(2024, 1, 1), D(2025, 12, 31), "400")
    services.contract_amend(contract=c, effective_date=D(2025, 3, 10), data={"recurring_amount": Decimal("250")})
    yearly(acc["D"], D(2024, 4, 1), D(2025, 2, 28), "6000")
    monthly(acc["E"], D(2024, 10, 1), D(2025, 9, 30), "300")
    services.account_churn(account=acc["E"], churned_on=D(2025, 3, 31), reason="budget")
    monthly(acc["F"], D(2025, 2, 1), D(2026, 1, 31), "200")
    monthly(acc["G"], D(2024, 1, 1), D(2024, 6, 30), "100")
    monthly(acc["G"], D(2025, 3, 1), D(2025, 8, 31), "150")
    monthly(acc["H"], D(2024, 6, 1), D(2025, 5, 31), "100")
    yearly(acc["H"], D(2025, 1, 15), D(2026, 1, 14), "2400")
    monthly(acc["I"], D(2025, 1, 1), D(2025, 12, 31), "999", status=ContractStatus.DRAFT)
    ContractFactory(
        account=acc["J"], start_date=D(2025, 1, 1), end_date=D(2025, 12, 31), status=ContractStatus.CANCELLED,
        recurring_amount=Decimal("777"), billing_period="month", arr=Decimal("9324"),
    )  # fmt: skip
    monthly(acc["K"], D(2025, 1, 1), D(2025, 12, 31), "0", one_time_fees=Decimal("5000"))
    return acc
