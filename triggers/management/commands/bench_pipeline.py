"""Benchmark: event to CTA through the real stack. With a trigger "health turns red → risk CTA", usage events are
sent through ``POST /v1/batch`` (gunicorn) for accounts that were green; a real Celery worker (Redis broker) refreshes
the rollups, recomputes health (score turns red), evaluates the trigger and opens the CTA. For each account the
time from the 200 answer to the CTA row being committed (seen by polling the database) is measured; prints
p50 / p95 / max. Target: p95 under 1 second.

It runs in a scratch PostgreSQL database (``<name>_pipeline_bench``, created, migrated and dropped), so its
scorecard, accounts and trigger never touch real data. Needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL).
"""

import base64
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from csp.serving import wait_until_healthy

INNER = "CSP_PIPELINE_BENCH_INNER"
EVENTS_PER_ACCOUNT = 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))  # nearest-rank
    return ordered[k]


class Command(BaseCommand):
    help = "Event → CTA latency through gunicorn, Redis and a Celery worker (prints p50 / p95 / max)."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=200, help="Accounts turned red (measured).")
        parser.add_argument("--rate", type=float, default=5.0, help="Accounts sent per second.")
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes.")
        parser.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes.")
        parser.add_argument("--keep", action="store_true", help="Keep the scratch database afterwards.")

    def handle(self, *args, **opts):
        if connection.vendor != "postgresql":
            raise CommandError("bench_pipeline needs PostgreSQL: set DATABASE_URL.")
        if not settings.REDIS_URL:
            raise CommandError("bench_pipeline needs a real Redis: set REDIS_URL.")
        if opts["accounts"] < 1:
            raise CommandError("--accounts must be at least 1.")
        if os.environ.get(INNER):
            self._run(opts)
        else:
            self._outer(opts)

    # --- outer: a scratch database, migrated, then the measurement in a child process using it -----------------

    def _outer(self, opts):
        url = os.environ.get("DATABASE_URL", "")
        parts = urlsplit(url)
        name = f"{settings.DATABASES['default']['NAME']}_pipeline_bench"
        scratch = urlunsplit(parts._replace(path=f"/{name}"))
        self._admin_sql(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
        env = {**os.environ, "DATABASE_URL": scratch, INNER: "1", "DEBUG": "false", "LOG_LEVEL": "WARNING"}
        env.setdefault("SECRET_KEY", secrets.token_urlsafe(40))
        try:
            self.stdout.write(f"Scratch database {name}: migrating…")
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "-v", "0"], env=env, check=True, cwd=settings.BASE_DIR
            )
            argv = [sys.executable, "manage.py", "bench_pipeline", "--accounts", str(opts["accounts"]), "--rate",
                    str(opts["rate"]), "--concurrency", str(opts["concurrency"]), "--web-workers",
                    str(opts["web_workers"])]  # fmt: skip
            code = subprocess.run(argv, env=env, cwd=settings.BASE_DIR).returncode
        finally:
            if not opts["keep"]:
                self._admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if code:
            raise CommandError(f"the benchmark failed (exit {code})")

    def _admin_sql(self, *statements):
        # CREATE/DROP DATABASE run outside a transaction on the server's maintenance database (as Django's test
        # database creation does), so the configured database need not exist.
        with connection._nodb_cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    # --- inner: set up, start worker and web server, send, poll, report -----------------------------------------

    def _run(self, opts):
        n = opts["accounts"]
        key, account_ids = self._setup(n + 1)  # the first account warms the pipeline and is not measured
        worker = self._start_worker(opts["concurrency"])
        port = _free_port()
        web = self._start_gunicorn(port, opts["web_workers"])
        try:
            warm = self._measure(port, key, account_ids[:1], rate=1.0, timeout=30)
            if not warm:
                raise CommandError("The warm-up account never got its CTA: is the pipeline wired?")
            latencies = self._measure(port, key, account_ids[1:], rate=opts["rate"], timeout=60)
        finally:
            for proc in (web, worker):
                proc.terminate()
            for proc in (web, worker):
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        missing = n - len(latencies)
        if not latencies:
            raise CommandError("No CTA was opened within 60 s.")
        ms = [v * 1000 for v in latencies]
        p50, p95 = _percentile(ms, 50), _percentile(ms, 95)
        setup = f"{opts['web_workers']} gunicorn workers, Celery worker x{opts['concurrency']}"
        self.stdout.write(
            f"Event → CTA over {len(ms)} accounts ({opts['rate']:g}/s through /v1/batch, {setup}): "
            f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {max(ms):.0f} ms"
            + (f"; {missing} account(s) got no CTA within 60 s" if missing else "")
        )
        verdict = "meets" if p95 < 1000 and not missing else "MISSES"
        self.stdout.write(f"Target p95 < 1000 ms: {verdict}")

    def _setup(self, count: int) -> tuple[str, list[int]]:
        from accounts.models import Account
        from csp.models import Role, User
        from events.services import source_create
        from health.models import AccountHealth, Measure, Scorecard
        from playbooks.models import Playbook, PlaybookTask
        from triggers.models import Trigger

        # One scorecard: 30-day active users against 10 → one active user scores 10 (red). Accounts were green.
        Scorecard.objects.all().delete()
        card = Scorecard.objects.create(name="Bench usage", is_default=True, yellow_from=40, green_from=70)
        Measure.objects.create(scorecard=card, key="active_users_30d", group="usage", breakpoints=[[0, 0], [10, 100]])
        owner = User.objects.create_user("bench.csm@example.com", role=Role.CSM, full_name="Bench CSM")
        accounts = Account.objects.bulk_create(
            [Account(name=f"Bench {i:05d}", external_id=f"BENCH-{i:05d}", owner=owner) for i in range(count)]
        )
        now = timezone.now()
        AccountHealth.objects.bulk_create(
            [AccountHealth(account=a, scorecard=card, score=90, band="green", computed_at=now) for a in accounts]
        )
        playbook = Playbook.objects.create(name="Bench risk", cta_type="risk")
        PlaybookTask.objects.create(playbook=playbook, position=0, title="Call the champion", due_in_days=1)
        PlaybookTask.objects.create(playbook=playbook, position=1, title="Exec sponsor email", due_in_days=3)
        Trigger.objects.create(
            name="Health turns red → risk CTA", is_active=True, condition_type="health_band", params={"band": "red"},
            open_cta=True, cta_type="risk", cta_priority="high", cta_playbook=playbook, cooldown_days=14,
        )  # fmt: skip
        _, key = source_create(name="bench")
        return key, [a.id for a in accounts]

    def _env(self) -> dict[str, str]:
        return {**os.environ, "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1", "STATIC_MANIFEST": "false",
                "LOG_LEVEL": "WARNING", "CONN_MAX_AGE": "600"}  # fmt: skip

    def _start_worker(self, concurrency: int) -> subprocess.Popen:
        from csp.celery import app

        app.control.purge()  # leftovers on this Redis db are not ours
        level = os.environ.get("BENCH_WORKER_LOG", "warning")  # "info" logs each task's run time
        cmd = [sys.executable, "-m", "celery", "-A", "csp", "worker", "-l", level, "-c", str(concurrency),
               "-n", f"bench-{secrets.token_hex(3)}@%h", "--without-gossip", "--without-mingle"]  # fmt: skip
        worker = subprocess.Popen(cmd, env=self._env(), cwd=settings.BASE_DIR)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if app.control.ping(timeout=0.5):
                return worker
            if worker.poll() is not None:
                break
        worker.terminate()
        raise CommandError("The Celery worker did not come up within 60 s.")

    def _start_gunicorn(self, port: int, workers: int) -> subprocess.Popen:
        cmd = [sys.executable, "-m", "gunicorn", "csp.wsgi", "--preload", "-b", f"127.0.0.1:{port}", "-w",
               str(workers), "--log-level", "warning"]  # fmt: skip
        server = subprocess.Popen(cmd, env=self._env(), cwd=settings.BASE_DIR)
        if wait_until_healthy(port, server):
            return server
        server.terminate()
        raise CommandError("gunicorn did not come up within 30 s")

    def _measure(self, port: int, key: str, account_ids: list[int], *, rate: float, timeout: float) -> list[float]:
        """Send one batch per account at ``rate``; a poller thread records when each account's CTA is visible."""
        from accounts.models import Account
        from playbooks.models import CTA

        externals = dict(Account.objects.filter(id__in=account_ids).values_list("id", "external_id"))
        answered: dict[int, float] = {}
        seen: dict[int, float] = {}
        done = threading.Event()

        def poll() -> None:
            from django.db import connection as conn

            pending = set(account_ids)
            deadline = time.monotonic() + timeout + len(account_ids) / rate
            while pending and time.monotonic() < deadline:
                found = CTA.objects.filter(account_id__in=pending).values_list("account_id", flat=True)
                stamp = time.monotonic()
                for account_id in found:
                    seen[account_id] = stamp
                    pending.discard(account_id)
                time.sleep(0.005)
            conn.close()
            done.set()

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        start = time.monotonic()
        for i, account_id in enumerate(account_ids):
            time.sleep(max(0.0, start + i / rate - time.monotonic()))
            now = timezone.now().isoformat()
            group = {"groupId": externals[account_id]}
            batch = [
                {
                    "type": "track",
                    "messageId": f"{account_id}-{j}-{secrets.token_hex(4)}",
                    "userId": f"user-{account_id}",
                    "event": "Report Viewed",
                    "timestamp": now,
                    "context": group,
                }
                for j in range(EVENTS_PER_ACCOUNT)
            ]
            client.request("POST", "/v1/batch", json.dumps({"batch": batch}),
                           {"Content-Type": "application/json", "Authorization": auth})  # fmt: skip
            response = client.getresponse()
            response.read()
            if response.status != 200:
                raise CommandError(f"/v1/batch answered {response.status}")
            answered[account_id] = time.monotonic()
        done.wait(timeout + 5)
        return [max(0.0, seen[a] - answered[a]) for a in account_ids if a in seen and a in answered]
