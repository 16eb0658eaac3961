"""Bulk writes of snapshots and current rows. On PostgreSQL they stream through COPY (a fixed number of
statements, and far less per-row work than INSERT ... VALUES); elsewhere they fall back to bulk_create."""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction

from health.models import AccountHealth, HealthSnapshot

BATCH = 2000
# Below this many rows plain INSERTs beat COPY's fixed cost (one account's recompute: 2 statements, not 5).
COPY_FROM = 200
SNAPSHOT_COLUMNS = ["account_id", "scorecard_id", "computed_at", "as_of", "score", "band", "breakdown", "source"]
CURRENT_COLUMNS = [
    "account_id", "scorecard_id", "score", "band", "previous_score", "previous_band", "trend", "fingerprint",
    "computed_at", "changed_at", "override_id",
]  # fmt: skip
# changed_at is None in a row when the score did not move: the stored value is kept.
KEEP_WHEN_NULL = {"changed_at"}


# Rows are plain tuples in the column order above: building 100,000 model instances would cost more than the COPY.


def _text(value) -> str:
    """One value in COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _lines(rows: list[tuple]) -> str:
    return "".join("\t".join(map(_text, row)) + "\n" for row in rows)


def _copy(cur, table: str, columns: list[str], rows: list[tuple]) -> None:
    """COPY rows in text format, written in chunks (much cheaper per row than ``write_row``)."""
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for start in range(0, len(rows), 10000):
            copy.write(_lines(rows[start : start + 10000]))


NULL = "\\N"


def _snapshot_line(row: tuple) -> str:
    """A snapshot tuple as a COPY text line, without the generic escaping: ids and numbers need none, the band and
    source are choices, timestamps are ISO text, and breakdown JSON has registry keys (``[a-z0-9_]``, checked in
    ``health.measures.register``) and numbers only, so no tab, newline or backslash can occur."""
    account_id, scorecard_id, computed_at, as_of, score, band, breakdown, source = row
    score = NULL if score is None else score
    return f"{account_id}\t{scorecard_id}\t{computed_at}\t{as_of}\t{score}\t{band}\t{breakdown}\t{source}\n"


def _current_lines(rows: list[tuple]) -> str:
    """Current-row tuples as COPY text lines, without the generic escaping (as ``_snapshot_line``): ids, numbers,
    band and trend choices and a hex fingerprint need none; the timestamps of one recompute are one instant, so
    each is formatted once."""
    stamps: dict = {None: NULL}

    def stamp(value) -> str:
        text = stamps.get(value)
        if text is None:
            text = stamps[value] = value.isoformat()
        return text

    return "".join(
        f"{account_id}\t{card}\t{NULL if score is None else score}\t{band}\t{NULL if prev is None else prev}\t"
        f"{prev_band}\t{trend}\t{fp}\t{stamp(computed)}\t{stamp(changed)}\t{NULL if override is None else override}\n"
        for account_id, card, score, band, prev, prev_band, trend, fp, computed, changed, override in rows
    )


@contextmanager
def snapshot_writer(expected: int) -> Iterator[Callable[[tuple], None]]:
    """Yields ``add(row)`` for snapshot tuples. On PostgreSQL with many rows a COPY stays open and receives them in
    chunks while the caller keeps scoring, so the server parses and indexes in parallel with Python (nothing else
    may use the connection meanwhile); otherwise rows are collected and inserted at the end."""
    if connection.vendor != "postgresql" or expected < COPY_FROM:
        rows: list[tuple] = []
        yield rows.append
        insert_snapshots(rows)
        return
    table = HealthSnapshot._meta.db_table
    buffer: list[tuple] = []
    with connection.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(SNAPSHOT_COLUMNS)}) FROM STDIN") as copy:

        def add(row: tuple) -> None:
            buffer.append(_snapshot_line(row))
            if len(buffer) >= 5000:
                copy.write("".join(buffer))
                buffer.clear()

        yield add
        if buffer:
            copy.write("".join(buffer))


def insert_snapshots(snapshots: list[tuple]) -> None:
    """Insert snapshot tuples (``SNAPSHOT_COLUMNS`` order; breakdown as JSON text): one COPY on PostgreSQL."""
    if not snapshots:
        return
    if connection.vendor != "postgresql" or len(snapshots) < COPY_FROM:
        at = SNAPSHOT_COLUMNS.index("breakdown")
        HealthSnapshot.objects.bulk_create(
            (
                HealthSnapshot(
                    **dict(zip(SNAPSHOT_COLUMNS, (*row[:at], json.loads(row[at]), *row[at + 1 :]), strict=True))
                )
                for row in snapshots
            ),
            batch_size=BATCH,
        )
        return
    with connection.cursor() as cur:
        _copy(cur, HealthSnapshot._meta.db_table, SNAPSHOT_COLUMNS, snapshots)


def upsert_current(rows: list[tuple]) -> None:
    """Insert or update the current row of each account (tuples in ``CURRENT_COLUMNS`` order): on PostgreSQL a
    COPY into a temporary table and one INSERT ... ON CONFLICT DO UPDATE from it (a fixed number of statements)."""
    if not rows:
        return
    if connection.vendor != "postgresql" or len(rows) < COPY_FROM:
        at = CURRENT_COLUMNS.index("changed_at")
        keep = dict(
            AccountHealth.objects.filter(account_id__in=[r[0] for r in rows if r[at] is None]).values_list(
                "account_id", "changed_at"
            )
        )
        rows = [r if r[at] is not None else (*r[:at], keep.get(r[0]), *r[at + 1 :]) for r in rows]
        AccountHealth.objects.bulk_create(
            (AccountHealth(**dict(zip(CURRENT_COLUMNS, row, strict=True))) for row in rows),
            batch_size=BATCH, update_conflicts=True, unique_fields=["account"],
            update_fields=[c.removesuffix("_id") for c in CURRENT_COLUMNS if c != "account_id"],
        )  # fmt: skip
        return
    table = AccountHealth._meta.db_table
    cols = ", ".join(CURRENT_COLUMNS)
    updates = ", ".join(
        f"{c} = COALESCE(EXCLUDED.{c}, {table}.{c})" if c in KEEP_WHEN_NULL else f"{c} = EXCLUDED.{c}"
        for c in CURRENT_COLUMNS
        if c != "account_id"
    )
    with transaction.atomic(savepoint=False), connection.cursor() as cur:
        cur.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS health_current_load (LIKE {table} INCLUDING DEFAULTS) "
            "ON COMMIT DELETE ROWS"
        )
        with cur.copy(f"COPY health_current_load ({cols}) FROM STDIN") as copy:
            for start in range(0, len(rows), 10000):
                copy.write(_current_lines(rows[start : start + 10000]))
        cur.execute(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM health_current_load "
            f"ON CONFLICT (account_id) DO UPDATE SET {updates}"
        )
        cur.execute("DELETE FROM health_current_load")
