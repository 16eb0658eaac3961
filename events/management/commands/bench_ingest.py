"""Benchmark: ingestion through the real HTTP stack (gunicorn) against PostgreSQL COPY of the same rows.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python manage.py bench_ingest [--events 200000]

Starts gunicorn on a loopback port, sends SDK-shaped batches of 100 track/page calls from several concurrent
client threads, checks every event was stored, and COPYs the same rows into a scratch table shaped like
``events_event`` (same columns, indexes and constraints). It runs rounds of COPY then API (``--rounds``, each
with fresh messageIds) and prints every round with the CPU used during its API run (the machine may be
shared), the best API and COPY rates, and the ratio: the median of the rounds' ratios (each round's COPY runs
right before its API run, which cancels the machine's drift) and, beside it, best rate against best rate.
"""

import base64
import datetime as dt
import http.client
import json
import os
import queue
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from accounts.models import Account
from csp.serving import wait_until_healthy
from events import pipeline, services
from events.models import Event, EventSource, UsageClaim, UsageMark

EVENTS = ["Report Viewed", "Dashboard Opened", "Export Downloaded", "Filter Applied", "Comment Added"]
SCRATCH = "bench_copy_scratch"
COLUMNS = (
    "source_id, message_id, type, event, user_id, anonymous_id, group_id, account_id, timestamp, received_at, "
    "properties, context"
)


