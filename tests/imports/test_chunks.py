"""The column-wise engine across chunk boundaries: duplicates and errors in later chunks, validation messages of
the model fields, audit entries of updates, and the progress writes' throttle. Runs on PostgreSQL and SQLite."""

import datetime as dt
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.db import transaction

from accounts.models import Account, Contract
from imports import engine, services
from imports.models import ImportJob
from tests.factories import AccountFactory, ContractFactory
from tests.imports.factories import csv_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(engine, "CHUNK", 3)


def _run(users, text, kind="accounts", apply=True):
    return engine.run(kind=kind, content=text, apply=apply, actor=users["admin"], job_id=None)


def test_duplicates_and_errors_are_found_across_chunks(users, small_chunks):
    rows = [[f"A-{i}", f"Name {i}", "smb"] for i in range(7)]
    rows[4] = ["A-1", "Again", "smb"]  # line 6: a duplicate of line 3, two chunks later
    rows[5] = ["A-5", "x" * 201, "gold"]  # both a bad cell and a too-long name: the cell is reported
    rows[6] = ["A-6", "y" * 201, "smb"]  # the model field's own message
    text = csv_text(["external_id", "name", "tier"], rows)
    ctx = _run(users, text, apply=False)
    assert [r[0] for r in ctx.results] == [2, 3, 4, 5, 6, 7, 8]
    assert ctx.results[4] == [6, "reject", "A-1", "duplicate: A-1 already appears on line 3"]
    assert ctx.results[5][3] == "tier: 'gold' is not one of enterprise, mid_market, smb"
    assert ctx.results[6][3] == "name: Ensure this value has at most 200 characters (it has 201)."
    assert ctx.counts == {"create": 4, "update": 0, "reject": 3}
    assert not Account.objects.exists()
    ctx = _run(users, text)
    assert Account.objects.count() == 4 and ctx.results[4][1] == "reject"


def test_several_field_errors_are_reported_in_model_field_order(users):
    text = csv_text(["external_id", "name", "domain"], [["E" * 101, "n" * 201, "d" * 201]])
    ctx = _run(users, text, apply=False)
    assert ctx.results[0][3] == (
        "name: Ensure this value has at most 200 characters (it has 201).; "
        "domain: Ensure this value has at most 200 characters (it has 201).; "
        "external_id: Ensure this value has at most 100 characters (it has 101)."
    )


def test_dry_run_reports_what_the_import_does(users, small_chunks):
    AccountFactory(external_id="A-1", name="Same", industry="Retail")
    AccountFactory(external_id="A-2", name="Old", industry="Retail")
    text = csv_text(
        ["external_id", "name", "industry"],
        [["A-1", "Same", "Retail"], ["A-2", "New", ""], ["A-3", "Created", "Fintech"], ["A-4", "", ""]],
    )
    dry = _run(users, text, apply=False)
    done = _run(users, text)
    assert dry.results == done.results == [
        [2, "update", "A-1", "unchanged"], [3, "update", "A-2", ""], [4, "create", "A-3", ""],
        [5, "reject", "A-4", "name: required for a new account"],
    ]  # fmt: skip
    assert Account.objects.get(external_id="A-2").industry == "Retail"  # a blank cell keeps the value


