"""Benchmark: ingestion through the real HTTP stack (gunicorn as the Dockerfile runs it, a real Celery worker
consuming the usage refreshes) against parallel PostgreSQL COPY of the same rows.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python manage.py bench_ingest [--events 200000]

Starts Celery workers as docker-compose runs them (``ingest`` queue and ``default`` queue, two processes each) and,
each round, a fresh gunicorn on a loopback port; sends SDK-shaped batches of 100 track/page calls from concurrent
client threads, checks every event was stored, and COPYs the same rows into a scratch table shaped like
``events_event`` (same columns, indexes and constraints) from as many streams as the machine has cores (each its
own connection and transaction, the rows split evenly), since the API run uses every core too. Rounds of COPY then
API (``--rounds``, each with fresh messageIds); every round prints the CPU used during its API run by gunicorn, the
workers (rollup refreshes, health recomputes) and the clients, how long the workers took after the last answer to
finish the refreshes, and the ratio. The figure to judge by is the median of the rounds' ratios (each round's COPY
runs right before its API run, which cancels the machine's drift); best rate against best rate is shown beside it.
"""

import base64
import datetime as dt
import os
import resource
import secrets
import statistics
import threading
import time
import uuid

import orjson
import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from accounts.models import Account
from csp.benchtools import (
    DOCKERFILE_GUNICORN,
    PROXY_HEADERS,
    backend_cpu,
    backend_cpu_since,
    free_port,
    http_load,
    load_average,
    machine_busy,
    server_env,
    start_gunicorn,
    start_worker,
    stop,
    tree_cpu,
)
from events import services
from events.models import Event, EventSource, UsageClaim, UsageMark

EVENTS = ["Report Viewed", "Dashboard Opened", "Export Downloaded", "Filter Applied", "Comment Added"]
SCRATCH = "bench_copy_scratch"
COLUMNS = (
    "source_id, message_id, type, event, user_id, anonymous_id, group_id, account_id, timestamp, received_at, "
    "properties, context"
)
# Application names of the servers' database connections (libpq reads PGAPPNAME), to count their backends' CPU.
APP_WEB, APP_WORKER, APP_COPY = "bench-ingest-web", "bench-ingest-worker", "bench-ingest-copy"
DRAIN_TIMEOUT = 300  # seconds the workers get to finish the refreshes after the last answer


