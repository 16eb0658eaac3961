"""Benchmark of the CTA cockpit as production serves it: gunicorn (as the Dockerfile runs it) over HTTP, sessions
logged in through the login form, concurrent clients. Prints p50 / p95 / p99, req/s, the CPU a request took in
gunicorn and in the PostgreSQL backends serving it, and the load average; asserts nothing.

The data are committed rows (gunicorn is another process, so a rolled-back transaction cannot be used): teams of
CSMs with a manager each, accounts owned by the CSMs and CTAs with three tasks each, all marked ``bench-cockpit``
and deleted at the end unless ``--keep`` (``--reuse`` reuses kept rows when the CTA count matches).

    python manage.py bench_cockpit --duration 10                # 100,000 CTAs, 5 teams: the issue's target
    python manage.py bench_cockpit --keep --reuse --only manager  # keep the seed between runs, manager pages only
"""

import html
import http.client
import re
import secrets
import time
from http.cookies import SimpleCookie
from statistics import median
from urllib.parse import urlencode

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from accounts.models import Account
from csp.benchtools import (
    backend_cpu,
    backend_cpu_since,
    free_port,
    http_load,
    load_average,
    percentile,
    server_env,
    start_gunicorn,
    stop,
    tree_cpu,
)
from csp.models import Role, Team, User
from playbooks.models import CTA, CTATask

MARK = "bench-cockpit"
DOMAIN = "bench-cockpit.example"

# CTAs spread over the bench accounts (owner = the account's owner): 25 % closed, 5 % snoozed (a fifth of them
# due back already), the rest open; due dates from 20 days ago to 40 days ahead; types and priorities mixed.
CTAS_SQL = """
WITH acc AS (
    SELECT id, owner_id, row_number() OVER (ORDER BY id) - 1 AS n FROM accounts_account
    WHERE external_id LIKE 'bench-cockpit-%%'
), g AS (
    SELECT i, (i * 2654435761) %% 1000 AS h FROM generate_series(1, %(ctas)s) i
)
INSERT INTO playbooks_cta (account_id, owner_id, cta_type, priority, title, description, due_date, status,
    snoozed_until, outcome, outcome_note, opened_at, closed_at, source, source_key, updated_at)
SELECT acc.id, acc.owner_id,
    (ARRAY['risk', 'opportunity', 'renewal', 'lifecycle', 'activity'])[1 + i %% 5],
    (ARRAY['low', 'medium', 'high', 'urgent'])[1 + (i / 5) %% 4],
    'Bench CTA ' || i, '', CURRENT_DATE - 20 + (h %% 61)::int,
    CASE WHEN h < 250 THEN 'closed' WHEN h < 300 THEN 'snoozed' ELSE 'open' END,
    CASE WHEN h >= 250 AND h < 260 THEN CURRENT_DATE - 1 WHEN h >= 260 AND h < 300 THEN CURRENT_DATE + 10 END,
    CASE WHEN h < 250 THEN 'success' ELSE '' END, '', now() - interval '30 days',
    CASE WHEN h < 250 THEN now() END, 'manual', '', now()
FROM g JOIN acc ON acc.n = (i * 7919) %% (SELECT count(*) FROM acc)
"""
# Three tasks per CTA held by its owner; the first is done on two CTAs in three. (Run without parameters: single %.)
TASKS_SQL = """
INSERT INTO playbooks_ctatask (cta_id, position, title, task_type, guidance, due_date, assignee_id, completed_at)
SELECT c.id, k, 'Step ' || k, 'todo', '', c.due_date - (2 - k) * 3, c.owner_id,
    CASE WHEN k = 0 AND c.id % 3 <> 0 THEN now() END
FROM playbooks_cta c JOIN accounts_account a ON a.id = c.account_id, generate_series(0, 2) k
WHERE a.external_id LIKE 'bench-cockpit-%'
"""
BENCH_CTAS = "SELECT c.id FROM playbooks_cta c JOIN accounts_account a ON a.id = c.account_id WHERE a.external_id LIKE 'bench-cockpit-%%'"  # noqa: E501
CLEANUP_SQL = [
    f"DELETE FROM playbooks_ctatask WHERE cta_id IN ({BENCH_CTAS})",
    f"DELETE FROM playbooks_ctacomment WHERE cta_id IN ({BENCH_CTAS})",
    f"DELETE FROM playbooks_cta WHERE id IN ({BENCH_CTAS})",
]
# Application name of gunicorn's database connections (libpq reads PGAPPNAME), to count their backends' CPU.
APP_WEB = "bench-cockpit-web"
PASSWORD = secrets.token_urlsafe(16)  # bench users only: they are deleted afterwards


