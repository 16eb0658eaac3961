"""Writing raw events fast.

On PostgreSQL a call's events are stored by one statement (``insert_events_pg``): the validated messages go
to the server as one JSON array, and a single INSERT ... SELECT resolves each user's group and each group's
account, inserts the events once each by (source, messageId) (ON CONFLICT DO NOTHING makes SDK retries
harmless; alone in its transaction it goes without ON CONFLICT first, see ``insert_events_pg``), and marks and
claims the touched accounts for the usage pipeline (see ``events.pipeline``). Outside
a transaction that one statement is the whole transaction: one round trip per call, where a COPY needs
BEGIN, lookups, a savepoint around the COPY (for the duplicate case), the marks and COMMIT; on this path
round trips, not rows, were the largest cost. Other databases use the ORM (``bulk_create``) and
``pipeline.mark_dirty``.
"""

import datetime as dt
from functools import cache

import orjson
import psycopg
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections

from accounts.models import Account
from events.messages import Message
from events.models import Event, UsageClaim, UsageMark, UserGroup


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


class PreparedCursor(psycopg.Cursor):
    """psycopg's server-side binding cursor that runs each statement as a prepared statement (Django's cursor
    wrappers call ``execute(sql, params)``, so the choice rides on the cursor)."""

    prepare: bool | None = True

    def execute(self, query, params=None, **kwargs):
        kwargs.setdefault("prepare", self.prepare)
        return super().execute(query, params, **kwargs)


def fetch_prepared(sql: str, params: dict | list) -> list[tuple]:
    """Run one hot-path statement on PostgreSQL as a prepared statement and return its rows. Django's cursors
    bind parameters client-side, so PostgreSQL plans every statement again; for these statements planning
    cost as much as running them. The psycopg cursor is wrapped in Django's own cursor wrapper, so the statement
    runs on Django's connection and in its transaction, its errors are Django's ``DatabaseError`` family (a
    task's ``autoretry_for=(OperationalError, ...)`` sees them), ``connection.execute_wrapper`` instrumentation
    sees it and the query log records it (DEBUG, tests counting queries). Set the database option
    ``prepare_threshold`` to None behind a pooler that cannot keep prepared statements."""
    db = connections[DEFAULT_DB_ALIAS]  # one lookup of the per-thread connection, not one per attribute
    db.ensure_connection()
    db.validate_thread_sharing()
    raw = db.connection
    cursor = PreparedCursor(raw)
    if raw.prepare_threshold is None:
        cursor.prepare = None  # psycopg's own choice: never, with the threshold off
    with db.make_debug_cursor(cursor) if db.queries_logged else db.make_cursor(cursor) as wrapped:
        wrapped.execute(sql, params)
        return wrapped.fetchall() if wrapped.description else []


ON_CONFLICT = "ON CONFLICT (source_id, message_id) DO NOTHING"


@cache
def _insert_sql(*, skip_duplicates: bool) -> str:
    """The statement; ``skip_duplicates`` adds ON CONFLICT DO NOTHING on the messageId key."""
    events, accounts, groups = _table(Event), _table(Account), _table(UserGroup)
    return f"""
WITH input AS (
    SELECT x->>0 AS message_id, x->>1 AS type, x->>2 AS event, x->>3 AS user_id, x->>4 AS anonymous_id,
           x->>5 AS group_id, (x->>6)::timestamptz AS ts, x->7 AS properties, x->8 AS context
    FROM jsonb_array_elements(%(rows)s::jsonb) AS x
),
resolved AS (  -- a message naming no group belongs to the group its user joined last (group calls)
    SELECT i.*, COALESCE(NULLIF(i.group_id, ''), g.group_id, '') AS gid
    FROM input i LEFT JOIN {groups} g ON i.group_id = '' AND g.source_id = %(source)s::bigint
        AND g.user_id = COALESCE(NULLIF(i.user_id, ''), i.anonymous_id)
),
inserted AS (
    INSERT INTO {events} (source_id, message_id, type, event, user_id, anonymous_id, group_id, account_id,
                          timestamp, received_at, properties, context)
    SELECT %(source)s::bigint, r.message_id, r.type, r.event, r.user_id, r.anonymous_id, r.gid, a.id,
           r.ts, %(now)s::timestamptz, r.properties, r.context
    FROM resolved r LEFT JOIN {accounts} a ON r.gid <> '' AND a.external_id = r.gid
    {ON_CONFLICT if skip_duplicates else ""}
    RETURNING account_id, timestamp
),
marks AS (
    INSERT INTO {_table(UsageMark)} (account_id, since, created_at)
    SELECT account_id, min(timestamp), %(now)s::timestamptz FROM inserted
    WHERE account_id IS NOT NULL GROUP BY account_id
    RETURNING account_id
)
INSERT INTO {_table(UsageClaim)} (account_id, enqueued_at)
SELECT account_id, %(now)s::timestamptz FROM marks ORDER BY account_id  -- a fixed order: no deadlocks
ON CONFLICT (account_id) DO NOTHING RETURNING account_id"""


def insert_events_pg(*, source_id: int, messages: list[Message], received_at: dt.datetime) -> list[int]:
    """Store messages once each by (source, messageId), attributed to their accounts, and mark those accounts;
    returns the accounts claimed for a refresh (to enqueue once the transaction commits). PostgreSQL only."""
    # orjson writes the whole array (datetimes as RFC 3339) in one C call.
    rows = [
        (m.message_id, m.type, m.event, m.user_id, m.anonymous_id, m.group_id, m.timestamp, m.properties, m.context)
        for m in messages
    ]
    params = {"rows": orjson.dumps(rows).decode(), "source": source_id, "now": received_at}
    if not connection.in_atomic_block:
        # Alone, the statement is its own transaction, so a messageId seen before can simply make it fail, and
        # the call is then stored by the variant that skips duplicates. SDK retries are rare, and ON CONFLICT
        # costs PostgreSQL a second unique-index probe for every row of every call.
        try:
            return [row[0] for row in fetch_prepared(_insert_sql(skip_duplicates=False), params)]
        except IntegrityError as exc:
            if not isinstance(exc.__cause__, psycopg.errors.UniqueViolation):
                raise
    return [row[0] for row in fetch_prepared(_insert_sql(skip_duplicates=True), params)]


# The lookups of the portable path (and of identify calls), in plain SQL: on the hot path the ORM's query
# building costs more than the indexed lookups themselves.
def _lookup(sql: str, params: list, values: set[str]) -> dict[str, object]:
    if not values:
        return {}
    if connection.vendor == "postgresql":
        # "IN (unnest(array))": one SQL text for any number of values, so it is prepared once per connection.
        return dict(fetch_prepared(sql.format(marks="SELECT unnest(%s::text[])"), [*params, list(values)]))
    with connection.cursor() as cursor:
        cursor.execute(sql.format(marks=", ".join(["%s"] * len(values))), [*params, *values])
        return dict(cursor.fetchall())


def accounts_by_external_id(external_ids: set[str]) -> dict[str, int]:
    """Account ids by external id (the Segment groupId)."""
    return _lookup(f"SELECT external_id, id FROM {_table(Account)} WHERE external_id IN ({{marks}})", [], external_ids)


def user_groups(*, source_id: int, user_ids: set[str]) -> dict[str, str]:
    """The group id each user joined last (from group calls of this source)."""
    sql = f"SELECT user_id, group_id FROM {_table(UserGroup)} WHERE source_id = %s AND user_id IN ({{marks}})"
    return _lookup(sql, [source_id], user_ids)
