"""Benchmark of the health recompute on PostgreSQL (prints figures; never a test).

Generates N accounts (external id ``bench-health-<n>``, removed afterwards unless --keep) with 30 days of usage
rollups, key-feature events, a contract and a few tickets each, all set-based with generate_series. Then times,
in the same run: one plain SQL aggregate over the rollups (the lower bound), the full recompute with the default
scorecard (cold: creates the current rows; warm: updates them), and one account's recompute (median and p95).
"""

import random
import statistics
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from accounts.models import Account
from events.models import KeyFeature
from health.engine import load_scorecards
from health.models import AccountHealth
from health.services import health_recompute
from health.signals import health_changed_many

MARK = "bench-health-"
FEATURES = ["bench_kf_report", "bench_kf_share", "bench_kf_export"]

USERS_SQL = """
INSERT INTO events_accountdailyuser (account_id, day, user_key, events)
SELECT a.id, CURRENT_DATE - d, 'user-' || u, 1 + ((a.id * 7 + d * 13 + u * 17) %% 20)
FROM accounts_account a, generate_series(0, %(days)s - 1) d, generate_series(1, %(users)s) u
WHERE a.external_id LIKE 'bench-health-%%' AND ((a.id * 31 + d * 7 + u * 13) %% 10) < (a.id %% 10)
"""
EVENTS_SQL = """
INSERT INTO events_accountdailyevent (account_id, day, event, count)
SELECT a.id, CURRENT_DATE - d, f.name, 1 + ((a.id + d) %% 9)
FROM accounts_account a, generate_series(0, %(days)s - 1) d, unnest(%(features)s::text[]) WITH ORDINALITY f(name, n)
WHERE a.external_id LIKE 'bench-health-%%' AND ((a.id + d * 3 + f.n) %% 5) < (a.id %% 5)
"""
CONTRACTS_SQL = """
INSERT INTO accounts_contract (account_id, name, start_date, end_date, recurring_amount, billing_period,
    one_time_fees, seats, auto_renew, status, arr, created_at, updated_at)
SELECT a.id, '', CURRENT_DATE - 200 - (a.id %% 100)::int, CURRENT_DATE + 30 + (a.id %% 300)::int,
    12000 + (a.id %% 50) * 100, 'year', 0, 5 + (a.id %% 20), false, 'active', 12000 + (a.id %% 50) * 100, now(), now()
FROM accounts_account a WHERE a.external_id LIKE 'bench-health-%%'
"""
TICKETS_SQL = """
INSERT INTO support_ticket (account_id, external_id, subject, priority, status, is_escalated, opened_at,
    first_response_at, solved_at, updated_at)
SELECT a.id, 'bench-health-' || a.id || '-' || t, 'Bench ticket', 'normal',
    CASE WHEN t = 1 THEN 'open' ELSE 'solved' END, (a.id + t) %% 13 = 0,
    now() - ((t * 9) || ' days')::interval,
    now() - ((t * 9) || ' days')::interval + ((1 + a.id %% 30) || ' hours')::interval,
    CASE WHEN t = 1 THEN NULL ELSE now() - ((t * 9 - 2) || ' days')::interval END, now()
FROM accounts_account a, generate_series(1, 3) t
WHERE a.external_id LIKE 'bench-health-%%' AND (a.id + t) %% 3 <> 0
"""
LOWER_BOUND_SQL = """
SELECT account_id,
       COUNT(DISTINCT user_key) FILTER (WHERE day >= CURRENT_DATE - 6),
       COUNT(DISTINCT user_key) FILTER (WHERE day >= CURRENT_DATE - 29),
       COUNT(*) FILTER (WHERE day >= CURRENT_DATE - 29),
       SUM(events) FILTER (WHERE day >= CURRENT_DATE - 29),
       SUM(events) FILTER (WHERE day < CURRENT_DATE - 29),
       MAX(day)
FROM events_accountdailyuser WHERE day >= CURRENT_DATE - 59 AND day <= CURRENT_DATE
GROUP BY account_id
"""
CLEANUP_SQL = [
    f"DELETE FROM {t} WHERE account_id IN (SELECT id FROM accounts_account WHERE external_id LIKE 'bench-health-%%')"

    for t in (
        "health_accounthealth", "health_healthsnapshot", "health_healthoverride", "health_sentimentpulse",
        "events_accountdailyuser", "events_accountdailyevent", "accounts_contract", "support_ticket",
    )
] + ["DELETE FROM accounts_account WHERE external_id LIKE 'bench-health-%%'"]  # fmt: skip


