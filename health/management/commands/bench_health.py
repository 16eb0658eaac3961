"""Benchmark of the health recompute on PostgreSQL (prints figures; never a test).

Generates N accounts (external id ``bench-health-<n>``, removed afterwards unless --keep) with 30 days of usage
rollups, key-feature events, a contract and a few tickets each, all set-based with generate_series. Then times,
in each round: the plain SQL aggregates of every source the default scorecard reads (the baseline, see
BASELINE_SQL), the full recompute cold (creates the current rows) and on the next day (updates them, a snapshot
each); and one account's recompute (median and p95). Prints medians over the rounds with the load average.
"""

import datetime as dt
import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account
from csp.benchtools import load_average
from events.models import KeyFeature
from health.engine import load_scorecards
from health.measures import ARR_CHANGE_DAYS, SUPPORT_WINDOW_DAYS, day_end
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
# The baseline: the same aggregates the default scorecard's sources compute (health.measures: usage, key
# features, support, contracts, sentiment), as plain SQL over the same windows, rows fetched and nothing else done
# with them. Like the recompute's sources, they run side by side on separate connections.
IN_FORCE = """status <> 'draft' AND (cancelled_on IS NOT NULL OR status <> 'cancelled')
    AND start_date <= {day} AND end_date >= {day} AND (cancelled_on IS NULL OR cancelled_on > {day})"""
