"""Import pages (admins only), the progress endpoint, and the CSV exports (every role)."""

import csv
import io

import pytest
from django.urls import reverse

from accounts.models import Account
from imports.models import ImportJob
from tests.factories import AccountFactory, UserFactory
from tests.imports.factories import csv_text, upload
from tests.timeline.factories import log_activity, record

pytestmark = pytest.mark.django_db
GOOD = csv_text(["external_id", "name"], [["V-1", "One"], ["V-2", "Two"], ["V-2", "Dup"]])


@pytest.mark.parametrize("role", ["manager", "csm", "viewer"])
def test_import_pages_refuse_other_roles(client_as, role):
    job = ImportJob.objects.create(kind="accounts", content=GOOD, total_rows=3, status="validated")
    client = client_as(role)
    assert client.get(reverse("imports:list")).status_code == 403
    assert client.post(reverse("imports:list"), {"kind": "accounts", "file": upload(GOOD)}).status_code == 403
    assert client.get(reverse("imports:detail", args=[job.pk])).status_code == 403
    assert client.get(reverse("imports:progress", args=[job.pk])).status_code == 403
    assert client.post(reverse("imports:start", args=[job.pk])).status_code == 403
    assert not Account.objects.exists()


def test_upload_dry_run_start_and_results(client_as, django_capture_on_commit_callbacks):
    client = client_as("admin")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:list"), {"kind": "accounts", "file": upload(GOOD)})
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("imports:detail", args=[job.pk])
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "Dry run: 2 to create, 0 to update, 1 rejected" in page
    assert "duplicate: V-2 already appears on line 3" in page
    assert not Account.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:start", args=[job.pk]))
    assert Account.objects.count() == 2
    rejected = client.get(reverse("imports:detail", args=[job.pk]), {"action": "reject"}).content.decode()
    assert rejected.count('data-action="reject"') == 1 and 'data-action="create"' not in rejected


