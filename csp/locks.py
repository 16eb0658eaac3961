"""Database locks that serialize writers across processes (workers on several hosts)."""

import zlib

from django.db import connection


def advisory_xact_lock(name: str) -> None:
    """Wait for, then hold until the end of the current transaction, the PostgreSQL advisory lock named ``name``.
    Two runs of the same write (a task redelivered while the first still runs) then happen one after the other,
    so the second sees what the first wrote. Other databases serialize writing transactions already (SQLite)."""
    if not connection.in_atomic_block:
        raise RuntimeError("advisory_xact_lock needs a transaction (it is released at its end)")
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(name.encode())])
