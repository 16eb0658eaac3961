"""Benchmark: CSV imports through the real job path, as an admin runs them.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python manage.py bench_import [--rows 50000]

For each file (accounts, then accounts again unchanged and all changed, contacts, contracts) it:
1. uploads the CSV to ``POST /api/v1/imports/`` on gunicorn (started as the Dockerfile runs it) with an admin's
   API token: the header check and the file stored in the database (201);
2. waits for the dry run, which a real Celery worker (Redis broker, the ``long`` queue of CELERY_TASK_ROUTES)
   runs with its progress writes, polling ``GET /api/v1/imports/<id>/`` every 0.1 s as a client would;
3. ``POST /api/v1/imports/<id>/start/`` (202) and waits for the import task to finish (status ``done``).

It prints, per file: the upload, the dry run (from the upload's answer to ``validated``), the import (from the
start call to ``done``), and the whole path (upload sent to ``done``), each in seconds and rows per second, with
the load average beside them. ``--rounds`` repeats every file (the rows already exist after the first round, so
later rounds of a "create" file are updates) and prints the median; use ``--fresh`` to start each round from an
empty database.

It runs in a scratch PostgreSQL database (``<name>_import_bench``, created, migrated and dropped), so nothing
touches real data. Needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL).
"""

import datetime as dt
import http.client
import json
import os
import statistics
import sys
import time
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from csp import benchtools
from csp.benchtools import backend_cpu, load_average, server_env, start_gunicorn, start_worker, stop, tree_cpu

WORKER_APP = "csp-import-bench-worker"
POLL = 0.1  # seconds between status polls (the import page polls every second)