class Command(BaseCommand):
    help = "Ingestion rate through gunicorn (worker running) vs parallel PostgreSQL COPY of the same rows."

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=200_000)
        parser.add_argument("--batch", type=int, default=100)
        parser.add_argument("--clients", type=int, default=24, help="Concurrent client threads.")
        parser.add_argument("--workers", type=int, default=DOCKERFILE_GUNICORN["workers"], help="gunicorn workers.")
        parser.add_argument("--threads", type=int, default=DOCKERFILE_GUNICORN["threads"], help="Threads per worker.")
        parser.add_argument("--worker-class", default=DOCKERFILE_GUNICORN["worker_class"], choices=["gthread", "sync"])
        parser.add_argument("--accounts", type=int, default=50)
        parser.add_argument("--rounds", type=int, default=5, help="Rounds of COPY then API.")
        parser.add_argument(
            "--streams", type=int, default=0, help="Parallel COPY streams (default: one per core, os.cpu_count())."
        )
        parser.add_argument(
            "--celery-concurrency", type=int, default=2, help="Processes of each Celery worker (docker-compose: 2)."
        )
        parser.add_argument("--keep", action="store_true", help="Keep the bench accounts and events afterwards.")

    def handle(self, *args, **opts):
        if connection.vendor != "postgresql":
            raise CommandError("bench_ingest measures PostgreSQL: set DATABASE_URL=postgres://...")
        if not settings.REDIS_URL:
            raise CommandError("Set REDIS_URL: the usage refreshes run in a real Celery worker.")
        n_events, size = opts["events"], opts["batch"]
        streams = opts["streams"] or os.cpu_count() or 1
        accounts = self._accounts(opts["accounts"])
        source, key = services.source_create(name=f"bench-{secrets.token_hex(4)}")
        self.stdout.write(f"Preparing {n_events} events in batches of {size} for {len(accounts)} accounts...")
        # As docker-compose runs them: the ingest queue (rollup refreshes) and the default queue (health
        # recomputes and triggers that ingestion sets off) each have their own worker.
        concurrency = opts["celery_concurrency"]
        workers = [start_worker(queues="ingest", concurrency=concurrency, env=server_env(PGAPPNAME=APP_WORKER))]
        workers.append(
            start_worker(queues="default", concurrency=concurrency, env=server_env(PGAPPNAME=APP_WORKER), purge=False)
        )
        results = []
        try:
            for number in range(1, opts["rounds"] + 1):
                bodies, rows = self._payloads(source, accounts, n_events, size)
                copy_secs, copy_cpu = self._copy(rows, streams)
                api_secs, drain_secs, api_cpu, cpu, split = self._api_run(
                    key, bodies, opts, workers, list(accounts.values())
                )
                results.append((api_secs, copy_secs, copy_cpu / api_cpu * 100))
                self.stdout.write(
                    f"Round {number}: API {n_events / api_secs:,.0f} events/s, COPY x{streams} "
                    f"{n_events / copy_secs:,.0f} rows/s in {copy_cpu:.1f} CPU-s "
                    f"(ratio {copy_secs / api_secs * 100:.1f}%, CPU ratio {copy_cpu / api_cpu * 100:.0f}%); "
                    f"refreshes done {drain_secs:.1f} s after the last answer; CPU during the API run: {cpu}; "
                    f"{load_average()}"
                )
                per_event = ", ".join(f"{name} {secs / n_events * 1e6:.0f}" for name, secs in split.items())
                self.stdout.write(
                    f"Round {number} CPU per event (µs): {per_event}; total {api_cpu / n_events * 1e6:.0f} "
                    f"against COPY's {copy_cpu / n_events * 1e6:.0f} a row; {load_average()}"
                )
        finally:
            stop(*workers)
        stored = Event.objects.filter(source=source).count()
        if stored != n_events * opts["rounds"]:
            raise CommandError(f"Only {stored} of {n_events * opts['rounds']} events were stored.")
        api_secs, copy_secs = min(r[0] for r in results), min(r[1] for r in results)
        api_rate, copy_rate = n_events / api_secs, n_events / copy_secs
        best = f"best of {opts['rounds']}"
        self.stdout.write(
            f"HTTP API (gunicorn {opts['worker_class']}, {opts['workers']} workers x {opts['threads']} threads, "
            f"{opts['clients']} clients, Celery ingest + default workers x{concurrency} running, {best}): "
            f"{n_events} events in {api_secs:.2f} s = {api_rate:,.0f} events/s"
        )
        self.stdout.write(
            f"PostgreSQL COPY ({streams} parallel streams, same rows, {best}): {n_events} rows in {copy_secs:.2f} s "
            f"= {copy_rate:,.0f} rows/s"
        )
        # Each round's COPY runs right before its API run, so their ratio cancels the machine's drift; the median
        # of those is the figure to judge by, the ratio of the two best rates is shown beside it.
        paired = sorted(copy / api * 100 for api, copy, _cpu in results)
        cpu_ratio = statistics.median(r[2] for r in results)
        self.stdout.write(
            f"Ratio API / parallel COPY: median of the rounds {statistics.median(paired):.1f}% "
            f"(rounds {paired[0]:.1f}% to {paired[-1]:.1f}%), best vs best {api_rate / copy_rate * 100:.1f}% "
            f"(target >= 50%); {load_average()}"
        )
        # CPU per event hardly depends on how busy the shared machine is: a second view of the same comparison.
        self.stdout.write(
            f"CPU per row of COPY (backends, the writing client) / CPU per event of the API (gunicorn, the workers "
            f"until the refreshes are done, every backend of theirs, the clients): median {cpu_ratio:.0f}%"
        )
        if not opts["keep"]:
            UsageMark.objects.filter(account_id__in=accounts.values()).delete()
            UsageClaim.objects.filter(account_id__in=accounts.values()).delete()
            Event.objects.filter(source=source).delete()
            Account.objects.filter(id__in=accounts.values()).delete()
            EventSource.objects.filter(pk=source.pk).delete()

    def _api_run(self, key: str, bodies: list[bytes], opts: dict, workers: list, account_ids: list[int]):
        """Serve with a fresh gunicorn, send every body, then wait for the workers to finish the refreshes.
        Returns the seconds to the last answer, the seconds the refreshes took after it, and where the CPU went."""
        port = free_port()
        server = start_gunicorn(
            port,
            workers=opts["workers"],
            threads=opts["threads"],
            worker_class=opts["worker_class"],
            env=server_env(PGAPPNAME=APP_WEB),
        )
        auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        headers = {"Authorization": auth, "Content-Type": "application/json", "User-Agent": "bench", **PROXY_HEADERS}
        busy_before, client_before = machine_busy(), resource.getrusage(resource.RUSAGE_SELF)
        server_before, workers_before = tree_cpu(server.pid), sum(tree_cpu(w.pid) for w in workers)
        backends_before = backend_cpu([APP_WEB, APP_WORKER])
        try:
            result = http_load(port, (("POST", "/v1/batch", body) for body in bodies), clients=opts["clients"],
                               headers=headers)  # fmt: skip
            busy_after, client_after = machine_busy(), resource.getrusage(resource.RUSAGE_SELF)
            server_cpu = tree_cpu(server.pid) - server_before
            workers_cpu = sum(tree_cpu(w.pid) for w in workers) - workers_before
            backends = backend_cpu_since(backends_before)
        finally:
            stop(server)
        if result.failures:
            raise CommandError(f"{len(result.failures)} failed requests, first: {result.failures[0]}")
        drain_secs = self._drain(account_ids)
        # The refreshes still running after the last answer belong to the run too: the workers' total to the drain.
        workers_total = sum(tree_cpu(w.pid) for w in workers) - workers_before
        workers_total += backend_cpu_since({APP_WORKER: backends_before[APP_WORKER]})[APP_WORKER]
        api_secs = result.elapsed
        client_cpu = client_after.ru_utime + client_after.ru_stime - client_before.ru_utime - client_before.ru_stime
        cpu = (
            f"machine {busy_after[0] - busy_before[0]:.1f} core-s of {api_secs * os.cpu_count():.1f} "
            f"(stolen by the host {busy_after[1] - busy_before[1]:.1f}), gunicorn {server_cpu:.1f} s, "
            f"Celery workers {workers_cpu:.1f} s, bench clients {client_cpu:.1f} s; PostgreSQL backends of gunicorn "
            f"{backends[APP_WEB]:.1f} s, of the workers {backends[APP_WORKER]:.1f} s; workers and their backends "
            f"until the refreshes were done {workers_total:.1f} s"
        )
        api_cpu = server_cpu + workers_total + backends[APP_WEB] + client_cpu
        split = {
            "gunicorn": server_cpu,
            "its PostgreSQL backends": backends[APP_WEB],
            "Celery workers and their backends": workers_total,
            "bench clients": client_cpu,
        }
        return api_secs, drain_secs, api_cpu, cpu, split

    def _drain(self, account_ids: list[int]) -> float:
        """Seconds until the workers have consumed every mark and claim of the bench accounts."""
        start = time.perf_counter()
        while time.perf_counter() - start < DRAIN_TIMEOUT:
            if not (
                UsageMark.objects.filter(account_id__in=account_ids).exists()
                or UsageClaim.objects.filter(account_id__in=account_ids).exists()
            ):
                return time.perf_counter() - start
            time.sleep(0.05)
        raise CommandError(f"The workers did not finish the usage refreshes within {DRAIN_TIMEOUT} s.")

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
                        orjson.dumps(props).decode(), orjson.dumps(context).decode(),
                    )
                )  # fmt: skip
            bodies.append(orjson.dumps({"batch": batch, "sentAt": now.isoformat()}))
        return bodies, rows

    def _copy(self, rows: list[tuple], streams: int) -> tuple[float, float]:
        """COPY the rows into a fresh scratch table from ``streams`` connections at once, each loading its share in
        its own transaction. Returns the seconds from the first COPY starting to the last commit, and the CPU seconds
        spent by the backends and by this process (writing the rows)."""
        db = connection.settings_dict
        dsn = psycopg.conninfo.make_conninfo(
            dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"] or None
        )
        table = Event._meta.db_table
        share = -(-len(rows) // streams)
        chunks = [rows[i : i + share] for i in range(0, len(rows), share)]
        conns = [psycopg.connect(dsn, autocommit=True, application_name=APP_COPY) for _ in chunks]
        errors: list[BaseException] = []
        ready = threading.Barrier(len(chunks) + 1)

        def load(conn: psycopg.Connection, chunk: list[tuple]) -> None:
            try:
                ready.wait()
                with conn.transaction(), conn.cursor() as cur, cur.copy(f"COPY {SCRATCH} ({COLUMNS}) FROM STDIN") as cp:
                    for row in chunk:
                        cp.write_row(row)
            except BaseException as exc:  # reported by the caller
                errors.append(exc)

        try:
            conns[0].execute(f"DROP TABLE IF EXISTS {SCRATCH}")
            conns[0].execute(f"CREATE TABLE {SCRATCH} (LIKE {table} INCLUDING ALL)")
            threads = [threading.Thread(target=load, args=pair) for pair in zip(conns, chunks, strict=True)]
            for thread in threads:
                thread.start()
            before, own_before = backend_cpu([APP_COPY]), resource.getrusage(resource.RUSAGE_SELF)
            ready.wait()
            start = time.perf_counter()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - start
            own = resource.getrusage(resource.RUSAGE_SELF)
            cpu = backend_cpu_since(before)[APP_COPY] + own.ru_utime + own.ru_stime - own_before.ru_utime
            cpu -= own_before.ru_stime
            if errors:
                raise CommandError(f"COPY failed: {errors[0]!r}")
            return elapsed, cpu
        finally:
            conns[0].execute(f"DROP TABLE IF EXISTS {SCRATCH}")
            for conn in conns:
                conn.close()
