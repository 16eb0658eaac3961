"""The set-based bulk writes: UPDATE of every column type the imports use (NULLs included), COPY inserts, and
the audit entries they leave."""

import datetime as dt
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.utils import timezone

from accounts.models import Account, Contract
from imports.bulk import audit_rows, bulk_update_values, insert_rows
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


def test_insert_rows_sets_ids_defaults_and_json(django_assert_num_queries):
    owner = UserFactory()
    accounts = [Account(name=f"New {i}", external_id=f"N-{i}", owner=owner, custom_fields={"k": i}) for i in range(3)]
    # PostgreSQL: the ids (one query) then one COPY; SQLite: bulk_create (one INSERT).
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 1):
        insert_rows(Account, accounts)
    assert all(a.pk and not a._state.adding for a in accounts)
    stored = {a.pk: a for a in Account.objects.all()}
    assert set(stored) == {a.pk for a in accounts}
    first = stored[accounts[0].pk]
    assert (first.name, first.owner_id, first.custom_fields, first.tier) == ("New 0", owner.pk, {"k": 0}, "smb")
    assert first.created_at and first.updated_at  # auto_now(_add) filled as an INSERT would
    insert_rows(Account, [])  # nothing to do


def test_audit_rows_writes_one_auditlog_entry_per_object():
    actor = UserFactory()
    account = AccountFactory(name="Acme")
    LogEntry.objects.all().delete()
    audit_rows(
        Account, [(account, False, {"name": ("Old", "Acme"), "owner": (None, actor.pk)})], actor_id=actor.pk,
        actor_email=actor.email, job_id=7,
    )  # fmt: skip
    entry = LogEntry.objects.get()
    assert (entry.action, entry.object_pk, entry.object_id, entry.object_repr) == (
        LogEntry.Action.UPDATE, str(account.pk), account.pk, str(account)
    )  # fmt: skip
    assert entry.changes_dict == {"name": ["Old", "Acme"], "owner": ["None", str(actor.pk)]}
    assert (entry.actor, entry.additional_data) == (actor, {"import_job": 7})
    assert list(LogEntry.objects.get_for_object(account)) == [entry]  # the object's history shows it
    audit_rows(Account, [], actor_id=None)  # nothing to do


def test_insert_values_copy_text_escapes_and_types():
    """The COPY text built by hand: tabs, newlines, backslashes and a literal "\\N" survive as written; None is
    NULL; dates, decimals, booleans and JSON round-trip (PostgreSQL: COPY; SQLite: bulk_create)."""
    from imports.bulk import insert_values

    account = AccountFactory()
    now = timezone.now()
    names = ["tab\there", "line\nbreak\r\nend", "back\\slash \\N", "plain"]
    rows = [
        {"account_id": account.pk, "external_id": f"E-{i}", "name": name, "start_date": dt.date(2026, 1, 1),
         "end_date": dt.date(2026, 12, 31), "recurring_amount": Decimal("12.50"), "arr": Decimal("150.00"),
         "auto_renew": bool(i % 2), "seats": i, "cancelled_on": None}
        for i, name in enumerate(names)
    ]  # fmt: skip
    ids = insert_values(Contract, rows, now)
    got = {c.pk: c for c in Contract.objects.filter(pk__in=ids)}
    for pk, row in zip(ids, rows, strict=True):
        c = got[pk]
        assert (c.name, c.auto_renew, c.seats, c.recurring_amount, c.cancelled_on) == (
            row["name"], row["auto_renew"], row["seats"], Decimal("12.50"), None
        )  # fmt: skip
        assert (c.start_date, c.end_date) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
        if connection.vendor == "postgresql":  # bulk_create (SQLite) sets auto_now_add itself
            assert c.created_at == now