class Command(BaseCommand):
    help = "Time the CTA cockpit and /api/v1/ctas/ through gunicorn over HTTP with logged-in sessions."

    def add_arguments(self, parser):
        parser.add_argument("--ctas", type=int, default=100_000)
        parser.add_argument("--accounts", type=int, default=20_000)
        parser.add_argument("--teams", type=int, default=5, help="Teams (one manager each) sharing the CSMs.")
        parser.add_argument("--csms", type=int, default=10, help="CSMs per team.")
        parser.add_argument("--clients", type=int, default=4, help="Concurrent HTTP clients (one session each).")
        parser.add_argument("--duration", type=float, default=15.0, help="Seconds of load per page.")
        parser.add_argument("--rounds", type=int, default=1, help="Rounds over all the pages (medians printed).")
        parser.add_argument("--port", type=int, default=0, help="gunicorn port (default: a free one).")
        parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: the Dockerfile's).")
        parser.add_argument("--only", default="", help="Comma-separated page labels to run (default: all).")
        parser.add_argument("--keep", action="store_true", help="Keep the generated data.")
        parser.add_argument("--reuse", action="store_true", help="Reuse data kept by --keep when the count matches.")

    def handle(self, *args, **opts):
        if connection.vendor != "postgresql":
            raise CommandError("bench_cockpit needs PostgreSQL (set DATABASE_URL): gunicorn reads committed rows.")
        kept = CTA.objects.filter(account__external_id__startswith=f"{MARK}-").count()
        reuse = opts["reuse"] and kept == opts["ctas"]
        if not reuse:
            self._cleanup()
        try:
            t0 = time.perf_counter()
            users = self._users(opts, create=not reuse)
            if not reuse:
                self._generate(opts, users)
            self._describe(opts, users, time.perf_counter() - t0)
            self._run(opts, users)
        finally:
            if not opts["keep"]:
                self._cleanup()

    # --- data ---------------------------------------------------------------------------------------------

    def _cleanup(self):
        with transaction.atomic(), connection.cursor() as cur:
            for sql in CLEANUP_SQL:
                cur.execute(sql.replace("%%", "%"))
            Account.objects.filter(external_id__startswith=f"{MARK}-").delete()
            Team.objects.filter(name__startswith=f"{MARK}-").update(manager=None)
            User.objects.filter(email__endswith=f"@{DOMAIN}").delete()
            Team.objects.filter(name__startswith=f"{MARK}-").delete()

    def _users(self, opts, create: bool) -> dict[str, list[User]]:
        """Teams of CSMs with a manager, and an admin. Passwords are (re)set each run: sessions log in with them."""
        if create:
            admin = User.objects.create_user(f"admin@{DOMAIN}", PASSWORD, role=Role.ADMIN, full_name="Bench Admin")
            for t in range(opts["teams"]):
                team = Team.objects.create(name=f"{MARK}-{t}")
                team.manager = User.objects.create_user(
                    f"manager{t}@{DOMAIN}", PASSWORD, role=Role.MANAGER, team=team, full_name=f"Manager {t}"
                )
                team.save(update_fields=["manager"])
                User.objects.bulk_create(
                    User(email=f"csm{t}-{i}@{DOMAIN}", role=Role.CSM, team=team, full_name=f"CSM {t}-{i}")
                    for i in range(opts["csms"])
                )
        else:
            admin = User.objects.get(email=f"admin@{DOMAIN}")
        users = {
            "admin": [admin],
            "manager": list(User.objects.filter(email__endswith=f"@{DOMAIN}", role=Role.MANAGER).order_by("email")),
            "csm": list(User.objects.filter(email__endswith=f"@{DOMAIN}", role=Role.CSM).order_by("email")),
        }
        for user in [admin, users["manager"][0], users["csm"][0]]:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        return users

    def _generate(self, opts, users):
        t0 = time.perf_counter()
        csms = users["csm"]
        Account.objects.bulk_create(
            (
                Account(name=f"Bench account {i:06d}", external_id=f"{MARK}-{i}", owner=csms[i % len(csms)])
                for i in range(opts["accounts"])
            ),
            batch_size=5000,
        )
        with connection.cursor() as cur:
            cur.execute(CTAS_SQL, {"ctas": opts["ctas"]})
            cur.execute(TASKS_SQL)
            # A settled table, as autovacuum leaves it: statistics, and the visibility map index-only scans need.
            cur.execute("VACUUM (ANALYZE) playbooks_cta, playbooks_ctatask, accounts_account, csp_user")
        self.stdout.write(f"generated in {time.perf_counter() - t0:.1f} s")

    def _describe(self, opts, users, elapsed):
        manager = users["manager"][0]
        ctas = CTA.objects.filter(account__external_id__startswith=f"{MARK}-")
        team = ctas.filter(owner__team__manager=manager)
        self.stdout.write(
            f"{ctas.count():,} CTAs ({ctas.exclude(status='closed').count():,} not closed), "
            f"{CTATask.objects.filter(cta__in=ctas).count():,} tasks, {opts['accounts']:,} accounts, "
            f"{len(users['manager'])} teams x {len(users['csm']) // max(1, len(users['manager']))} CSMs; "
            f"manager's team: {team.count():,} CTAs ({team.exclude(status='closed').count():,} not closed); "
            f"ready in {elapsed:.1f} s"
        )

    # --- HTTP ---------------------------------------------------------------------------------------------

    def _login(self, port: int, email: str) -> dict[str, str]:
        """Log in through the login form, as a browser does; returns the headers of the session."""
        base = {"Host": "localhost", "X-Forwarded-Proto": "https"}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/login/", headers=base)
        response = conn.getresponse()
        body = response.read().decode()
        cookies = SimpleCookie()
        for value in response.headers.get_all("Set-Cookie") or []:
            cookies.load(value)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if response.status != 200 or token is None or "csrftoken" not in cookies:
            raise CommandError(f"GET /login/ answered {response.status} without a CSRF token")
        form = urlencode(
            {"csrfmiddlewaretoken": html.unescape(token.group(1)), "username": email, "password": PASSWORD}
        )
        headers = {
            **base,
            "Cookie": f"csrftoken={cookies['csrftoken'].value}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "https://localhost",
            "Referer": "https://localhost/login/",
        }
        conn.request("POST", "/login/", form, headers)
        response = conn.getresponse()
        response.read()
        for value in response.headers.get_all("Set-Cookie") or []:
            cookies.load(value)
        if response.status != 302 or settings.SESSION_COOKIE_NAME not in cookies:
            raise CommandError(f"Login of {email} answered {response.status} (expected a redirect with a session)")
        conn.close()
        return {**base, "Cookie": f"{settings.SESSION_COOKIE_NAME}={cookies[settings.SESSION_COOKIE_NAME].value}"}

    def _pages(self, users) -> list[tuple[str, str, str]]:
        csm, manager = users["csm"][0], users["manager"][0]
        return [
            ("cockpit, manager, scope=team", manager.email, "/ctas/"),
            ("cockpit, CSM, scope=mine", csm.email, "/ctas/"),
            ("cockpit, admin, scope=all", users["admin"][0].email, "/ctas/"),
            ("cockpit, manager, team, overdue+urgent", manager.email, "/ctas/?scope=team&priority=urgent"),
            ("API /api/v1/ctas/?scope=team (manager)", manager.email, "/api/v1/ctas/?scope=team"),
            ("API /api/v1/ctas/?overdue=true (admin)", users["admin"][0].email, "/api/v1/ctas/?overdue=true"),
        ]

    def _run(self, opts, users):
        port = opts["port"] or free_port()
        # Production sits behind a TLS proxy (HTTPS redirect, secure cookies): the clients send its X-Forwarded-Proto.
        env = server_env(BEHIND_TLS_PROXY="true", PGAPPNAME=APP_WEB)
        kwargs = {"workers": opts["workers"]} if opts["workers"] else {}
        server = start_gunicorn(port, env=env, **kwargs)
        wanted = {w.strip() for w in opts["only"].split(",") if w.strip()}
        pages = [p for p in self._pages(users) if not wanted or any(w in p[0] for w in wanted)]
        results: dict[str, list] = {label: [] for label, _e, _p in pages}
        try:
            sessions = {}
            for _label, email, _path in pages:
                if email not in sessions:  # one session per client, as each browser has its own
                    sessions[email] = [self._login(port, email) for _ in range(opts["clients"])]
            self.stdout.write(
                f"gunicorn on :{port} ({kwargs.get('workers', 3)} workers x 4 threads, gthread), "
                f"{opts['clients']} clients, {opts['duration']:.0f} s per page; {load_average()}"
            )
            for round_no in range(1, opts["rounds"] + 1):
                for label, email, path in pages:
                    own, work = sessions[email], [("GET", path, None)] * opts["clients"]
                    http_load(port, work, clients=opts["clients"], headers=lambda n, own=own: own[n])  # warm-up
                    cpu_before, backends_before = tree_cpu(server.pid), backend_cpu([APP_WEB])
                    result = http_load(
                        port, work, clients=opts["clients"], duration=opts["duration"],
                        headers=lambda n, own=own: own[n],
                    )  # fmt: skip
                    cpu = tree_cpu(server.pid) - cpu_before
                    db_cpu = backend_cpu_since(backends_before)[APP_WEB]
                    results[label].append(result)
                    per, db_per = (1000 * v / max(1, len(result.latencies)) for v in (cpu, db_cpu))
                    self.stdout.write(
                        f"[{round_no}] {label:<40} {result.summary()}; CPU a request: gunicorn {per:.0f} ms + "
                        f"PostgreSQL {db_per:.0f} ms; {load_average()}"
                    )
        finally:
            stop(server)
        if opts["rounds"] > 1:
            self.stdout.write("medians over rounds:")
            for label, runs in results.items():
                self.stdout.write(f"    {label:<42} " + _medians(runs))


def _medians(runs) -> str:
    ms = [[1000 * v for v in r.latencies] for r in runs]
    p50, p95, p99 = (median(percentile(m, p) for m in ms) for p in (50, 95, 99))
    rate = median(r.rate for r in runs)
    return f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms, {rate:.1f} req/s"
