"""``manage.py bench_metrics``: the revenue metrics at scale on PostgreSQL (a benchmark, not a test).

Builds (unless ``--reuse``) N accounts owned by CSMs in teams, with ~3 contracts each over 36 months (yearly
terms renewed at changed prices, mid-term amendments, dated churn, reactivations), then prints:

- the ledger refresh for all accounts (``metrics.ledger.ledger_refresh``: DELETE + INSERT ... SELECT of the
  monthly snapshots) against ONE plain SQL statement computing the same monthly MRR per account (generate_series
  of months joined to contracts, aggregated, not stored); target: refresh <= 3x the plain statement;
- p50/p95 server time of ``GET /api/v1/metrics/revenue/`` for one quarter (company, one team, one CSM) and of the
  team dashboard (``metrics:team``) for a manager; target p95 < 300 ms.

Run it on its own database: ``DATABASE_URL=postgres://.../csp_bench python manage.py migrate && ... bench_metrics``.
The bench data is marked (external ids ``BENCH-``, users ``@bench.csp``) and removed with ``--cleanup``.
"""

import datetime as dt
import random
import statistics
import time
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import Account, BillingPeriod, Contract, ContractStatus, LifecycleStage, Tier
from accounts.services import account_refresh_financials
from csp.models import Role, Team, User
from metrics.ledger import ledger_months, ledger_refresh