def test_upload_form_errors(client_as):
    client = client_as("admin")
    response = client.post(reverse("imports:list"), {"kind": "accounts", "file": upload("name\nAcme\n")})
    assert "Missing required column(s): external_id" in response.content.decode()
    response = client.post(reverse("imports:list"), {"kind": "planets", "file": upload(GOOD)})
    assert "Select a valid choice" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_progress_polls_while_busy_then_refreshes(client_as):
    job = ImportJob.objects.create(kind="accounts", content=GOOD, total_rows=4, processed_rows=1, status="running")
    client = client_as("admin")
    body = client.get(reverse("imports:progress", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in body and "25%" in body
    ImportJob.objects.filter(pk=job.pk).update(status="done", processed_rows=4)
    response = client.get(reverse("imports:progress", args=[job.pk]), {"was_busy": "1"})
    assert response["HX-Refresh"] == "true" and "every 1s" not in response.content.decode()


@pytest.mark.parametrize("n", [1, 20])
def test_import_list_query_count(client_as, django_assert_num_queries, n):
    for _ in range(n):
        ImportJob.objects.create(kind="accounts", content=GOOD, total_rows=3)
    client = client_as("admin")
    # 1 session, 2 user, 3 jobs (+created_by).
    with django_assert_num_queries(3):
        response = client.get(reverse("imports:list"))
    assert response.content.decode().count("/imports/") >= n


def test_detail_and_progress_query_counts(client_as, django_assert_num_queries):
    job = ImportJob.objects.create(
        kind="accounts", content=GOOD, total_rows=3, results=[[2, "create", "V-1", ""]] * 300
    )
    client = client_as("admin")
    # 1 session, 2 user, 3 job.
    with django_assert_num_queries(3):
        client.get(reverse("imports:detail", args=[job.pk]))
    with django_assert_num_queries(3):
        client.get(reverse("imports:progress", args=[job.pk]))


def _rows(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize("n", [1, 20])
def test_account_export_uses_the_page_filters(client_as, csm, other_csm, django_assert_num_queries, n):
    for i in range(n):
        AccountFactory(owner=csm, tier="enterprise", name=f"Ent {i:02d}")
    AccountFactory(owner=csm, tier="smb", name="Small")
    AccountFactory(owner=other_csm, tier="enterprise", name='=HYPERLINK("evil")')
    client = client_as("csm")
    # 1 session, 2 user, 3 accounts (+owner, parent) streamed.
    with django_assert_num_queries(3):
        response = client.get(reverse("imports:account_export"), {"tier": "enterprise"})
        rows = _rows(response)
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0][:3] == ["external_id", "name", "domain"]
    assert [r[1] for r in rows[1:]] == [f"Ent {i:02d}" for i in range(n)]  # the CSM's own book by default
    everyone = _rows(client.get(reverse("imports:account_export"), {"scope": "all", "q": "HYPERLINK"}))
    assert everyone[1][1] == '\'=HYPERLINK("evil")'  # no formula injection into spreadsheets
    bad = client.get(reverse("imports:account_export"), {"arr_min": "lots"})
    assert bad.status_code == 400
    assert bad["Content-Type"].startswith("text/html")  # a page with the error and a way back, not plain text
    assert "arr_min" in bad.content.decode()


def test_account_export_from_the_button_treats_empty_filters_as_any(client_as, csm):
    """The book's form sends every field, empty ones included, exactly as the button builds the link."""
    AccountFactory(owner=csm, tier="enterprise", name="Big")
    AccountFactory(owner=csm, tier="smb", name="Small")
    client = client_as("csm")
    page_params = {"q": "", "scope": "mine", "tier": "", "lifecycle_stage": "", "owner": "", "segment": "",
                   "renewal_before": "", "arr_min": "", "ordering": "name"}  # fmt: skip
    response = client.get(reverse("imports:account_export"), page_params)
    assert response.status_code == 200
    assert [r[1] for r in _rows(response)[1:]] == ["Big", "Small"]
    only_smb = _rows(client.get(reverse("imports:account_export"), {**page_params, "tier": "smb"}))
    assert [r[1] for r in only_smb[1:]] == ["Small"]  # exactly the filters on screen
    page = client.get(reverse("accounts:list"), page_params)
    assert "not understood" not in page.content.decode()
    assert [a.name for a in page.context["page"].object_list] == ["Big", "Small"]


def test_exported_accounts_import_back(client_as, csm, django_capture_on_commit_callbacks):
    AccountFactory(owner=csm, external_id="R-1", name="Round Trip", tier="mid_market")
    exported = b"".join(client_as("csm").get(reverse("imports:account_export")).streaming_content)
    Account.objects.update(name="Changed")
    client = client_as("admin")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:list"), {"kind": "accounts", "file": upload(exported.decode())})
    job = ImportJob.objects.get()
    assert job.rejected_count == 0 and job.updated_count == 1, job.results
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:start", args=[job.pk]))
    assert Account.objects.get(external_id="R-1").name == "Round Trip"


@pytest.mark.parametrize("n", [1, 20])
def test_timeline_export(client_as, csm, django_assert_num_queries, n):
    account = AccountFactory(owner=csm)
    colleague = UserFactory(full_name="Pat Colleague")
    for i in range(n):
        activity = log_activity(account, csm, days_ago=i + 1, summary=f"call {i}")
        activity.attendee_users.set([colleague])
        record(account, days_ago=i + 1.5, title=f"health {i}")
    client = client_as("viewer")
    # 1 session, 2 user, 3 account, 4 entries (+actor, activity, author), 5 contacts, 6 users (prefetch per chunk).
    with django_assert_num_queries(6):
        rows = _rows(client.get(reverse("imports:timeline_export", args=[account.pk])))
    assert len(rows) == 2 * n + 1
    assert rows[1][2] == "Call: call 0" and rows[1][7] == "Pat Colleague" and rows[2][2] == "health 0"
    assert client.get(reverse("imports:timeline_export", args=[account.pk]), {"kind": "bad"}).status_code == 400
    assert client.get(reverse("imports:timeline_export", args=[999999])).status_code == 404


def test_exports_need_login(client):
    assert client.get(reverse("imports:account_export")).status_code == 302
