"""Set-based bulk writes for PostgreSQL: ``COPY`` for new rows, one ``UPDATE … FROM (VALUES …)`` per batch for
changed rows, and the audit entries of both.

``bulk_create`` compiles one parameter per cell into a multi-row INSERT (half of a 50,000-row import's write
time went to compiling and binding it); ``COPY`` streams the rows instead, with ids taken from the table's
sequence in one query first, so the caller knows them (timeline and audit entries point at them).

Django's ``bulk_update`` writes one ``CASE WHEN id = … THEN …`` per column, which PostgreSQL evaluates row
by row against every branch: its cost grows with the batch size squared (50,000 changed accounts took
minutes). A join against a VALUES list is linear. Other databases (SQLite in development) use
``bulk_update`` with small batches.
"""

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from typing import Any

import orjson
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Field, JSONField, Model
from django.utils import timezone

MAX_PARAMS = 60_000  # PostgreSQL accepts at most 65,535 parameters per statement


def bulk_update_values(
    model: type[Model], objs: Sequence[Model], fields: Sequence[str], batch_size: int = 2000
) -> None:
    """Write ``fields`` of ``objs`` (which all have a primary key) back to the database."""
    if not objs or not fields:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, fields, batch_size=100)
        return
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    qn = connection.ops.quote_name
    table, pk = qn(meta.db_table), meta.pk
    # Each value arrives as an untyped literal or NULL; cast it to the column's type in the SET.
    sets = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}::{f.db_type(connection)}" for f in columns)
    names = ", ".join(["pk", *(qn(f.column) for f in columns)])
    per_row = len(columns) + 1
    batch_size = max(1, min(batch_size, MAX_PARAMS // per_row))
    row_sql = "(" + ", ".join(["%s"] * per_row) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            batch = objs[start : start + batch_size]
            params: list = []
            for obj in batch:
                params.append(obj.pk)
                params.extend(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in columns)
            values = ", ".join([row_sql] * len(batch))
            # Identifiers are the model's own, quoted; every value is a query parameter.
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM (VALUES {values}) AS v({names}) WHERE {table}.{qn(pk.column)} = v.pk",
                params,
            )


# COPY's text format: a row is one line, columns separated by tabs, NULL is \N, and a backslash, newline, carriage
# return or tab inside a value is escaped with a backslash.
_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _copy_value(value: Any, memo: dict) -> str:
    """One value as COPY text: what psycopg's ``write_row`` sends, for the types the import writes."""
    if value is None:
        return "\\N"
    if isinstance(value, str):  # choices (str subclasses) included
        return value.translate(_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(int(value))  # int(): an IntegerChoices member's str() is its label's value anyway
    text = memo.get(value)
    if text is None:
        # Dates, times and decimals repeat across a chunk (the run's ``now``, a few dates and amounts): once each.
        text = value.isoformat() if isinstance(value, dt.date | dt.datetime | dt.time) else str(value)
        memo[value] = text = text.translate(_ESCAPES)
    return text


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """``COPY table (columns) FROM STDIN`` of ``rows`` (PostgreSQL; JSON already text). The text is built here in
    one string per 1,000 rows: psycopg's ``write_row`` adapts value by value and cost a third of the worker's
    write time."""
    qn = connection.ops.quote_name
    sql = f"COPY {qn(table)} ({', '.join(map(qn, columns))}) FROM STDIN"
    memo: dict = {}
    value = _copy_value
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        lines = []
        for row in rows:
            lines.append("\t".join([value(v, memo) for v in row]))
            if len(lines) >= 1000:
                copy.write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            copy.write("\n".join(lines) + "\n")


def _json_text(field: JSONField, value: Any) -> str | None:
    # COPY text takes the JSON document as a string (with the field's own encoder, as Django would send it).
    return None if value is None else json.dumps(value, cls=field.encoder)


def _row_maker(fields: Sequence[Field]) -> Callable[[Model], list]:
    """obj -> its column values as an INSERT would send them: auto_now(_add) filled (``pre_save``), JSON as text;
    ``copy_rows`` writes every other type itself (Django's own prep is a no-op for them)."""
    getters = []
    for f in fields:
        if isinstance(f, JSONField):
            getters.append(lambda obj, f=f: _json_text(f, getattr(obj, f.attname)))
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            getters.append(lambda obj, f=f: f.pre_save(obj, True))
        else:
            getters.append(attrgetter(f.attname))
    return lambda obj: [get(obj) for get in getters]


def insert_rows(model: type[Model], objs: Sequence[Model]) -> None:
    """Insert new ``objs`` and set their primary keys (as ``bulk_create`` does). PostgreSQL: ids from the
    table's sequence in one query, then one ``COPY``; other databases: ``bulk_create``."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=500)
        return
    meta = model._meta
    fields = list(meta.concrete_fields)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
    row = _row_maker(fields)
    copy_rows(meta.db_table, [f.column for f in fields], (row(obj) for obj in objs))
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias


def _audit_value(value: Any) -> str:
    # django-auditlog stores every old and new value as a string, None as "None".
    return str(value)


def fetch_by(model: type[Model], key: str, keys: Iterable[Any], columns: Sequence[str]) -> list[tuple]:
    """``columns`` (attnames) of the rows whose ``key`` column is one of ``keys``: one query. PostgreSQL binds the
    keys as one array (``= ANY(%s)``: Django compiles an ``IN`` of 2,000 parameters in ~40 ms of Python)."""
    keys = list(keys)
    if not keys:
        return []
    if connection.vendor != "postgresql":
        return list(model.objects.filter(**{f"{key}__in": keys}).order_by().values_list(*columns))
    meta, qn = model._meta, connection.ops.quote_name
    names = ", ".join(qn(meta.get_field(c).column) for c in columns)
    with connection.cursor() as cursor:
        # Identifiers are the model's own, quoted; the keys are one parameter.
        cursor.execute(
            f"SELECT {names} FROM {qn(meta.db_table)} WHERE {qn(meta.get_field(key).column)} = ANY(%s)", [keys]
        )
        return cursor.fetchall()


def _db_value(field: Field, value: Any) -> Any:
    # COPY sends text: a JSON column takes the JSON document as a string.
    return json.dumps(value) if isinstance(field, JSONField) and value is not None else value


def insert_values(model: type[Model], rows: Sequence[dict[str, Any]], now: Any) -> list[int]:
    """Insert one row per dict ({attname: value}; missing fields take their defaults, auto_now(_add) ``now``) and
    return the new ids in order. PostgreSQL: ids from the sequence in one query, then one ``COPY`` of plain
    tuples (no model instances); other databases: ``bulk_create``."""
    if not rows:
        return []
    meta = model._meta
    if connection.vendor != "postgresql":
        objs = [model(**row) for row in rows]
        model.objects.bulk_create(objs, batch_size=500)
        return [obj.pk for obj in objs]
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    # (attname, value when the row has none); auto_now(_add) fields are never in a row, so they take ``now``.
    spec = [
        (f.attname, now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
         else _db_value(f, f.get_default()))
        for f in fields
    ]  # fmt: skip
    json_columns = [(i, f.attname) for i, f in enumerate(fields, start=1) if isinstance(f, JSONField)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]

    def tuples():
        for pk, row in zip(ids, rows, strict=True):
            values = [pk, *[row.get(attname, default) for attname, default in spec]]
            for i, attname in json_columns:
                if attname in row:
                    values[i] = json.dumps(row[attname])
            yield values

    copy_rows(meta.db_table, [meta.pk.column, *(f.column for f in fields)], tuples())
    return ids


def insert_columns(model: type[Model], attnames: Sequence[str], rows: Sequence[Sequence[Any]], now: Any) -> None:
    """Insert one row per tuple of ``attnames`` values (JSON fields as plain JSON types); every other field takes
    its default, auto_now(_add) ``now``. Cheaper than ``insert_values`` when every row sets the same fields: the
    defaults are computed once and each row is one tuple, no dict. PostgreSQL: ``COPY``; others: ``bulk_create``."""
    if not rows:
        return
    meta = model._meta
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**dict(zip(attnames, row, strict=True))) for row in rows], batch_size=500)
        return
    given = set(attnames)
    rest = [f for f in meta.concrete_fields if not f.primary_key and f.attname not in given]
    tail = tuple(
        now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else _db_value(f, f.get_default())
        for f in rest
    )
    fields = [meta.get_field(a) for a in attnames]
    json_at = [i for i, f in enumerate(fields) if isinstance(f, JSONField)]
    dumps = orjson.dumps

    def tuples():
        for row in rows:
            if json_at:
                row = list(row)
                for i in json_at:
                    row[i] = dumps(row[i]).decode()
            yield (*row, *tail)

    copy_rows(meta.db_table, [*(f.column for f in fields), *(f.column for f in rest)], tuples())


_stages = 0


def update_values(model: type[Model], attnames: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Set ``attnames`` of existing rows: each row is (pk, *values). PostgreSQL: ``COPY`` into a temporary table,
    then one ``UPDATE … FROM`` it (must run inside a transaction: the table is dropped at commit); other
    databases: ``bulk_update``."""
    if not rows or not attnames:
        return
    meta = model._meta
    fields = [meta.get_field(a) for a in attnames]
    if connection.vendor != "postgresql":
        objs = [model(pk=row[0], **dict(zip(attnames, row[1:], strict=True))) for row in rows]
        model.objects.bulk_update(objs, [f.name for f in fields], batch_size=100)
        return
    global _stages
    _stages += 1  # a name of its own: an all-or-nothing import stages many chunks in one transaction
    qn = connection.ops.quote_name
    stage = qn(f"import_stage_{_stages}")
    table = qn(meta.db_table)
    columns = ", ".join(f"{qn(f.column)} {f.db_type(connection)}" for f in fields)
    sets = ", ".join(f"{qn(f.column)} = s.{qn(f.column)}" for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {stage} (pk bigint PRIMARY KEY, {columns}) ON COMMIT DROP")
        with cursor.copy(f"COPY {stage} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        # Identifiers are the model's own, quoted; the values came in by COPY.
        cursor.execute(f"UPDATE {table} SET {sets} FROM {stage} AS s WHERE {table}.{qn(meta.pk.column)} = s.pk")


def audit_entries(
    model: type[Model],
    entries: Sequence[tuple[int, str, bool, dict[str, tuple[Any, Any]]]],
    *,
    actor_id: int | None,
    actor_email: str = "",
    job_id: int | None = None,
) -> None:
    """One audit log entry per written row, as django-auditlog writes on ``save()`` (which bulk writes skip):
    ``entries`` holds (pk, repr, created, {field: (old, new)}) with the fields the write set. The entries carry
    the actor and ``additional_data = {"import_job": id}`` so the log shows which import made them."""
    if not entries:
        return
    content_type = ContentType.objects.get_for_model(model).pk
    now = timezone.now()
    extra = {"import_job": job_id} if job_id is not None else None
    create, update = LogEntry.Action.CREATE, LogEntry.Action.UPDATE
    if connection.vendor != "postgresql":
        LogEntry.objects.bulk_create(
            [LogEntry(content_type_id=content_type, object_pk=str(pk), object_id=pk, object_repr=text,
                      action=create if created else update, changes_text="", actor_id=actor_id,
                      changes={f: [_audit_value(old), _audit_value(new)] for f, (old, new) in diff.items()},
                      actor_email=actor_email or None, timestamp=now, additional_data=extra)
             for pk, text, created, diff in entries],
            batch_size=500,
        )  # fmt: skip
        return
    # COPY of plain tuples; the entries' ids come from the column's identity default, JSON goes as text (orjson:
    # a fifth of json.dumps' cost; the column is jsonb, so the spacing it leaves out is not stored anyway).
    extra_json = json.dumps(extra) if extra is not None else None
    columns = ["content_type_id", "object_pk", "object_id", "object_repr", "action", "changes_text", "actor_id",
               "changes", "actor_email", "timestamp", "additional_data"]  # fmt: skip
    email = actor_email or None
    dumps = orjson.dumps
    rows = (
        (content_type, str(pk), pk, text, create if created else update, "", actor_id,
         dumps({f: [str(old), str(new)] for f, (old, new) in diff.items()}).decode(), email, now, extra_json)
        for pk, text, created, diff in entries
    )  # fmt: skip
    copy_rows(LogEntry._meta.db_table, columns, rows)


def audit_rows(
    model: type[Model],
    changes: Sequence[tuple[Model, bool, dict[str, tuple[Any, Any]]]],
    *,
    actor_id: int | None,
    actor_email: str = "",
    job_id: int | None = None,
) -> None:
    """One audit log entry per written object, as django-auditlog writes on ``save()`` (which bulk writes skip):
    ``changes`` holds (object, created, {field: (old, new)}) with the fields the write set. The entries carry
    the actor and ``additional_data = {"import_job": id}`` so the log shows which import made them."""
    audit_entries(
        model, [(obj.pk, str(obj), created, diff) for obj, created, diff in changes], actor_id=actor_id,
        actor_email=actor_email, job_id=job_id,
    )  # fmt: skip