DAY = dt.timedelta(days=1)
TIERS = [Tier.SMB] * 6 + [Tier.MID_MARKET] * 3 + [Tier.ENTERPRISE]
PRICE = {Tier.SMB: (100, 2_500), Tier.MID_MARKET: (2_500, 12_000), Tier.ENTERPRISE: (12_000, 75_000)}


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Benchmark the revenue ledger, /api/v1/metrics/revenue/ and the team dashboard on PostgreSQL."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=100_000)
        parser.add_argument("--contracts", type=int, default=300_000, help="About this many contracts in all.")
        parser.add_argument("--months", type=int, default=36)
        parser.add_argument("--teams", type=int, default=25)
        parser.add_argument("--csms-per-team", type=int, default=8)
        parser.add_argument("--requests", type=int, default=30, help="Timed requests per endpoint.")
        parser.add_argument("--rounds", type=int, default=3, help="Timed rounds of refresh vs plain SQL.")
        parser.add_argument("--reuse", action="store_true", help="Keep the bench data already loaded.")
        parser.add_argument("--skip-ledger", action="store_true", help="Time only the HTTP endpoints.")
        parser.add_argument("--cleanup", action="store_true", help="Remove the bench data at the end.")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, **opts):
        if connection.vendor != "postgresql":
            raise CommandError("bench_metrics runs on PostgreSQL (set DATABASE_URL).")
        today = timezone.localdate()
        if not opts["reuse"] or not Account.objects.filter(external_id__startswith="BENCH-").exists():
            self._clear()
            t0 = time.perf_counter()
            self._build(opts, today)
            self.stdout.write(f"built in {time.perf_counter() - t0:.1f} s")
        n_acc = Account.objects.filter(external_id__startswith="BENCH-").count()
        n_con = Contract.objects.filter(account__external_id__startswith="BENCH-").count()
        self.stdout.write(f"data: {n_acc} accounts, {n_con} contracts, {len(ledger_months(today))} ledger months")
        if not opts["skip_ledger"]:
            self._bench_ledger(opts["rounds"], today)
        self._bench_http(opts["requests"], today)
        if opts["cleanup"]:
            self._clear()
            self.stdout.write("bench data removed")

    # --- data ---------------------------------------------------------------------------------------------------
    def _clear(self) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE metrics_mrrmonth")
            cursor.execute(
                "DELETE FROM accounts_contract WHERE account_id IN "
                "(SELECT id FROM accounts_account WHERE external_id LIKE 'BENCH-%%')"
            )
            cursor.execute("DELETE FROM accounts_account WHERE external_id LIKE 'BENCH-%%'")
        User.objects.filter(email__endswith="@bench.csp").delete()
        Team.objects.filter(name__startswith="Bench ").delete()

    def _build(self, opts, today: dt.date) -> None:
        rng = random.Random(opts["seed"])
        # Users without a usable password: hashing hundreds of passwords would dominate the build.
        User.objects.bulk_create(
            [User(email="admin@bench.csp", role=Role.ADMIN, full_name="Bench Admin", password="!")]
            + [User(email=f"manager{t}@bench.csp", role=Role.MANAGER, password="!") for t in range(opts["teams"])]
        )
        csms: list[User] = []
        for t in range(opts["teams"]):
            manager = User.objects.get(email=f"manager{t}@bench.csp")
            team = Team.objects.create(name=f"Bench {t}", manager=manager)
            User.objects.filter(pk=manager.pk).update(team=team)
            User.objects.bulk_create(
                [
                    User(email=f"csm{t}-{c}@bench.csp", role=Role.CSM, team=team, password="!")
                    for c in range(opts["csms_per_team"])
                ]
            )
        csms = list(User.objects.filter(email__startswith="csm", email__endswith="@bench.csp").order_by("id"))
        first_month = add_months(today.replace(day=1), -opts["months"])
        per_account = opts["contracts"] / opts["accounts"]
        batch = 5000
        for lo in range(0, opts["accounts"], batch):
            accounts = [
                Account(
                    name=f"Bench account {i}",
                    external_id=f"BENCH-{i:07d}",
                    tier=rng.choice(TIERS),
                    owner=csms[i % len(csms)],
                    lifecycle_stage=LifecycleStage.ADOPTION,
                )
                for i in range(lo, min(lo + batch, opts["accounts"]))
            ]
            Account.objects.bulk_create(accounts, batch_size=batch)
            contracts: list[Contract] = []
            for account in accounts:
                contracts += self._contracts(account, rng, first_month, today, per_account)
            Contract.objects.bulk_create(contracts, batch_size=batch)
            self.stdout.write(f"  {lo + len(accounts)} accounts ...")
        account_refresh_financials()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE accounts_account; ANALYZE accounts_contract")

    def _contracts(self, account, rng, first_month, today, per_account) -> list[Contract]:
        """A chain of yearly terms from a random month: renewals at changed prices, ~1 in 6 amended mid-term,
        ~1 in 10 churned (dated cancellation), the chain length averaging ``per_account``."""
        period = BillingPeriod.MONTH if account.tier == Tier.SMB else BillingPeriod.YEAR
        price = Decimal(rng.randrange(*PRICE[account.tier]))
        span = (today - first_month).days // 30
        start = add_months(first_month, rng.randrange(0, max(1, span - 12 * max(0, round(per_account) - 1))))
        out: list[Contract] = []
        target = max(1, round(rng.gauss(per_account, 0.8)))
        while len(out) < target:
            end = add_months(start, 12) - DAY
            amount = price if period == BillingPeriod.MONTH else price * 12
            c = Contract(
                account=account, start_date=start, end_date=end, recurring_amount=amount, billing_period=period,
                arr=amount * 12 if period == BillingPeriod.MONTH else amount, seats=10,
                status=ContractStatus.EXPIRED if end < today else ContractStatus.ACTIVE,
            )  # fmt: skip
            out.append(c)
            roll = rng.random()
            if roll < 0.16 and len(out) < target:  # mid-term amendment
                effective = start + dt.timedelta(days=rng.randint(30, 300))
                c.cancelled_on, c.status = effective, ContractStatus.CANCELLED
                price = (price * Decimal(rng.choice(["1.2", "1.5", "0.8"]))).quantize(Decimal("1"))
                amount = price if period == BillingPeriod.MONTH else price * 12
                out.append(
                    Contract(
                        account=account, start_date=effective, end_date=end, recurring_amount=amount,
                        billing_period=period, arr=amount * 12 if period == BillingPeriod.MONTH else amount, seats=10,
                        status=ContractStatus.EXPIRED if end < today else ContractStatus.ACTIVE,
                    )
                )  # fmt: skip
            elif roll < 0.26:  # churn: a dated cancellation before the end, the chain stops
                c.cancelled_on = start + dt.timedelta(days=rng.randint(30, 360))
                c.status = ContractStatus.CANCELLED
                break
            start = end + DAY
            price = (price * Decimal(rng.choice(["1", "1", "1.05", "1.1", "0.9"]))).quantize(Decimal("1"))
        return out

    # --- measurements -------------------------------------------------------------------------------------------
    def _bench_ledger(self, rounds: int, today: dt.date) -> None:
        months = ledger_months(today)
        first, last = months[0][0], months[-1][0]
        plain = f"""
            SELECT count(*), sum(mrr_first), sum(mrr_last) FROM (
                SELECT c.account_id, m.month,
                       SUM(c.arr / 12) FILTER (WHERE c.start_date <= m.month AND c.end_date >= m.month
                           AND (c.cancelled_on IS NULL OR c.cancelled_on > m.month)) AS mrr_first,
                       SUM(c.arr / 12) FILTER (WHERE c.start_date <= m.last AND c.end_date >= m.last
                           AND (c.cancelled_on IS NULL OR c.cancelled_on > m.last)) AS mrr_last
                FROM (SELECT d::date AS month, (d + interval '1 month' - interval '1 day')::date AS last
                      FROM generate_series('{first}'::date, '{last}'::date, interval '1 month') d) m
                JOIN accounts_contract c ON c.start_date <= m.last AND c.end_date >= m.month
                WHERE c.status <> 'draft' AND NOT (c.status = 'cancelled' AND c.cancelled_on IS NULL) AND c.arr > 0
                  AND (c.cancelled_on IS NULL OR (c.cancelled_on > m.month AND c.cancelled_on > c.start_date))
                GROUP BY c.account_id, m.month
            ) t
        """
        refresh_times, plain_times, rows = [], [], 0
        for _ in range(rounds):
            t0 = time.perf_counter()
            rows = ledger_refresh(today=today)
            refresh_times.append(time.perf_counter() - t0)
            with connection.cursor() as cursor:
                t0 = time.perf_counter()
                cursor.execute(plain)
                plain_rows = cursor.fetchone()[0]
                plain_times.append(time.perf_counter() - t0)
        refresh, base = statistics.median(refresh_times), statistics.median(plain_times)
        self.stdout.write(
            f"ledger refresh (all accounts, {rows} snapshot rows): median {refresh:.2f} s over {rounds} rounds "
            f"{[round(t, 2) for t in refresh_times]}"
        )
        self.stdout.write(
            f"plain SQL monthly MRR ({plain_rows} rows, computed not stored): median {base:.2f} s "
            f"{[round(t, 2) for t in plain_times]}"
        )
        self.stdout.write(f"ratio refresh / plain SQL: {refresh / base:.2f}x (target <= 3x)")
        t0 = time.perf_counter()
        some = list(Account.objects.filter(external_id__startswith="BENCH-").values_list("id", flat=True)[:50])
        ledger_refresh(account_ids=some, today=today)
        self.stdout.write(
            f"ledger refresh of 50 accounts (after a contract change): {(time.perf_counter() - t0) * 1000:.0f} ms"
        )

    def _timed(self, client: Client, url: str, params: dict, n: int) -> tuple[float, float]:
        client.get(url, params)  # warm-up
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code}: {response.content[:300]!r}")
        return percentile(times, 50), percentile(times, 95)

    def _bench_http(self, n: int, today: dt.date) -> None:
        quarter_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        start = add_months(quarter_start, -3)
        quarter = {"start": start.isoformat(), "end": (quarter_start - DAY).isoformat()}
        manager = User.objects.get(email="manager0@bench.csp")
        team = Team.objects.get(name="Bench 0")
        csm = User.objects.filter(team=team, role=Role.CSM).order_by("email").first()
        admin = User.objects.get(email="admin@bench.csp")
        cases = [
            ("revenue API, company (admin)", admin, "/api/v1/metrics/revenue/", quarter),
            ("revenue API, one team (manager)", manager, "/api/v1/metrics/revenue/", quarter | {"team": team.pk}),
            ("revenue API, one CSM book", csm, "/api/v1/metrics/revenue/", quarter),
        ]
        try:
            team_url = reverse("metrics:team")
            cases.append(("team dashboard (manager)", manager, team_url, {"team": team.pk, "period": "last_quarter"}))
        except NoReverseMatch:
            self.stdout.write("team dashboard: not installed (metrics:team), skipped")
        n_accounts = Account.objects.filter(owner__team=team).count()
        self.stdout.write(f"one quarter {quarter['start']}..{quarter['end']}; team of {n_accounts} accounts")
        for label, user, url, params in cases:
            client = Client()
            client.force_login(user)
            p50, p95 = self._timed(client, url, params, n)
            self.stdout.write(f"{label:<34} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   ({n} requests)")
