"""Benchmark: dry run and import of N generated accounts (then contacts and contracts for them), in-process.

    python manage.py bench_import --rows 50000

Prints rows per second for each pass and for a re-run (all updates). Writes into the configured database
under external ids BENCH-*, removed at the end unless --keep.
"""

import csv
import datetime as dt
import io
import time

from django.core.management.base import BaseCommand

from accounts.models import Account
from imports import engine


def _csv(header, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


class Command(BaseCommand):
    help = "Time CSV imports of generated accounts, contacts and contracts."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=50_000)
        parser.add_argument("--keep", action="store_true")

    def _time(self, label: str, kind: str, content: str, rows: int, apply: bool) -> None:
        start = time.perf_counter()
        ctx = engine.run(kind=kind, content=content, apply=apply)
        took = time.perf_counter() - start
        counts = ", ".join(f"{k} {v}" for k, v in ctx.counts.items())
        self.stdout.write(f"{label:<30} {rows:>7} rows {took:7.2f} s {rows / took:9.0f} rows/s  ({counts})")

    def handle(self, *args, rows: int, keep: bool, **options):
        n = rows
        today = dt.date.today()
        accounts = _csv(
            ["Account ID", "Account Name", "Website", "Segment", "Industry", "Employees"],
            [[f"BENCH-{i:07d}", f"Bench {i}", f"b{i}.example", ("smb", "mid market", "enterprise")[i % 3], "Software",
              str(10 + i % 900)] for i in range(n)],
        )  # fmt: skip
        contacts = _csv(
            ["Account ID", "First Name", "Last Name", "Email", "Role"],
            [[f"BENCH-{i:07d}", "Ana", f"Park{i}", f"ana{i}@b{i}.example", "champion"] for i in range(n)],
        )
        contracts = _csv(
            ["Contract ID", "Account ID", "Start Date", "End Date", "Amount", "Billing Frequency", "Seats"],
            [[f"BENCH-K{i:07d}", f"BENCH-{i:07d}", today.isoformat(), (today + dt.timedelta(days=365)).isoformat(),
              "1200", "yearly", "10"] for i in range(n)],
        )  # fmt: skip
        try:
            self._time("accounts dry run", "accounts", accounts, n, apply=False)
            self._time("accounts import", "accounts", accounts, n, apply=True)
            self._time("accounts re-run (unchanged)", "accounts", accounts, n, apply=True)
            changed = accounts.replace(",Software,", ",Fintech,")
            self._time("accounts update (all changed)", "accounts", changed, n, apply=True)
            self._time("contacts import", "contacts", contacts, n, apply=True)
            self._time("contracts import", "contracts", contracts, n, apply=True)
        finally:
            if not keep:
                Account.objects.filter(external_id__startswith="BENCH-").delete()
