"""The set-based bulk UPDATE writes every column type the imports use, NULLs included."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Account, Contract
from imports.bulk import bulk_update_values
from tests.factories import AccountFactory, ContractFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_bulk_update_values_types_and_nulls():
    owner = UserFactory()
    accounts = AccountFactory.create_batch(3, employee_count=5)
    for i, account in enumerate(accounts):
        account.name = f"Renamed {i}"
        account.employee_count = None if i else 42
        account.owner = owner if i == 2 else None
        account.updated_at = timezone.now()
    bulk_update_values(Account, accounts, ["name", "employee_count", "owner", "updated_at"])
    got = list(Account.objects.order_by("id").values_list("name", "employee_count", "owner_id"))
    assert got == [("Renamed 0", 42, None), ("Renamed 1", None, None), ("Renamed 2", None, owner.pk)]

    contracts = ContractFactory.create_batch(2)
    for contract in contracts:
        contract.recurring_amount = Decimal("1234.50")
        contract.end_date = dt.date(2030, 1, 31)
        contract.auto_renew = True
        contract.name = "O'Brien & Co"
    bulk_update_values(Contract, contracts, ["recurring_amount", "end_date", "auto_renew", "name"])
    assert set(Contract.objects.values_list("recurring_amount", "end_date", "auto_renew", "name")) == {
        (Decimal("1234.50"), dt.date(2030, 1, 31), True, "O'Brien & Co")
    }
    bulk_update_values(Contract, [], ["name"])  # nothing to do
