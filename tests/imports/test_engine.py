"""Import of files with good, bad and duplicate rows: exact reasons, idempotency, all-or-nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account, Contact, Contract
from imports import services
from imports.models import ImportJob
from tests.factories import AccountFactory, ContactFactory, ContractFactory
from tests.imports.factories import csv_text
from timeline.models import TimelineEntry

pytestmark = pytest.mark.django_db

# A Salesforce-style export: aliases, mixed case, an unknown column.
ACCOUNTS = csv_text(
    ["Account ID", "Account Name", "Website", "Segment", "Account Owner", "Employees", "Stage", "Favourite colour",
     "Parent Account ID"],
    [
        ["A-1", "Acme", "acme.example", "Enterprise", "csm@example.com", "1,200", "Onboarding", "red", ""],
        ["A-2", "Globex", "globex.example", "mid market", "", "", "adoption", "", "A-1"],
        ["A-3", "Bad Tier Co", "", "Platinum", "", "", "", "", ""],
        ["A-1", "Acme again", "", "", "", "", "", "", ""],
        ["", "No Id Co", "", "", "", "", "", "", ""],
        ["A-4", "Nobody's", "", "", "ghost@example.com", "", "", "", ""],
        ["A-5", "", "", "", "", "", "", "", ""],
        ["A-6", "Kid", "", "", "", "", "", "", "A-404"],
        ["A-7", "Viewer owned", "", "", "viewer@example.com", "lots", "", "", ""],
        ["A-8", "Child first", "", "smb", "", "", "", "", "A-9"],
        ["A-9", "Parent later", "", "smb", "", "", "", "", ""],
    ],
)  # fmt: skip
EXPECTED = [
    [2, "create", "A-1", ""],
    [3, "create", "A-2", ""],
    [4, "reject", "A-3", "tier: 'Platinum' is not one of enterprise, mid_market, smb"],
    [5, "reject", "A-1", "duplicate: A-1 already appears on line 2"],
    [6, "reject", "", "external_id: required (the account's id in your CRM)"],
    [7, "reject", "A-4", "owner_email: no user with email ghost@example.com"],
    [8, "reject", "A-5", "name: required for a new account"],
    [9, "reject", "A-6", "parent_external_id: no account with external id A-404"],
    [
        10,
        "reject",
        "A-7",
        "employee_count: 'lots' is not a whole number; owner_email: viewer@example.com is a viewer and "
        "cannot own accounts",
    ],
    [11, "create", "A-8", ""],
    [12, "create", "A-9", ""],
]


def _job(users, text, kind="accounts", all_or_nothing=False, django_capture_on_commit_callbacks=None):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.import_job_create(
            kind=kind, filename="x.csv", raw=text.encode(), created_by=users["admin"], all_or_nothing=all_or_nothing
        )
    return ImportJob.objects.get(pk=job.pk)


def _start(job, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.import_start(job=job)
    return ImportJob.objects.get(pk=job.pk)


def test_dry_run_reports_every_row_and_writes_nothing(users, django_capture_on_commit_callbacks):
    job = _job(users, ACCOUNTS, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    assert job.status == "validated"
    assert job.results == EXPECTED
    assert (job.created_count, job.updated_count, job.rejected_count) == (4, 0, 7)
    assert job.ignored_columns == ["Favourite colour"]
    assert job.columns["owner_email"] == "Account Owner"
    assert not Account.objects.exists()


def test_import_applies_valid_rows_then_rerun_updates_never_duplicates(users, django_capture_on_commit_callbacks):
    job = _job(users, ACCOUNTS, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    job = _start(job, django_capture_on_commit_callbacks)
    assert job.status == "done" and job.results == EXPECTED
    acme = Account.objects.get(external_id="A-1")
    assert (acme.name, acme.tier, acme.owner, acme.employee_count) == ("Acme", "enterprise", users["csm"], 1200)
    assert Account.objects.get(external_id="A-2").parent == acme
    assert Account.objects.get(external_id="A-8").parent == Account.objects.get(external_id="A-9")
    assert Account.objects.count() == 4
    # Re-running the same file: updates only.
    again = _start(job, django_capture_on_commit_callbacks)
    assert (again.created_count, again.updated_count, again.rejected_count) == (0, 4, 7)
    assert Account.objects.count() == 4


def test_all_or_nothing_stores_nothing_when_a_row_is_bad(users, django_capture_on_commit_callbacks):
    job = _job(
        users, ACCOUNTS, all_or_nothing=True, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
    )
    job = _start(job, django_capture_on_commit_callbacks)
    assert job.status == "failed"
    assert "7 row(s) rejected: nothing was imported" in job.error
    assert [r for r in job.results if r[1] == "reject"] == [r for r in EXPECTED if r[1] == "reject"]
    assert not Account.objects.exists()


def test_all_or_nothing_applies_a_clean_file(users, django_capture_on_commit_callbacks):
    good = csv_text(["external_id", "name"], [["B-1", "One"], ["B-2", "Two"]])
    job = _job(users, good, all_or_nothing=True, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    job = _start(job, django_capture_on_commit_callbacks)
    assert job.status == "done" and Account.objects.count() == 2


def test_blank_cells_keep_current_values_on_update(users, django_capture_on_commit_callbacks):
    AccountFactory(external_id="C-1", name="Keep", industry="Retail", tier="enterprise")
    text = csv_text(["external_id", "name", "industry", "tier"], [["C-1", "", "Fintech", ""]])
    job = _start(_job(users, text, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks),
                 django_capture_on_commit_callbacks)  # fmt: skip
    account = Account.objects.get(external_id="C-1")
    assert (job.updated_count, account.name, account.industry, account.tier) == (1, "Keep", "Fintech", "enterprise")


def test_contacts_import(users, django_capture_on_commit_callbacks):
    acme = AccountFactory(external_id="A-1")
    existing = ContactFactory(account=acme, email="old@acme.example", name="Old Name", is_primary=True)
    text = csv_text(
        ["Account ID", "First Name", "Last Name", "Email", "Title", "Role", "Primary"],
        [
            ["A-1", "Old", "Renamed", "OLD@acme.example", "CTO", "decision maker", "no"],
            ["A-1", "Nia", "Park", "nia@acme.example", "", "champion", "yes"],
            ["A-1", "Dup", "", "nia@acme.example", "", "", ""],
            ["A-404", "Who", "", "who@x.example", "", "", ""],
            ["A-1", "", "", "new@acme.example", "", "", ""],
            ["A-1", "Ben", "", "ben@acme.example", "", "boss", ""],
            ["A-1", "Bad Mail", "", "not-an-email", "", "", ""],
            ["A-1", "Two", "", "two@acme.example", "", "", "yes"],
        ],
    )  # fmt: skip
    job = _job(users, text, kind="contacts", django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    reasons = {r[0]: r[3] for r in job.results}
    assert [r[1] for r in job.results] == ["update", "create", "reject", "reject", "reject", "reject", "reject",
                                           "reject"]  # fmt: skip
    assert reasons[4] == "duplicate: nia@acme.example already appears on line 3"
    assert reasons[5] == "account_external_id: no account with external id A-404"
    assert reasons[6] == "name: required for a new contact (name, or first and last name)"
    assert reasons[7].startswith("role: 'boss' is not one of")
    assert reasons[8] == "email: Enter a valid email address."
    assert reasons[9] == "is_primary: line 3 already makes a primary contact"
    _start(job, django_capture_on_commit_callbacks)
    existing.refresh_from_db()
    assert (existing.name, existing.title, existing.is_primary) == ("Old Renamed", "CTO", False)
    assert Contact.objects.get(email="nia@acme.example").is_primary
    assert Contact.objects.count() == 2


def test_contracts_import_refreshes_arr_and_timeline(users, django_capture_on_commit_callbacks):
    acme = AccountFactory(external_id="A-1")
    other = AccountFactory(external_id="A-2")
    ContractFactory(account=other, external_id="K-9")
    today = dt.date.today()
    text = csv_text(
        ["Contract ID", "Account ID", "Start Date", "End Date", "Amount", "Billing Frequency", "Seats", "Auto Renewal"],
        [
            ["K-1", "A-1", today.isoformat(), (today + dt.timedelta(days=365)).isoformat(), "$1,000.00", "Monthly",
             "10", "yes"],
            ["K-2", "A-1", today.isoformat(), (today - dt.timedelta(days=1)).isoformat(), "100", "annual", "", ""],
            ["K-3", "A-1", "03/04/2025", "2026-01-01", "100", "", "", ""],
            ["K-4", "A-1", today.isoformat(), "", "100", "", "", ""],
            ["K-9", "A-1", "", "", "5", "", "", ""],
            ["K-5", "A-1", today.isoformat(), (today + dt.timedelta(days=30)).isoformat(), "-5", "", "", ""],
        ],
    )  # fmt: skip
    job = _job(users, text, kind="contracts", django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    reasons = [r[3] for r in job.results]
    assert reasons == [
        "",
        "end_date: The end date must be on or after the start date.",
        "start_date: '03/04/2025' is not a date (use YYYY-MM-DD)",
        "end_date: required for a new contract",
        "account_external_id: contract K-9 belongs to another account",
        "recurring_amount: '-5' must be zero or more",
    ]
    _start(job, django_capture_on_commit_callbacks)
    contract = Contract.objects.get(external_id="K-1")
    assert (contract.arr, contract.seats, contract.auto_renew) == (Decimal("12000.00"), 10, True)
    acme.refresh_from_db()
    assert acme.arr == Decimal("12000.00")
    assert TimelineEntry.objects.filter(account=acme, kind="contract", source_id=str(contract.pk)).exists()


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("", "accounts", "The file is empty."),
        ("name,domain\nAcme,acme.example\n", "accounts", "Missing required column(s): external_id"),
        ("external_id,name\n", "accounts", "The file has a header but no rows."),
        ("external_id\nK-1\n", "contracts", "Missing required column(s): account_external_id"),
    ],
)
def test_bad_files_are_refused_at_upload(users, text, kind, message):
    with pytest.raises(ValidationError) as exc:
        services.import_job_create(kind=kind, filename="x.csv", raw=text.encode(), created_by=users["admin"],
                                   all_or_nothing=False)  # fmt: skip
    assert message in exc.value.message_dict["file"][0]
    assert not ImportJob.objects.exists()


def test_windows_1252_and_bom(users, django_capture_on_commit_callbacks):
    raw = "\ufeffexternal_id,name\nW-1,Café Müller\n".encode()
    job = services.import_job_create(kind="accounts", filename="x.csv", raw=raw, created_by=users["admin"],
                                     all_or_nothing=False)  # fmt: skip
    assert job.columns == {"external_id": "external_id", "name": "name"}
    raw = "external_id,name\nW-2,Café\n".encode("cp1252")
    job = services.import_job_create(kind="accounts", filename="x.csv", raw=raw, created_by=users["admin"],
                                     all_or_nothing=False)  # fmt: skip
    assert "Café" in job.content


def test_start_only_when_dry_run_is_done(users):
    job = ImportJob.objects.create(kind="accounts", content="external_id\nx\n", total_rows=1, status="running")
    with pytest.raises(ValidationError):
        services.import_start(job=job)
    # A finished job's task running again does nothing (idempotent).
    job.status = "done"
    job.save()
    services.import_apply(job_id=job.pk)
    services.import_dry_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "done" and job.results == []


def test_import_leaves_an_audit_entry_per_written_row(users, django_capture_on_commit_callbacks):
    kept = AccountFactory(external_id="U-1", name="Same", industry="Retail")
    changed = AccountFactory(external_id="U-2", name="Before", industry="Retail")
    text = csv_text(
        ["external_id", "name", "industry", "Account Owner"],
        [["U-1", "Same", "Retail", ""], ["U-2", "After", "Retail", "csm@example.com"], ["U-3", "New Co", "", ""],
         ["U-4", "", "", ""]],
    )  # fmt: skip
    LogEntry.objects.all().delete()
    job = _job(users, text, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    assert not LogEntry.objects.exists()  # the dry run writes nothing
    job = _start(job, django_capture_on_commit_callbacks)
    assert [r[1:] for r in job.results] == [
        ["update", "U-1", "unchanged"], ["update", "U-2", ""], ["create", "U-3", ""],
        ["reject", "U-4", "name: required for a new account"],
    ]  # fmt: skip
    entries = {e.object_id: e for e in LogEntry.objects.all()}
    created = Account.objects.get(external_id="U-3")
    assert set(entries) == {changed.pk, created.pk}  # unchanged and rejected rows leave none
    assert entries[changed.pk].action == LogEntry.Action.UPDATE
    owners = [str(changed.owner_id), str(users["csm"].pk)]
    assert entries[changed.pk].changes_dict == {"name": ["Before", "After"], "owner": owners}
    assert entries[created.pk].action == LogEntry.Action.CREATE
    assert entries[created.pk].changes_dict == {"external_id": ["None", "U-3"], "name": ["None", "New Co"]}
    for entry in entries.values():
        assert (entry.actor, entry.additional_data) == (users["admin"], {"import_job": job.pk})
    assert kept.pk not in entries


def test_all_or_nothing_rollback_leaves_no_audit_entry(users, django_capture_on_commit_callbacks):
    LogEntry.objects.all().delete()
    job = _job(
        users, ACCOUNTS, all_or_nothing=True, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
    )
    assert _start(job, django_capture_on_commit_callbacks).status == "failed"
    assert not LogEntry.objects.exists()


def test_contract_audit_and_timeline_point_at_the_new_rows(users, django_capture_on_commit_callbacks):
    acme = AccountFactory(external_id="A-1")
    text = csv_text(
        ["Contract ID", "Account ID", "Start Date", "End Date", "Amount", "Billing Frequency"],
        [["K-1", "A-1", "2026-01-01", "2026-12-31", "100", "monthly"],
         ["K-2", "A-1", "2026-02-30", "2026-12-31", "100", ""]],
    )  # fmt: skip
    LogEntry.objects.all().delete()
    job = _job(users, text, kind="contracts", django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    assert job.results[1][3] == "start_date: '2026-02-30' is not a date (use YYYY-MM-DD)"
    _start(job, django_capture_on_commit_callbacks)
    contract = Contract.objects.get(external_id="K-1")
    entry = LogEntry.objects.get(object_id=contract.pk)
    assert entry.changes_dict["arr"] == ["None", "1200.00"] and entry.changes_dict["account"] == ["None", str(acme.pk)]
    assert TimelineEntry.objects.get(source_id=str(contract.pk)).account == acme


# start: savepoint, job locked, job saved, release; apply: claim the job, job + creator, active users (owners),
# existing accounts by key, the chunk's savepoint (and SET LOCAL jit = off on PostgreSQL), [ids from the sequence
# + COPY on PostgreSQL | one INSERT on SQLite], content type, audit entries (COPY | INSERT), its release,
# progress, finish; then the test's re-read of the job. Whatever the row count.
EXPECTED_QUERIES = {"postgresql": 18, "sqlite": 16}


@pytest.mark.parametrize("rows", [10, 40])  # SQLite splits an INSERT at 999 parameters (~45 accounts)
def test_import_query_count_does_not_grow_with_rows(users, django_capture_on_commit_callbacks, rows):
    text = csv_text(["external_id", "name"], [[f"Q-{i}", f"Q {i}"] for i in range(rows)])
    job = _job(users, text, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    ContentType.objects.clear_cache()  # the audit entries look their content type up once (then it is cached)
    with CaptureQueriesContext(connection) as queries:
        _start(job, django_capture_on_commit_callbacks)
    assert Account.objects.count() == rows
    assert len(queries) == EXPECTED_QUERIES[connection.vendor]
