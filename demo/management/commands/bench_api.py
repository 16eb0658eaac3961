"""Benchmark: the account list API and the book of business page through gunicorn as the Dockerfile runs it
(gthread, 3 workers x 4 threads, --preload), with wrk-style concurrent clients (issue 15; throttle cost: issue 14).

    DATABASE_URL=postgres://... REDIS_URL=redis://... python manage.py bench_api [--accounts 20000] [--rounds 3]

It runs in a scratch PostgreSQL database (``<name>_api_bench``: created, migrated, seeded, dropped), so nothing
touches real data. The seed is a realistic book: teams of CSMs under managers, accounts with contacts, current
and past contracts (ARR, next renewal), parents, health scores (some overridden). What each target sends, cycled
by every client for ``--duration`` seconds after a ``--warmup``:

- ``api-admin``: ``GET /api/v1/accounts/?page_size=50&page=1..10`` with an admin's API token (every account);
- ``api-csm``: ``GET /api/v1/accounts/?scope=mine&page_size=50&page=1..`` with a CSM's token (their own book);
- ``page-csm``: ``GET /accounts/?page=1..`` (the book of business HTML; a CSM lands on their own book) with the
  session cookie of a logged-in CSM;
- ``page-admin``: ``GET /accounts/?page=1..10`` (every account) with an admin's session cookie.

Every client is a user of its own with its own token or session: throttles count per user, and one user sending
150 requests a second would be refused at ``API_THROTTLE_USER`` (1200/min), which is the throttle doing its job.
Requests carry ``X-Forwarded-Proto: https`` and the server runs with ``BEHIND_TLS_PROXY`` as in production behind
its TLS proxy. Then the API targets run again against a server with the DRF throttles removed
(``demo.bench_settings``) to show what the throttles cost. Each line prints req/s, p50/p95/p99, failures (any
non-200 answer), the CPU the server used and the load average; with ``--rounds`` the medians follow.
"""

import os
import statistics
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from csp import benchtools

TARGETS = ("api-admin", "api-csm", "page-csm", "page-admin")