class Command(BaseCommand):
    help = "Benchmark the health recompute against a plain SQL aggregate over the same rollups (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=10000)
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--users", type=int, default=6, help="Users per account (each active on some days).")
        parser.add_argument("--samples", type=int, default=200, help="Single-account recomputes to time.")
        parser.add_argument("--keep", action="store_true", help="Keep the generated data.")
        parser.add_argument("--reuse", action="store_true", help="Reuse data kept by --keep when the count matches.")

    def handle(self, *args, **opts):
        if connection.vendor != "postgresql":
            raise CommandError("bench_health needs PostgreSQL (set DATABASE_URL).")
        default = next((c for c in load_scorecards() if c.is_default), None)
        if default is None:
            raise CommandError("No default scorecard (run migrate).")
        others = [c.name for c in load_scorecards() if not c.is_default and c.tiers]
        if others:
            self.stdout.write(f"Note: tier scorecards exist ({', '.join(others)}); their tiers use them.")
        reuse = opts["reuse"] and Account.objects.filter(external_id__startswith=MARK).count() == opts["accounts"]
        if not reuse:
            self._cleanup()
        try:
            if not reuse:
                self._generate(opts)
            self._run(opts, default)
        finally:
            if not opts["keep"]:
                self._cleanup()

    def _cleanup(self):
        with transaction.atomic(), connection.cursor() as cur:
            for sql in CLEANUP_SQL:
                cur.execute(sql.replace("%%", "%"))
            cur.execute("DELETE FROM events_keyfeature WHERE event_name = ANY(%s)", [FEATURES])

    def _step(self, label, fn):
        t0 = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - t0
        self.stdout.write(f"  {label}: {elapsed:.2f} s")
        return elapsed, result

    def _generate(self, opts):
        n, params = opts["accounts"], {"days": opts["days"], "users": opts["users"], "features": FEATURES}
        self.stdout.write(f"Generating {n:,} accounts with {opts['days']} days of rollups...")
        tiers = ["smb", "mid_market", "enterprise"]

        def accounts():
            Account.objects.bulk_create(
                (Account(name=f"Bench {i}", external_id=f"{MARK}{i}", tier=tiers[i % 3]) for i in range(n)),
                batch_size=5000,
            )

        self._step("accounts", accounts)
        KeyFeature.objects.bulk_create([KeyFeature(name=f, event_name=f) for f in FEATURES])
        with connection.cursor() as cur:
            for label, sql in (("daily users", USERS_SQL), ("daily events", EVENTS_SQL),
                               ("contracts", CONTRACTS_SQL), ("tickets", TICKETS_SQL)):  # fmt: skip
                self._step(label, lambda sql=sql: cur.execute(sql, params))
            self._step("analyze", lambda: cur.execute(
                "ANALYZE events_accountdailyuser; ANALYZE events_accountdailyevent; ANALYZE accounts_account; "
                "ANALYZE accounts_contract; ANALYZE support_ticket"
            ))  # fmt: skip
            cur.execute("SELECT COUNT(*) FROM events_accountdailyuser")
            self.stdout.write(f"  rollup rows (daily users, whole table): {cur.fetchone()[0]:,}")

    def _run(self, opts, default):
        self.stdout.write("Timing...")
        with transaction.atomic(), connection.cursor() as cur:
            for sql in CLEANUP_SQL[:2]:  # a real cold start: no current rows, no snapshots
                cur.execute(sql.replace("%%", "%"))

        def lower_bound():
            with connection.cursor() as cur:
                cur.execute(LOWER_BOUND_SQL)
                return len(cur.fetchall())

        self._step("warm-up SQL pass (not counted)", lower_bound)
        sql_s, rows = self._step("plain SQL aggregate (lower bound)", lower_bound)
        # Other apps' receivers of health_changed_many (triggers) are theirs to time: detach them while timing.
        detached = health_changed_many.receivers
        health_changed_many.receivers, health_changed_many.sender_receivers_cache = [], {}
        try:
            cold_s, stats = self._step("full recompute, cold (creates current rows)", lambda: health_recompute())
            # The nightly case: a new day, so every account gets a snapshot and its current row updated.
            AccountHealth.objects.update(fingerprint="")
            warm_s, stats2 = self._step("full recompute, next day (updates current rows)", lambda: health_recompute())
            ids = list(Account.objects.filter(external_id__startswith=MARK).values_list("id", flat=True))
            sample = random.Random(4).sample(ids, min(opts["samples"], len(ids)))
            timings = []
            for account_id in sample:
                t0 = time.perf_counter()
                health_recompute(account_ids=[account_id])
                timings.append((time.perf_counter() - t0) * 1000)
        finally:
            health_changed_many.receivers, health_changed_many.sender_receivers_cache = detached, {}
        timings.sort()
        p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
        median = statistics.median(timings)
        self.stdout.write("")
        self.stdout.write(f"accounts scored: {stats.scored:,} (SQL pass returned {rows:,} accounts with usage)")
        self.stdout.write(f"default scorecard: {default.name} ({default.measures.count()} measures)")
        self.stdout.write(f"plain SQL aggregate:     {sql_s:8.2f} s")
        self.stdout.write(f"full recompute (cold):   {cold_s:8.2f} s   ratio {cold_s / sql_s:5.2f}x   (target <= 4x)")
        self.stdout.write(f"full recompute (next):   {warm_s:8.2f} s   ratio {warm_s / sql_s:5.2f}x   (target <= 4x)")
        self.stdout.write(
            f"one account (n={len(timings)}): median {median:6.1f} ms   p95 {p95:6.1f} ms   (target p95 < 50 ms)"
        )
        self.stdout.write(f"snapshots written: cold {stats.snapshots:,}, next day {stats2.snapshots:,}")
        self.stdout.write(
            f"band changes: cold {stats.band_changes:,}, next day {stats2.band_changes:,} "
            f"(health_changed_many receivers of other apps detached while timing: {len(detached)})"
        )
