"""A 50,000-row import runs as a background task while the import page shows its progress.

With REDIS_URL set (CI) it goes through a real Redis to a real Celery worker while the test polls the
progress endpoint; without it the task runs in-process and the test reads the progress endpoint from
inside each chunk's progress update. Either way the page is seen part-way and at 100%.
"""

import os
import re
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connections
from django.urls import reverse

from accounts.models import Account
from csp.celery import QUEUES, app
from imports import services
from imports.models import ImportJob
from tests.imports.factories import csv_text, upload
from tests.workers import purge_queues

ROWS = 50_000


def _csv() -> str:
    tiers = ["smb", "Mid-Market", "enterprise"]
    return csv_text(
        ["Account ID", "Account Name", "Website", "Segment", "Industry", "Employees", "Region"],
        [[f"BULK-{i:06d}", f"Bulk customer {i}", f"bulk{i}.example", tiers[i % 3], "Software", str(10 + i % 900),
          "EMEA"] for i in range(ROWS)],
    )  # fmt: skip


def _shown(client, job_id) -> tuple[int, int]:
    body = client.get(reverse("imports:progress", args=[job_id])).content.decode()
    done, total = re.search(r'data-testid="import-count">([\d,]+) / ([\d,]+) rows', body).groups()
    return int(done.replace(",", "")), int(total.replace(",", ""))


@pytest.mark.skipif(bool(os.environ.get("REDIS_URL")), reason="with Redis the worker variant runs instead")
def test_50k_rows_in_process_with_progress(client_as, django_capture_on_commit_callbacks, monkeypatch):
    client = client_as("admin")
    seen: list[tuple[int, int]] = []
    original = services._progress

    def spying(job_id):
        update = original(job_id)

        def wrapped(ctx, done):
            update(ctx, done)
            seen.append(_shown(client, job_id))

        return wrapped

    monkeypatch.setattr(services, "_progress", spying)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:list"), {"kind": "accounts", "file": upload(_csv())})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.status == "validated" and job.created_count == ROWS
    seen.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:start", args=[job.pk]))
    # The first chunk's progress is written at once, later ones at most every PROGRESS_EVERY seconds; the page
    # never goes backwards and shows the whole file once the job is done.
    assert seen[0] == (2000, ROWS) and seen == sorted(seen)
    assert _shown(client, job.pk) == (ROWS, ROWS)
    assert Account.objects.count() == ROWS
    assert "Imported" in client.get(reverse("imports:detail", args=[job.pk])).content.decode()


def _close_connections(**kwargs):
    connections.close_all()


@pytest.mark.worker
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: a real Redis for the worker")
def test_50k_rows_through_a_worker_with_progress(transactional_db, client, admin_user):
    client.force_login(admin_user)
    purge_queues()  # leftovers of earlier runs on this Redis db are not ours
    # The worker thread's own database connection must not outlive the test (it would block the test
    # database's teardown).
    task_postrun.connect(_close_connections)
    observed = []
    with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=30, queues=QUEUES):
        response = client.post(reverse("imports:list"), {"kind": "accounts", "file": upload(_csv())})
        job = ImportJob.objects.get()
        assert response.status_code == 302
        deadline = time.monotonic() + 120
        while ImportJob.objects.get(pk=job.pk).status == "validating" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert ImportJob.objects.get(pk=job.pk).status == "validated"
        client.post(reverse("imports:start", args=[job.pk]))
        while time.monotonic() < deadline:
            observed.append(_shown(client, job.pk))
            if ImportJob.objects.get(pk=job.pk).status in ("done", "failed"):
                break
            time.sleep(0.1)
    task_postrun.disconnect(_close_connections)
    job.refresh_from_db()
    assert job.status == "done", job.error
    assert any(0 < done < ROWS for done, _ in observed), observed  # the bar moved part-way
    assert _shown(client, job.pk) == (ROWS, ROWS)
    assert Account.objects.filter(external_id__startswith="BULK-").count() == ROWS
