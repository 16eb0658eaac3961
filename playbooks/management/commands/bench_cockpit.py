"""Benchmark the CTA cockpit and the CTA list endpoint: p50 / p95 / max response times and SQL query counts
with many CTAs. Prints figures; asserts nothing. Everything it creates is rolled back unless ``--keep``.

    python manage.py bench_cockpit --ctas 20000 --requests 30
"""

import datetime as dt
import random
import statistics
import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account
from csp.models import Role, Team, User
from playbooks.models import CTA, CTAPriority, CTAStatus, CTATask, CTAType


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time the cockpit page and /api/v1/ctas/ with many CTAs (p50/p95/max, query counts)."

    def add_arguments(self, parser):
        parser.add_argument("--ctas", type=int, default=20_000)
        parser.add_argument("--accounts", type=int, default=2_000)
        parser.add_argument("--requests", type=int, default=30)
        parser.add_argument("--keep", action="store_true", help="Keep the generated data.")

    def handle(self, *args, **opts):
        try:
            with transaction.atomic():
                self._run(opts)
                if not opts["keep"]:
                    raise _Rollback
        except _Rollback:
            self.stdout.write("(generated data rolled back)")

    def _setup(self, opts):
        rng = random.Random(7)
        team = Team.objects.create(name=f"bench-{time.time_ns()}")
        manager = User.objects.create_user(email=f"bench.mgr.{team.pk}@x.example", role=Role.MANAGER, team=team)
        team.manager = manager
        team.save()
        csms = [
            User.objects.create_user(email=f"bench.csm{i}.{team.pk}@x.example", role=Role.CSM, team=team)
            for i in range(20)
        ]
        admin = User.objects.create_user(email=f"bench.admin.{team.pk}@x.example", role=Role.ADMIN)
        accounts = Account.objects.bulk_create(
            [Account(name=f"Bench {i:06d}", owner=rng.choice(csms)) for i in range(opts["accounts"])]
        )
        today, now = timezone.localdate(), timezone.now()

        def make(i: int) -> CTA:
            account = rng.choice(accounts)
            closed = rng.random() < 0.25
            return CTA(
                account=account,
                owner=account.owner,
                cta_type=rng.choice(CTAType.values),
                priority=rng.choice(CTAPriority.values),
                title=f"Bench CTA {i}",
                due_date=today + dt.timedelta(days=rng.randint(-20, 40)),
                status=CTAStatus.CLOSED if closed else CTAStatus.OPEN,
                outcome="success" if closed else "",
                closed_at=now if closed else None,
            )

        ctas = CTA.objects.bulk_create([make(i) for i in range(opts["ctas"])], batch_size=2000)
        CTATask.objects.bulk_create(
            [
                CTATask(cta=c, title=f"Step {k}", due_date=c.due_date, assignee=c.owner, position=k)
                for c in ctas
                for k in range(3)
            ],
            batch_size=5000,
        )
        return csms[0], manager, admin

    def _time(self, label, call, n):
        times = []
        with CaptureQueriesContext(connection) as ctx:
            call()  # warm-up, and the query count of one request
        queries = len(ctx)
        for _ in range(n):
            start = time.perf_counter()
            response = call()
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.status_code
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
        self.stdout.write(
            f"{label:<36} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms   max {times[-1]:7.1f} ms"
            f"   {queries} queries"
        )

    def _run(self, opts):
        start = time.perf_counter()
        csm, manager, admin = self._setup(opts)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # fresh rows: give the planner statistics, as autovacuum would
                cursor.execute("ANALYZE playbooks_cta; ANALYZE playbooks_ctatask; ANALYZE accounts_account")
        self.stdout.write(
            f"{opts['ctas']} CTAs ({CTA.objects.exclude(status='closed').count()} not closed) on {opts['accounts']} "
            f"accounts, {CTATask.objects.count()} tasks; set up in {time.perf_counter() - start:.1f} s "
            f"on {connection.vendor}"
        )
        n = opts["requests"]
        for user, scope in ((csm, "mine"), (manager, "team"), (admin, "all")):
            client = Client()
            client.force_login(user)
            self._time(f"cockpit /ctas/?scope={scope} ({user.role})", lambda c=client, s=scope: c.get(
                "/ctas/", {"scope": s}, HTTP_HOST="localhost"), n)  # fmt: skip
        api = APIClient()
        api.force_authenticate(admin)
        self._time("GET /api/v1/ctas/?overdue=true", lambda: api.get("/api/v1/ctas/", {"overdue": "true"},
                   HTTP_HOST="localhost"), n)  # fmt: skip
        self._time("GET /api/v1/ctas/?owner=<csm>", lambda: api.get("/api/v1/ctas/", {"owner": csm.pk},
                   HTTP_HOST="localhost"), n)  # fmt: skip