def _csv_bytes(header: list[str], rows) -> bytes:
    # csv.writer is too slow to matter here, but a join is simpler and the cells need no quoting.
    lines = [",".join(header), *(",".join(row) for row in rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


def files(n: int) -> list[tuple[str, str, bytes]]:
    """(label, kind, CSV bytes) of every pass, in order: contacts and contracts reference the accounts."""
    today = dt.date.today()
    end = today + dt.timedelta(days=365)
    account_header = ["Account ID", "Account Name", "Website", "Segment", "Industry", "Employees", "Owner"]

    def accounts(industry: str) -> bytes:
        tiers = ("smb", "mid market", "enterprise")
        return _csv_bytes(
            account_header,
            ([f"BENCH-{i:07d}", f"Bench {i}", f"b{i}.example", tiers[i % 3], industry, str(10 + i % 900),
              "bench.csm@example.com"] for i in range(n)),
        )  # fmt: skip

    contacts = _csv_bytes(
        ["Account ID", "First Name", "Last Name", "Email", "Role"],
        ([f"BENCH-{i:07d}", "Ana", f"Park{i}", f"ana{i}@b{i}.example", "champion"] for i in range(n)),
    )
    contracts = _csv_bytes(
        ["Contract ID", "Account ID", "Start Date", "End Date", "Amount", "Billing Frequency", "Seats"],
        ([f"BENCH-K{i:07d}", f"BENCH-{i:07d}", today.isoformat(), end.isoformat(), "1200", "yearly", "10"]
         for i in range(n)),
    )  # fmt: skip
    return [
        ("accounts create", "accounts", accounts("Software")),
        ("accounts re-run (unchanged)", "accounts", accounts("Software")),
        ("accounts update (all changed)", "accounts", accounts("Fintech")),
        ("contacts create", "contacts", contacts),
        ("contracts create", "contracts", contracts),
    ]


def _multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in
             fields.items()]  # fmt: skip
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Client:
    """One keep-alive connection to gunicorn, authenticated with an admin's API token."""

    def __init__(self, port: int, key: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        self.auth = {"Authorization": f"Token {key}", "Accept": "application/json", "X-Forwarded-Proto": "https"}

    def call(self, method: str, path: str, body: bytes | None = None, content_type: str = "") -> tuple[int, dict]:
        headers = dict(self.auth, **({"Content-Type": content_type} if content_type else {}))
        self.conn.request(method, path, body, headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else {}


class Command(BaseCommand):
    help = "Time CSV imports through gunicorn, Redis and a Celery worker (upload, dry run, import)."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=50_000)
        parser.add_argument("--rounds", type=int, default=1, help="Repeat every file; prints the medians.")
        parser.add_argument("--fresh", action="store_true", help="Empty the database before each round.")
        parser.add_argument("--port", type=int, default=8140, help="gunicorn's port on 127.0.0.1.")
        parser.add_argument(
            "--profile", action="store_true",
            help="Instead: call the services the tasks call, in this process under cProfile, and print the top.",
        )  # fmt: skip
        parser.add_argument(
            "--skip", default="", help="Comma-separated words: files whose label has one are skipped (e.g. contacts).",
        )  # fmt: skip
        parser.add_argument("--keep", action="store_true", help="Keep the scratch database afterwards.")

    def handle(self, *args, **opts):
        if connection.vendor != "postgresql":
            raise CommandError("bench_import needs PostgreSQL: set DATABASE_URL.")
        if not settings.REDIS_URL:
            raise CommandError("bench_import needs a real Redis: set REDIS_URL (the worker is a separate process).")
        if opts["rows"] < 1 or opts["rounds"] < 1:
            raise CommandError("--rows and --rounds must be at least 1.")
        if os.environ.get(benchtools.INNER):
            self._run(opts)
        else:
            self._outer(opts)

    # --- outer: a scratch database, migrated, then the measurement in a child process using it -----------------

    def _outer(self, opts):
        argv = [
            "bench_import",
            "--rows",
            str(opts["rows"]),
            "--rounds",
            str(opts["rounds"]),
            "--port",
            str(opts["port"]),
        ]
        argv += ["--fresh"] if opts["fresh"] else []
        argv += ["--skip", opts["skip"]] if opts["skip"] else []
        argv += ["--profile"] if opts["profile"] else []
        benchtools.run_in_scratch_database(self.stdout, suffix="import_bench", argv=argv, keep=opts["keep"])

    # --- inner: users, worker, web server, then every file ------------------------------------------------------

    def _run(self, opts):
        from csp.models import Role, User
        from csp.services import api_token_rotate

        admin = User.objects.create_user("bench.admin@example.com", role=Role.ADMIN, full_name="Bench Admin")
        User.objects.create_user("bench.csm@example.com", role=Role.CSM, full_name="Bench CSM")
        if opts["profile"]:
            self._profile(admin, opts["rows"])
            return
        key = api_token_rotate(user=admin, days=1).key
        # As production runs it, behind a TLS proxy that says the request came over https.
        env = server_env(SECRET_KEY=os.environ["SECRET_KEY"], BEHIND_TLS_PROXY="true")
        # The worker consumes the queue the import tasks are routed to, as a production worker would.
        # Named connections: the CPU of the worker's PostgreSQL backend is counted with the worker's own.
        worker = start_worker(queues="long", concurrency=1, env=dict(env, PGAPPNAME=WORKER_APP))
        web = None
        try:
            web = start_gunicorn(opts["port"], env=env)
            client = Client(opts["port"], key)
            n = opts["rows"]
            self.stdout.write(
                f"{n:,} rows per file; gunicorn 3x4 gthread, Celery worker x1 on queue long; {load_average()}"
            )
            samples: dict[str, list[dict]] = {}
            for round_no in range(opts["rounds"]):
                if opts["fresh"] and round_no:
                    self._empty()
                skip = [word for word in opts["skip"].split(",") if word]
                for label, kind, content in files(n):
                    if any(word in label for word in skip):
                        continue
                    sample = self._one(client, kind, content, n, worker.pid)
                    samples.setdefault(label, []).append(sample)
                    self._print(f"[{round_no + 1}] {label}", n, sample)
            if opts["rounds"] > 1:
                self.stdout.write("Medians:")
                for label, runs in samples.items():
                    median = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "load"}
                    self._print(label, n, dict(median, load=runs[-1]["load"], counts=runs[-1]["counts"]))
        finally:
            stop(web, worker)

    def _profile(self, admin, n: int) -> None:
        """The upload service, then the dry run and the import exactly as the tasks call them, under cProfile."""
        import cProfile
        import pstats

        from django.test.utils import CaptureQueriesContext

        from imports import services

        for label, kind, content in files(n):
            if "unchanged" in label:
                continue
            profiler = cProfile.Profile()
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                profiler.enable()
                with self.no_enqueue():
                    job = services.import_job_create(
                        kind=kind, filename=f"{kind}.csv", raw=content, created_by=admin, all_or_nothing=False
                    )
                services.import_dry_run(job_id=job.pk)
                job.refresh_from_db()
                with self.no_enqueue():
                    services.import_start(job=job)
                services.import_apply(job_id=job.pk)
                profiler.disable()
                took = time.perf_counter() - start
            self.stdout.write(f"== {label}: {took:.2f} s in process, {len(queries)} queries; {load_average()}")
            stats = pstats.Stats(profiler, stream=sys.stdout)
            stats.sort_stats("cumulative").print_stats(45)
            stats.sort_stats("tottime").print_stats(15)

    @staticmethod
    def no_enqueue():
        # The services queue the tasks on commit; here the tasks are called directly, so nothing is queued.
        from unittest import mock

        return mock.patch("django.db.transaction.on_commit")

    def _empty(self):
        from accounts.models import Account

        Account.objects.all().delete()  # contacts and contracts cascade

    def _one(self, client: Client, kind: str, content: bytes, n: int, worker_pid: int) -> dict:
        body, content_type = _multipart({"kind": kind, "all_or_nothing": "false"}, f"{kind}.csv", content)

        # The worker's backend closes at the end of each task, so it is sampled at every poll (its last sample
        # counts: the CPU of the last poll interval is missed).
        self.backends: dict[int, float] = {}

        def cpu():  # the worker process tree and its database backend
            self.backends = dict(backend_cpu([WORKER_APP])[WORKER_APP])
            return tree_cpu(worker_pid), dict(self.backends)

        def spent(before):
            backend = sum(v - before[1].get(pid, 0.0) for pid, v in self.backends.items())
            return tree_cpu(worker_pid) - before[0], backend

        c0 = cpu()
        t0 = time.perf_counter()
        status, job = client.call("POST", "/api/v1/imports/", body, content_type)
        if status != 201:
            raise CommandError(f"upload answered {status}: {job}")
        t_uploaded = time.perf_counter()
        job = self._wait(client, job["id"], "validated")
        t_validated = time.perf_counter()
        dry_cpu = spent(c0)
        c1 = cpu()
        status, started = client.call("POST", f"/api/v1/imports/{job['id']}/start/", b"{}", "application/json")
        if status != 202:
            raise CommandError(f"start answered {status}: {started}")
        t_start = time.perf_counter()
        job = self._wait(client, job["id"], "done")
        t_done = time.perf_counter()
        import_cpu = spent(c1)
        counts = f"create {job['created_count']}, update {job['updated_count']}, reject {job['rejected_count']}"
        if job["processed_rows"] != n:
            raise CommandError(f"the import processed {job['processed_rows']} of {n} rows")
        return {
            "upload": t_uploaded - t0,
            "dry_run": t_validated - t_uploaded,
            "import": t_done - t_start,
            "total": t_done - t0,
            "load": load_average(),
            "counts": counts,
            "dry_py": dry_cpu[0], "dry_db": dry_cpu[1], "imp_py": import_cpu[0], "imp_db": import_cpu[1],
        }  # fmt: skip

    def _wait(self, client: Client, job_id: int, wanted: str) -> dict:
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            status, job = client.call("GET", f"/api/v1/imports/{job_id}/")
            if status != 200:
                raise CommandError(f"polling the job answered {status}: {job}")
            self.backends.update(backend_cpu([WORKER_APP])[WORKER_APP])
            if job["status"] == wanted:
                return job
            if job["status"] == "failed":
                raise CommandError(f"the job failed: {job['error']}")
            time.sleep(POLL)
        raise CommandError(f"job {job_id} did not reach {wanted} within 30 minutes")

    def _print(self, label: str, n: int, s: dict) -> None:
        rate = lambda key: f"{s[key]:6.2f} s {n / s[key]:8,.0f}/s"  # noqa: E731
        self.stdout.write(
            f"{label:<36} upload {rate('upload')} | dry run {rate('dry_run')} | import {rate('import')} | "
            f"upload→done {rate('total')}  ({s['counts']}; {s['load']})"
        )
        us = lambda key: 1e6 * s[key] / n  # noqa: E731
        self.stdout.write(
            f"{'':<36} CPU per row: dry run worker {us('dry_py'):5.0f} µs + its PostgreSQL backend "
            f"{us('dry_db'):4.0f} µs"
            f" | import worker {us('imp_py'):5.0f} µs + backend {us('imp_db'):4.0f} µs"
        )