def test_contract_update_audit_records_old_and_new_values(users, small_chunks):
    acme = AccountFactory(external_id="A-1")
    contract = ContractFactory(
        account=acme, external_id="K-1", name="", start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31),
        recurring_amount=Decimal("100"), billing_period="year", arr=Decimal("100"), seats=5,
    )  # fmt: skip
    LogEntry.objects.all().delete()
    text = csv_text(
        ["Contract ID", "Account ID", "Amount", "Billing Frequency", "Seats", "End Date"],
        [["K-1", "A-1", "50", "monthly", "5", "2025-12-31"], ["K-1", "A-1", "60", "", "", ""]],
    )
    ctx = _run(users, text, kind="contracts", apply=False)
    # The new end date is checked against the stored start date (Contract.clean on the merged values).
    assert ctx.results[0][3] == "end_date: The end date must be on or after the start date."
    assert ctx.results[1][3] == "duplicate: K-1 already appears on line 2"
    text = csv_text(["Contract ID", "Account ID", "Amount", "Billing Frequency", "Seats"], [["K-1", "A-1", "50",
                    "monthly", "5"]])  # fmt: skip
    _run(users, text, kind="contracts")
    contract.refresh_from_db()
    assert (contract.recurring_amount, contract.billing_period, contract.arr) == (Decimal("50"), "month", 600)
    entry = LogEntry.objects.get(object_id=contract.pk)
    assert entry.action == LogEntry.Action.UPDATE
    assert entry.object_repr == "Contract 2026-01-01 - 2026-12-31"
    assert entry.changes_dict == {
        "recurring_amount": ["100.00", "50.00"], "billing_period": ["year", "month"], "arr": ["100.00", "600.00"]
    }  # fmt: skip
    acme.refresh_from_db()
    assert acme.arr in (Decimal("0"), Decimal("600"))  # in force or not depending on today


def test_create_audit_entry_has_every_value_the_row_set(users, small_chunks):
    LogEntry.objects.all().delete()
    text = csv_text(["external_id", "name", "Employees", "Owner"], [["N-1", "New Co", "1,200", "csm@example.com"]])
    _run(users, text)
    account = Account.objects.get(external_id="N-1")
    entry = LogEntry.objects.get(object_id=account.pk)
    assert (entry.action, entry.object_repr, entry.actor) == (LogEntry.Action.CREATE, "New Co", users["admin"])
    assert entry.changes_dict == {
        "external_id": ["None", "N-1"], "name": ["None", "New Co"], "employee_count": ["None", "1200"],
        "owner": ["None", str(users["csm"].pk)],
    }  # fmt: skip


def test_contracts_of_many_chunks_refresh_every_account(users, small_chunks):
    accounts = [AccountFactory(external_id=f"A-{i}") for i in range(5)]
    today = dt.date.today()
    text = csv_text(
        ["Contract ID", "Account ID", "Start Date", "End Date", "Amount"],
        [[f"K-{i}", f"A-{i}", today.isoformat(), (today + dt.timedelta(days=30)).isoformat(), "100"] for i in
         range(5)],
    )  # fmt: skip
    ctx = _run(users, text, kind="contracts")
    assert ctx.counts["create"] == 5 and Contract.objects.count() == 5
    for account in accounts:
        account.refresh_from_db()
        assert account.arr == Decimal("100")


def test_progress_is_written_at_most_every_half_second(users, monkeypatch):
    job = ImportJob.objects.create(kind="accounts", content="external_id\nx\n", total_rows=6000)
    clock = iter([100.0, 100.1, 100.2, 100.7])
    monkeypatch.setattr(services.time, "monotonic", lambda: next(clock))
    update = services._progress(job.pk)
    ctx = engine.Context(kind="accounts", fields={}, apply=False)
    seen = []
    for done in (2000, 4000, 5000, 6000):
        update(ctx, done)
        seen.append(ImportJob.objects.get(pk=job.pk).processed_rows)
    assert seen == [2000, 2000, 2000, 6000]  # the first chunk at once, then only after 0.5 s


def test_updates_of_many_chunks_in_one_transaction(users, small_chunks):
    """All-or-nothing writes every chunk in one transaction: each chunk's staging table is its own."""
    for i in range(7):
        AccountFactory(external_id=f"U-{i}", name=f"Old {i}", industry="Retail")
    text = csv_text(["external_id", "industry"], [[f"U-{i}", "Fintech"] for i in range(7)])
    with transaction.atomic():
        ctx = _run(users, text)
    assert ctx.counts == {"create": 0, "update": 7, "reject": 0}
    assert set(Account.objects.values_list("industry", flat=True)) == {"Fintech"}
    assert LogEntry.objects.filter(changes__industry=["Retail", "Fintech"]).count() == 7