def _machine_busy() -> tuple[float, float]:
    """CPU seconds spent by all processes on the machine so far, and seconds stolen by the hypervisor (Linux
    /proc/stat), to show who used the CPU and how much a shared host took away."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields[:7]) - fields[3] - fields[4]) / tick, fields[7] / tick


def _tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its children (gunicorn's master and workers), from /proc."""
    tick, total, pending = os.sysconf("SC_CLK_TCK"), 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{current}/task/{current}/children") as children:
                pending += [int(child) for child in children.read().split()]
        except OSError:
            continue  # the process ended meanwhile
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Command(BaseCommand):
    help = "Ingestion rate through gunicorn vs PostgreSQL COPY of the same rows (prints events/s and the ratio)."

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=200_000)
        parser.add_argument("--batch", type=int, default=100)
        parser.add_argument("--clients", type=int, default=24, help="Concurrent client threads.")
        parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes.")
        parser.add_argument(
            "--threads", type=int, default=4, help="Threads per gunicorn worker (gthread): overlaps commit waits."
        )
        parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
        parser.add_argument("--accounts", type=int, default=50)
        parser.add_argument("--rounds", type=int, default=5, help="Rounds of COPY then API.")
        parser.add_argument("--keep", action="store_true", help="Keep the bench accounts and events afterwards.")

    def handle(self, *args, **opts):
        if connection.vendor != "postgresql":
            raise CommandError("bench_ingest measures PostgreSQL: set DATABASE_URL=postgres://...")
        if not settings.REDIS_URL:
            raise CommandError("Set REDIS_URL: without a broker the rollup refresh would run inside each request.")
        n_events, size = opts["events"], opts["batch"]
        accounts = self._accounts(opts["accounts"])
        source, key = services.source_create(name=f"bench-{secrets.token_hex(4)}")
        self.stdout.write(f"Preparing {n_events} events in batches of {size} for {len(accounts)} accounts...")
        # Rounds of COPY then API, each with fresh messageIds: this machine's speed drifts by tens of percent from
        # minute to minute, and one unlucky run must not decide the ratio.
        results = []
        for number in range(1, opts["rounds"] + 1):
            bodies, rows = self._payloads(source, accounts, n_events, size)
            copy_secs = self._copy(rows)
            api_secs, cpu = self._api_run(key, bodies, opts)
            results.append((api_secs, copy_secs))
            self.stdout.write(
                f"Round {number}: API {n_events / api_secs:,.0f} events/s, COPY {n_events / copy_secs:,.0f} rows/s "
                f"(ratio {copy_secs / api_secs * 100:.1f}%); CPU during the API run: {cpu}"
            )
        stored = Event.objects.filter(source=source).count()
        if stored != n_events * opts["rounds"]:
            raise CommandError(f"Only {stored} of {n_events * opts['rounds']} events were stored.")
        refresh_start = time.perf_counter()
        refreshed = pipeline.usage_refresh(account_ids=list(accounts.values()))
        refresh_secs = time.perf_counter() - refresh_start
        api_secs, copy_secs = min(r[0] for r in results), min(r[1] for r in results)
        api_rate, copy_rate = n_events / api_secs, n_events / copy_secs
        best = f"best of {opts['rounds']}"
        self.stdout.write(
            f"HTTP API (gunicorn {opts['worker_class']}, {opts['workers']} workers x {opts['threads']} threads, "
            f"{opts['clients']} clients, {best}): {n_events} events in {api_secs:.2f} s = {api_rate:,.0f} events/s"
        )
        self.stdout.write(
            f"PostgreSQL COPY (same rows, {best}): {n_events} rows in {copy_secs:.2f} s = {copy_rate:,.0f} rows/s"
        )
        # Each round's COPY runs right before its API run, so their ratio cancels the machine's drift; the median
        # of those is the figure to judge by, the ratio of the two best rates is shown beside it.
        paired = sorted(copy / api * 100 for api, copy in results)
        self.stdout.write(
            f"Ratio API / COPY: median of the rounds {statistics.median(paired):.1f}% "
            f"(rounds {paired[0]:.1f}% to {paired[-1]:.1f}%), best vs best {api_rate / copy_rate * 100:.1f}% "
            "(target >= 40%)"
        )
        self.stdout.write(f"Rollup refresh of {len(refreshed)} accounts after the run: {refresh_secs:.2f} s")
        if not opts["keep"]:
            UsageMark.objects.filter(account_id__in=accounts.values()).delete()
            UsageClaim.objects.filter(account_id__in=accounts.values()).delete()
            Event.objects.filter(source=source).delete()
            Account.objects.filter(id__in=accounts.values()).delete()
            EventSource.objects.filter(pk=source.pk).delete()

    def _api_run(self, key: str, bodies: list[bytes], opts: dict) -> tuple[float, str]:
        """Serve with a fresh gunicorn, send every body; returns the seconds and where the CPU went."""
        port = _free_port()
        server = self._start_gunicorn(port, opts["workers"], opts["threads"], opts["worker_class"])
        busy_before, client_before = _machine_busy(), resource.getrusage(resource.RUSAGE_SELF)
        server_before = _tree_cpu(server.pid)
        try:
            api_secs = self._send(port, key, bodies, opts["clients"])
        finally:
            busy_after, client_after = _machine_busy(), resource.getrusage(resource.RUSAGE_SELF)
            server_cpu = _tree_cpu(server.pid) - server_before
            server.terminate()
            server.wait(timeout=30)
        client_cpu = client_after.ru_utime + client_after.ru_stime - client_before.ru_utime - client_before.ru_stime
        cpu = (
            f"machine {busy_after[0] - busy_before[0]:.1f} core-s of {api_secs * os.cpu_count():.1f} "
            f"(stolen by the host {busy_after[1] - busy_before[1]:.1f}), "
            f"gunicorn {server_cpu:.1f} s, bench clients {client_cpu:.1f} s"
        )
        return api_secs, cpu

    def _accounts(self, count: int) -> dict[str, int]:
        externals = [f"BENCH-{i:04d}" for i in range(1, count + 1)]
        existing = set(Account.objects.filter(external_id__in=externals).values_list("external_id", flat=True))
        Account.objects.bulk_create([Account(name=f"Bench {e}", external_id=e) for e in externals if e not in existing])
        return dict(Account.objects.filter(external_id__in=externals).values_list("external_id", "id"))

    def _payloads(self, source, accounts, n_events, size):
        """SDK-shaped batch bodies, and the same events as COPY rows (what the API stores)."""
        now = dt.datetime.now(dt.UTC)
        externals = list(accounts)
        bodies, rows = [], []
        for start in range(0, n_events, size):
            batch = []
            for i in range(start, min(start + size, n_events)):
                ext = externals[i % len(externals)]
                user = f"{ext}-u{(i // len(externals)) % 40}"
                when = now - dt.timedelta(seconds=i % 86_400)
                kind = "page" if i % 10 == 0 else "track"
                name = "Dashboard" if kind == "page" else EVENTS[i % len(EVENTS)]
                props = {"plan": "pro", "value": i % 97, "path": f"/app/{i % 13}"}
                context = {
                    "groupId": ext,
                    "library": {"name": "analytics-python", "version": "2.3.4"},
                    "ip": "10.0.0.1",
                }
                msg = {
                    "type": kind,
                    "messageId": str(uuid.uuid4()),
                    "userId": user,
                    "timestamp": when.isoformat(),
                    "properties": props,
                    "context": context,
                    ("name" if kind == "page" else "event"): name,
                }
                batch.append(msg)
                rows.append(
                    (
                        source.id, msg["messageId"], kind, name, user, "", ext, accounts[ext], when, now,
                        json.dumps(props), json.dumps(context),
                    )
                )  # fmt: skip
            bodies.append(json.dumps({"batch": batch, "sentAt": now.isoformat()}).encode())
        return bodies, rows

    def _start_gunicorn(self, port: int, workers: int, threads: int, worker_class: str) -> subprocess.Popen:
        env = {
            **os.environ,
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1",
            "STATIC_MANIFEST": "false",
            "LOG_LEVEL": "WARNING",
            "CONN_MAX_AGE": "600",
        }
        # --preload: the app is imported once before forking, so no worker is still booting when timing starts.
        cmd = [sys.executable, "-m", "gunicorn", "csp.wsgi", "--preload", "-b", f"127.0.0.1:{port}", "-w", str(workers)]
        cmd += ["--worker-class", worker_class] + (["--threads", str(threads)] if worker_class == "gthread" else [])
        server = subprocess.Popen([*cmd, "--log-level", "warning"], env=env)
        if wait_until_healthy(port, server):
            return server
        server.terminate()
        raise CommandError("gunicorn did not come up within 30 s")

    def _send(self, port: int, key: str, bodies: list[bytes], clients: int) -> float:
        auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        work: queue.Queue[bytes] = queue.Queue()
        for body in bodies:
            work.put(body)
        failures: list[str] = []

        def client() -> None:
            conn = None
            while True:
                try:
                    body = work.get_nowait()
                except queue.Empty:
                    return
                for _attempt in range(3):
                    try:
                        conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                        conn.request(
                            "POST",
                            "/v1/batch",
                            body,
                            {"Authorization": auth, "Content-Type": "application/json", "User-Agent": "bench"},
                        )
                        response = conn.getresponse()
                        response.read()
                        if response.will_close:
                            conn.close()
                            conn = None
                        if response.status != 200:
                            failures.append(f"HTTP {response.status}")
                        break
                    except (OSError, http.client.HTTPException) as exc:
                        conn = None
                        failures.append(repr(exc))

        threads = [threading.Thread(target=client) for _ in range(clients)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
        if failures:
            raise CommandError(f"{len(failures)} failed requests, first: {failures[0]}")
        return elapsed

    def _copy(self, rows: list[tuple]) -> float:
        db = connection.settings_dict
        dsn = psycopg.conninfo.make_conninfo(
            dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"] or None
        )
        table = Event._meta.db_table
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
            conn.execute(f"CREATE TABLE {SCRATCH} (LIKE {table} INCLUDING ALL)")
            try:
                start = time.perf_counter()
                with (
                    conn.transaction(),
                    conn.cursor() as cur,
                    cur.copy(f"COPY {SCRATCH} ({COLUMNS}) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
                return time.perf_counter() - start
            finally:
                conn.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