BASELINE_SQL = {
    "usage": """
SELECT account_id,
       COUNT(DISTINCT user_key) FILTER (WHERE day >= %(as_of)s::date - 6),
       COUNT(DISTINCT user_key) FILTER (WHERE day >= %(as_of)s::date - 29),
       COUNT(*) FILTER (WHERE day >= %(as_of)s::date - 29),
       SUM(events) FILTER (WHERE day >= %(as_of)s::date - 29),
       SUM(events) FILTER (WHERE day < %(as_of)s::date - 29),
       MAX(day)
FROM events_accountdailyuser WHERE day >= %(as_of)s::date - 59 AND day <= %(as_of)s
GROUP BY account_id""",
    "features": """
SELECT account_id, COUNT(DISTINCT event) FROM events_accountdailyevent
WHERE day >= %(as_of)s::date - 29 AND day <= %(as_of)s AND event IN (SELECT event_name FROM events_keyfeature)
GROUP BY account_id""",
    "support": """
SELECT account_id,
       COUNT(*) FILTER (WHERE (solved_at IS NULL AND status IN ('open', 'pending')) OR solved_at >= %(end)s),
       COUNT(*) FILTER (WHERE opened_at >= %(start)s AND is_escalated),
       AVG(first_response_at - opened_at) FILTER (WHERE opened_at >= %(start)s AND first_response_at < %(end)s)
FROM support_ticket
WHERE opened_at < %(end)s
  AND (opened_at >= %(start)s OR (solved_at IS NULL AND status IN ('open', 'pending')) OR solved_at >= %(end)s)
GROUP BY account_id""",
    "contracts": f"""
SELECT account_id,
       SUM(arr) FILTER (WHERE {IN_FORCE.format(day="%(as_of)s")}),
       SUM(arr) FILTER (WHERE {IN_FORCE.format(day="%(then)s")}),
       SUM(seats) FILTER (WHERE {IN_FORCE.format(day="%(as_of)s")}),
       MIN(end_date) FILTER (WHERE {IN_FORCE.format(day="%(as_of)s")})
FROM accounts_contract WHERE end_date >= %(then)s AND start_date <= %(as_of)s
GROUP BY account_id""",
    "sentiment": """
SELECT DISTINCT ON (account_id) account_id, sentiment FROM health_sentimentpulse
WHERE set_at < %(end)s AND set_at >= %(end)s - interval '365 days'
ORDER BY account_id, set_at DESC, id DESC""",
    "accounts": "SELECT id, tier, last_touchpoint_at FROM accounts_account",
}
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
        parser.add_argument("--rounds", type=int, default=3, help="Rounds of baseline + recomputes (medians).")
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

    def _vacuum(self):
        """Untimed: clear the dead rows the benchmark itself left in the health tables (the deletes of a cold start,
        the fingerprint reset of the next-day case, the previous round), as autovacuum does between two nightly
        runs. Without it each round's upsert walks more dead row versions than production ever sees (and a server
        with autovacuum off never clears them)."""
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE health_accounthealth, health_healthsnapshot")

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

    def _baseline(self, params, sequential: bool = False) -> tuple[float, float, int]:
        """Run the baseline statements side by side (one connection each, as the recompute runs its sources), and
        with ``sequential`` also one after the other; returns both times and the usage rows."""

        def one(sql: str) -> int:
            with connection.cursor() as cur:
                cur.execute(sql, params)
                return len(cur.fetchall())

        def in_thread(sql: str) -> int:
            try:
                return one(sql)
            finally:
                connection.close()

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(BASELINE_SQL)) as pool:
            rows = dict(zip(BASELINE_SQL, pool.map(in_thread, BASELINE_SQL.values()), strict=True))
        parallel = time.perf_counter() - t0
        t0 = time.perf_counter()
        for sql in BASELINE_SQL.values() if sequential else ():
            one(sql)
        return parallel, time.perf_counter() - t0, rows["usage"]

    def _run(self, opts, default):
        self.stdout.write(f"Timing ({opts['rounds']} round(s)); {load_average()}")
        as_of = timezone.localdate()
        end = day_end(as_of)
        params = {"as_of": as_of, "then": as_of - dt.timedelta(days=ARR_CHANGE_DAYS), "end": end,
                  "start": end - dt.timedelta(days=SUPPORT_WINDOW_DAYS)}  # fmt: skip
        _p, seq_s, _r = self._baseline(params, sequential=True)  # warms every table read; only the sequential time kept
        # Other apps' receivers of health_changed_many (triggers) are theirs to time: detach them while timing.
        detached = health_changed_many.receivers
        health_changed_many.receivers, health_changed_many.sender_receivers_cache = [], {}
        rounds = []
        try:
            for n in range(1, opts["rounds"] + 1):
                with transaction.atomic(), connection.cursor() as cur:
                    for sql in CLEANUP_SQL[:2]:  # a real cold start: no current rows, no snapshots
                        cur.execute(sql.replace("%%", "%"))
                self._vacuum()
                parallel, _s, rows = self._baseline(params)
                t0, c0 = time.perf_counter(), time.process_time()
                stats = health_recompute()
                cold, cold_cpu = time.perf_counter() - t0, time.process_time() - c0
                # The nightly case: a new day, so every account gets a snapshot and its current row updated.
                AccountHealth.objects.update(fingerprint="")
                self._vacuum()
                t0, c0 = time.perf_counter(), time.process_time()
                stats2 = health_recompute()
                warm, warm_cpu = time.perf_counter() - t0, time.process_time() - c0
                rounds.append((parallel, cold, warm))
                self.stdout.write(
                    f"  [{n}] baseline {parallel:.2f} s; recompute cold "
                    f"{cold:.2f} s = {cold / parallel:.2f}x, next day {warm:.2f} s = {warm / parallel:.2f}x; "
                    f"Python CPU cold {cold_cpu:.2f} s, next day {warm_cpu:.2f} s; {load_average()}"
                )
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
        sql_s, cold_s, warm_s = (statistics.median(r[i] for r in rounds) for i in range(3))
        cold_x = statistics.median(r[1] / r[0] for r in rounds)
        warm_x = statistics.median(r[2] / r[0] for r in rounds)
        self.stdout.write("")
        self.stdout.write(f"accounts scored: {stats.scored:,} (SQL pass returned {rows:,} accounts with usage)")
        self.stdout.write(f"default scorecard: {default.name} ({default.measures.count()} measures)")
        self.stdout.write(f"medians over {len(rounds)} round(s):")
        self.stdout.write(
            f"plain SQL aggregates:    {sql_s:8.2f} s   (side by side; one after the other: {seq_s:.2f} s)"
        )
        self.stdout.write(f"full recompute (cold):   {cold_s:8.2f} s   ratio {cold_x:5.2f}x   (target <= 2x)")
        self.stdout.write(f"full recompute (next):   {warm_s:8.2f} s   ratio {warm_x:5.2f}x   (target <= 2x)")
        self.stdout.write(
            f"one account (n={len(timings)}): median {median:6.1f} ms   p95 {p95:6.1f} ms   (target p95 < 50 ms)"
        )
        self.stdout.write(f"snapshots written: cold {stats.snapshots:,}, next day {stats2.snapshots:,}")
        self.stdout.write(
            f"band changes: cold {stats.band_changes:,}, next day {stats2.band_changes:,} "
            f"(health_changed_many receivers of other apps detached while timing: {len(detached)}); {load_average()}"
        )
