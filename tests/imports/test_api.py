"""/api/v1/imports/: admins only; upload, dry-run rows, start, status; bad input; query counts."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Account
from imports.models import ImportJob
from tests.imports.factories import csv_text, upload

pytestmark = pytest.mark.django_db
GOOD = csv_text(["Account ID", "Name", "Tier"], [["P-1", "One", "smb"], ["P-2", "Two", "gold"]])


def test_anonymous_401():
    assert APIClient().get("/api/v1/imports/").status_code == 401


@pytest.mark.parametrize("role", ["manager", "csm", "viewer"])
def test_other_roles_refused(api_as, role):
    client = api_as(role)
    assert client.get("/api/v1/imports/").status_code == 403
    response = client.post("/api/v1/imports/", {"kind": "accounts", "file": upload(GOOD)}, format="multipart")
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_upload_rows_start_status(api_as, django_capture_on_commit_callbacks):
    client = api_as("admin")
    with django_capture_on_commit_callbacks(execute=True):
        payload = {"kind": "accounts", "file": upload(GOOD), "all_or_nothing": "false"}
        response = client.post("/api/v1/imports/", payload, format="multipart")
    assert response.status_code == 201, response.content
    job_id = response.json()["id"]
    status = client.get(f"/api/v1/imports/{job_id}/").json()
    assert (status["status"], status["created_count"], status["rejected_count"], status["percent"]) == (
        "validated", 1, 1, 100
    )  # fmt: skip
    rows = client.get(f"/api/v1/imports/{job_id}/rows/", {"action": "reject"}).json()
    assert rows["count"] == 1
    assert rows["results"][0] == {"line": 3, "action": "reject", "key": "P-2",
                                  "reason": "tier: 'gold' is not one of enterprise, mid_market, smb"}  # fmt: skip
    assert client.get(f"/api/v1/imports/{job_id}/rows/", {"action": "maybe"}).json()["fields"]["action"]
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"/api/v1/imports/{job_id}/start/")
    assert started.status_code == 202
    assert client.get(f"/api/v1/imports/{job_id}/").json()["status"] == "done"
    assert list(Account.objects.values_list("external_id", flat=True)) == ["P-1"]


def test_bad_uploads_name_the_field(api_as):
    client = api_as("admin")
    missing = client.post("/api/v1/imports/", {"kind": "accounts"}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()["fields"]
    kind = client.post("/api/v1/imports/", {"kind": "planets", "file": upload(GOOD)}, format="multipart")
    assert kind.status_code == 400 and "kind" in kind.json()["fields"]
    header = client.post("/api/v1/imports/", {"kind": "contracts", "file": upload(GOOD)}, format="multipart")
    assert header.status_code == 400 and "Missing required column" in header.json()["fields"]["file"][0]


def test_start_twice_is_refused(api_as):
    job = ImportJob.objects.create(kind="accounts", content=GOOD, total_rows=2, status="running")
    response = api_as("admin").post(f"/api/v1/imports/{job.pk}/start/")
    assert response.status_code == 400 and "status" in response.json()["fields"]


@pytest.mark.parametrize("n", [1, 20])
def test_list_query_count(api_as, django_assert_num_queries, n):
    for _ in range(n):
        ImportJob.objects.create(kind="accounts", content=GOOD, total_rows=2, results=[[2, "create", "x", ""]] * 50)
    client = api_as("admin")
    # 1 count, 2 page (without file or results).
    with django_assert_num_queries(2):
        assert client.get("/api/v1/imports/").json()["count"] == n
