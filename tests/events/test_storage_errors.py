"""The raw psycopg path (PostgreSQL) goes through Django's cursor wrapper: its errors are Django's, execute
wrappers and the query log see its statements, and a task's autoretry retries a database error raised there."""

import datetime as dt

import psycopg
import pytest
from django.db import IntegrityError, OperationalError, connection
from django.test.utils import CaptureQueriesContext

from events import storage
from events.messages import Message
from events.models import Event, UsageClaim, UsageMark
from events.tasks import usage_sweep
from tests.factories import AccountFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the raw psycopg path is PostgreSQL's"),
]

NOW = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)


def _message(mid: str) -> Message:
    return Message("track", mid, "u1", "", "Opened", "ACME-1", NOW, {}, {"groupId": "ACME-1"})


def _fail_once(monkeypatch, error: Exception) -> list[str]:
    """Make the next statement of the raw path fail at the driver with ``error``; returns the statements tried."""
    tried: list[str] = []
    real = storage.PreparedCursor.execute

    def execute(self, query, params=None, **kwargs):
        tried.append(query)
        if len(tried) == 1:
            raise error
        return real(self, query, params, **kwargs)

    monkeypatch.setattr(storage.PreparedCursor, "execute", execute)
    return tried


def test_a_driver_error_becomes_django_s(source, monkeypatch):
    _fail_once(monkeypatch, psycopg.errors.AdminShutdown("terminating connection due to administrator command"))
    with pytest.raises(OperationalError) as caught:
        storage.insert_events_pg(source_id=source.id, messages=[_message("x1")], received_at=NOW)
    assert isinstance(caught.value.__cause__, psycopg.errors.AdminShutdown)


def test_an_integrity_error_other_than_a_repeated_message_id_is_not_swallowed(source, monkeypatch):
    # Inside a transaction the statement skips duplicates itself; a foreign-key failure still surfaces.
    _fail_once(monkeypatch, psycopg.errors.ForeignKeyViolation("insert or update violates foreign key"))
    with pytest.raises(IntegrityError):
        storage.insert_events_pg(source_id=source.id, messages=[_message("x1")], received_at=NOW)


def test_execute_wrappers_and_the_query_log_see_the_statement(source):
    AccountFactory(external_id="ACME-1")
    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(wrapper):
        storage.insert_events_pg(source_id=source.id, messages=[_message("x1")], received_at=NOW)
    assert len(seen) == 1 and "INSERT INTO" in seen[0]
    assert len(queries) == 1
    # The log shows the statement as the server ran it (with $n parameters) and how long it took.
    assert "jsonb_array_elements($1::jsonb)" in queries[0]["sql"]
    assert float(queries[0]["time"]) >= 0
    assert Event.objects.filter(message_id="x1").exists()


def test_the_sweep_task_retries_a_database_error_on_the_raw_path(source, monkeypatch):
    # An event whose group had no account yet; the account appears; the sweep attributes the event and marks the
    # account through the raw path (pipeline.mark_dirty), whose first statement fails like a failover would.
    late = Message("track", "late-1", "u1", "", "Opened", "ACME-LATE", NOW, {}, {"groupId": "ACME-LATE"})
    storage.insert_events_pg(source_id=source.id, messages=[late], received_at=NOW)
    assert Event.objects.get(group_id="ACME-LATE").account_id is None
    account = AccountFactory(external_id="ACME-LATE")
    tried = _fail_once(monkeypatch, psycopg.errors.AdminShutdown("terminating connection due to administrator command"))
    result = usage_sweep.apply(throw=False)  # the retry runs in-process too; its outcome is what we read
    assert result.successful(), result.traceback
    assert len(tried) == 2  # the failed attempt, then the retry (events.tasks: autoretry_for=TRANSIENT)
    assert Event.objects.get(group_id="ACME-LATE").account_id == account.id
    assert UsageMark.objects.filter(account=account).exists() or UsageClaim.objects.filter(account=account).exists()
