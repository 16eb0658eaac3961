"""Writing raw events fast. On PostgreSQL the rows go in by COPY (the fastest path into a table); a repeated
messageId makes COPY fail on the unique (source, message_id) key, and then, inside a savepoint, the same rows
go in with INSERT ... ON CONFLICT DO NOTHING. SDK retries are rare, so nearly every call takes the COPY path.
Other databases use ``bulk_create(ignore_conflicts=True)``."""

import json

from django.db import IntegrityError, connection, transaction

from accounts.models import Account
from events.models import Event, UserGroup

COLUMNS = (
    "source_id", "message_id", "type", "event", "user_id", "anonymous_id", "group_id", "account_id", "timestamp",
    "received_at", "properties", "context",
)  # fmt: skip


def insert_events(rows: list[tuple]) -> None:
    """Store events (tuples in ``COLUMNS`` order, properties and context as JSON text) once each by
    (source, messageId); run inside a transaction."""
    seen: set[tuple[int, str]] = set()
    unique = []
    for row in rows:
        key = (row[0], row[1])
        if key not in seen:
            seen.add(key)
            unique.append(row)
    if not unique:
        return
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic():
                _copy(unique)
            return
        except IntegrityError:
            pass  # a messageId seen before: fall back to the conflict-ignoring insert
    events = []
    for row in unique:
        event = Event(**dict(zip(COLUMNS[:10], row, strict=False)))
        event.properties, event.context = json.loads(row[10]), json.loads(row[11])
        events.append(event)
    Event.objects.bulk_create(events, ignore_conflicts=True)


def _copy(rows: list[tuple]) -> None:
    table = connection.ops.quote_name(Event._meta.db_table)
    sql = f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor: Django's wrapper has no COPY
        try:
            with raw.copy(sql) as copy:
                for r in rows:
                    copy.write_row(r)
        except Exception as exc:
            from psycopg import errors

            if isinstance(exc, errors.UniqueViolation):
                raise IntegrityError(str(exc)) from exc
            raise


# The two lookups of every call, in plain SQL: on the hot path the ORM's query building costs more than the
# indexed lookups themselves.
def _lookup(sql: str, params: list, values: set[str]) -> dict[str, object]:
    if not values:
        return {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # "= ANY(array)": one SQL text for any number of values, so psycopg parses it once per process.
            cursor.execute(sql.format(marks="SELECT unnest(%s::text[])"), [*params, list(values)])
        else:
            cursor.execute(sql.format(marks=", ".join(["%s"] * len(values))), [*params, *values])
        return dict(cursor.fetchall())


def accounts_by_external_id(external_ids: set[str]) -> dict[str, int]:
    """Account ids by external id (the Segment groupId)."""
    table = connection.ops.quote_name(Account._meta.db_table)
    return _lookup(f"SELECT external_id, id FROM {table} WHERE external_id IN ({{marks}})", [], external_ids)


def user_groups(*, source_id: int, user_ids: set[str]) -> dict[str, str]:
    """The group id each user joined last (from group calls of this source)."""
    table = connection.ops.quote_name(UserGroup._meta.db_table)
    sql = f"SELECT user_id, group_id FROM {table} WHERE source_id = %s AND user_id IN ({{marks}})"
    return _lookup(sql, [source_id], user_ids)