class Command(BaseCommand):
    help = "Account list API and book of business page through gunicorn: req/s, p50/p95/p99, throttles on/off."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=20_000, help="Accounts in the seeded database.")
        parser.add_argument("--clients", default="16,32", help="Concurrent clients per run, comma-separated.")
        parser.add_argument("--duration", type=float, default=20.0, help="Seconds measured per run.")
        parser.add_argument("--warmup", type=float, default=3.0, help="Seconds of unmeasured load before a run.")
        parser.add_argument("--targets", default=",".join(TARGETS), help=f"Comma-separated: {', '.join(TARGETS)}.")
        parser.add_argument("--rounds", type=int, default=1, help="Repeat everything; medians are printed.")
        parser.add_argument("--no-throttle-compare", dest="compare", action="store_false",
                            help="Skip the API runs without throttles.")  # fmt: skip
        parser.add_argument("--keep", action="store_true", help="Keep the scratch database afterwards.")
        parser.add_argument("--template", default="", help="Clone this migrated, empty database instead of "
                            "migrating from nothing (faster; nobody may be connected to it).")  # fmt: skip

    def handle(self, *args, **opts):
        if connection.vendor != "postgresql":
            raise CommandError("bench_api needs PostgreSQL: set DATABASE_URL.")
        if not settings.REDIS_URL:
            raise CommandError("bench_api needs REDIS_URL: production keeps throttle counters in Redis.")
        if opts["accounts"] < 1 or opts["duration"] <= 0 or opts["rounds"] < 1:
            raise CommandError("--accounts, --duration and --rounds must be positive.")
        targets = [t.strip() for t in opts["targets"].split(",") if t.strip()]
        if not targets or set(targets) - set(TARGETS):
            raise CommandError(f"--targets takes {', '.join(TARGETS)}.")
        try:
            clients = [int(c) for c in opts["clients"].split(",") if c.strip()]
        except ValueError as exc:
            raise CommandError("--clients takes numbers, e.g. 16,32.") from exc
        if not clients or min(clients) < 1:
            raise CommandError("--clients takes positive numbers, e.g. 16,32.")
        opts.update(targets=targets, client_counts=clients)
        if os.environ.get(benchtools.INNER):
            self._run(opts)
        else:
            self._outer(opts)

    # --- outer: a scratch database, migrated, then the measurement in a child process using it -----------------

    def _outer(self, opts):
        argv = ["bench_api", "--accounts", str(opts["accounts"]), "--clients", opts["clients"], "--duration",
                str(opts["duration"]), "--warmup", str(opts["warmup"]), "--targets", ",".join(opts["targets"]),
                "--rounds", str(opts["rounds"])]  # fmt: skip
        argv += [] if opts["compare"] else ["--no-throttle-compare"]
        benchtools.run_in_scratch_database(  # from a template: migrate runs only the migrations it lacks
            self.stdout, suffix="api_bench", argv=argv, keep=opts["keep"], template=opts["template"]
        )

    # --- inner: seed, serve, load, report --------------------------------------------------------------------

    def _run(self, opts):
        from django.core.cache import cache

        from demo.bench_seed import bench_seed

        cache.clear()  # this Redis database's throttle counters of an earlier run (same user ids) would count
        need = max(opts["client_counts"])
        world = bench_seed(accounts=opts["accounts"], clients=need)
        with connection.cursor() as cursor:
            # A settled database, as autovacuum leaves it (statistics, the visibility map of index-only scans):
            # without it the first runs pay for the seed's hint bits and the throttle comparison is skewed.
            cursor.execute("VACUUM (ANALYZE)")
        self.stdout.write(
            f"Seeded {world.summary} on PostgreSQL. gunicorn gthread "
            f"{benchtools.DOCKERFILE_GUNICORN['workers']} workers x {benchtools.DOCKERFILE_GUNICORN['threads']} "
            f"threads, --preload; {os.cpu_count()} cores; {benchtools.load_average()}"
        )
        figures: dict[tuple[str, int, str], list[benchtools.LoadResult]] = {}
        modes = ["throttles on"] + (["throttles off"] if opts["compare"] else [])
        for number in range(opts["rounds"]):
            if opts["rounds"] > 1:
                self.stdout.write(f"Round {number + 1} of {opts['rounds']}")
            for mode in modes:
                targets = [t for t in opts["targets"] if mode == "throttles on" or t.startswith("api-")]
                if targets:
                    self._serve(opts, world, mode, targets, figures)
        if opts["rounds"] > 1:
            self.stdout.write("Medians over the rounds:")
            for (target, clients, mode), results in figures.items():
                ms = [sorted(1000 * v for v in r.latencies) for r in results]
                med = statistics.median
                self.stdout.write(
                    f"  {target:<10} {clients:>3} clients, {mode:<13}: {med([r.rate for r in results]):6.0f} req/s; "
                    f"p50 {med([benchtools.percentile(m, 50) for m in ms]):.0f} ms, "
                    f"p95 {med([benchtools.percentile(m, 95) for m in ms]):.0f} ms, "
                    f"p99 {med([benchtools.percentile(m, 99) for m in ms]):.0f} ms; "
                    f"failures {sum(len(r.failures) for r in results)}"
                )
        for target in opts["targets"]:
            if not target.startswith("api-") or not opts["compare"]:
                continue
            for clients in opts["client_counts"]:
                runs_on, runs_off = (
                    figures[(target, clients, "throttles on")],
                    figures[(target, clients, "throttles off")],
                )
                on, off = (statistics.median(r.rate for r in runs) for runs in (runs_on, runs_off))
                cpu_on, cpu_off = (statistics.median(r.cpu_ms for r in runs) for runs in (runs_on, runs_off))
                # CPU a request is the steadier figure on a shared machine; req/s moves with everyone else's load.
                self.stdout.write(
                    f"Throttle cost {target} {clients} clients: {on:.0f} req/s on, {off:.0f} off "
                    f"({100 * (off - on) / (off or 1):+.1f} %); CPU a request {cpu_on:.1f} ms on, {cpu_off:.1f} off "
                    f"({100 * (cpu_on - cpu_off) / (cpu_off or 1):+.1f} %)"
                )

    @staticmethod
    def _backends() -> list[int]:
        """Process ids of the other PostgreSQL backends on this (scratch) database: the server's connections
        (this process's own is idle). Their CPU is the database's share of a request, on a local server."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return [pid for (pid,) in cursor.fetchall()]

    def _serve(self, opts, world, mode, targets, figures):
        extra = {"BEHIND_TLS_PROXY": "true"}
        if mode == "throttles off":
            extra["DJANGO_SETTINGS_MODULE"] = "demo.bench_settings"
        port = benchtools.free_port()
        server = benchtools.start_gunicorn(port, env=benchtools.server_env(**extra))
        try:
            for target in targets:
                paths, headers = world.requests(target)
                for clients in opts["client_counts"]:
                    if opts["warmup"] > 0:
                        benchtools.http_load(port, paths, clients=clients, headers=headers, duration=opts["warmup"])
                    backends = self._backends()  # the server's persistent connections, opened by the warm-up
                    cpu, db_cpu = benchtools.tree_cpu(server.pid), sum(map(benchtools.tree_cpu, backends))
                    # The clients' own CPU (this process's threads) and the whole machine's: when the machine is
                    # busy near its cores, req/s is bounded by everything on it, not by the server.
                    client_cpu, busy = time.process_time(), benchtools.machine_busy()[0]
                    result = benchtools.http_load(
                        port, paths, clients=clients, headers=headers, duration=opts["duration"]
                    )
                    used = (benchtools.tree_cpu(server.pid) - cpu) / result.elapsed
                    client_used = (time.process_time() - client_cpu) / result.elapsed
                    machine_used = (benchtools.machine_busy()[0] - busy) / result.elapsed
                    db_used = (sum(map(benchtools.tree_cpu, backends)) - db_cpu) / result.elapsed
                    result.cpu_ms = 1000 * (used + db_used) / (result.rate or 1)  # gunicorn + PostgreSQL
                    figures.setdefault((target, clients, mode), []).append(result)
                    self.stdout.write(
                        f"  {target:<10} {clients:>3} clients, {mode}: {result.summary()}; "
                        f"CPU a request: gunicorn {1000 * used / (result.rate or 1):.1f} ms, PostgreSQL "
                        f"{1000 * db_used / (result.rate or 1):.1f} ms ({used + db_used:.2f} cores), clients "
                        f"{1000 * client_used / (result.rate or 1):.1f} ms; machine busy {machine_used:.2f} of "
                        f"{os.cpu_count()} cores; "
                        f"{benchtools.load_average()}"
                    )
                    self.stdout.flush()
        finally:
            benchtools.stop(server)
