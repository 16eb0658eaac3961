"""Fixtures of the fault tests: one private PostgreSQL cluster per module (with the test database's schema), and per
test a private Redis and the app processes on them."""

import os
import subprocess
import sys
import time
import uuid

import orjson
import pytest
from django.conf import settings
from django.db import connection

from csp.benchtools import server_env
from tests.faults.load import Client, Database, group_batch
from tests.faults.servers import AppStack, PrivatePostgres, PrivateRedis, pg_bindir, port

ACCOUNTS = 30


def _copy_schema(target: PrivatePostgres) -> None:
    """Copy pytest-django's migrated test database into the private cluster: the same schema and migration
    records as ``manage.py migrate`` gives, in seconds instead of a minute of migrations."""
    source = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""}
    dump = subprocess.Popen(
        [str(pg_bindir() / "pg_dump"), "--no-owner", "--no-privileges", "-h", source["HOST"] or "127.0.0.1",
         "-p", str(source["PORT"] or 5432), "-U", source["USER"] or "postgres", source["NAME"]],
        stdout=subprocess.PIPE, env=env,
    )  # fmt: skip
    restore = subprocess.run(
        [str(pg_bindir() / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(target.port),
         "-U", "postgres", "-d", "csp"],
        stdin=dump.stdout, capture_output=True, check=False,
    )  # fmt: skip
    dump.stdout.close()
    if dump.wait() or restore.returncode:
        raise RuntimeError(f"Copying the schema failed: {restore.stderr.decode()[-2000:]}")


class Cluster:
    """The module's private PostgreSQL, a reader for the checks, and the write key of an auto-creating source."""

    def __init__(self, pg: PrivatePostgres, write_key: str):
        self.pg, self.write_key, self.db = pg, write_key, Database(pg.url())


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker):
    started = time.monotonic()
    pg = PrivatePostgres(port(0))
    try:
        pg.start()
        initdb = time.monotonic() - started
        with django_db_blocker.unblock():
            _copy_schema(pg)
        copied = time.monotonic() - started - initdb
        created = subprocess.run(
            [sys.executable, "manage.py", "create_event_source", f"faults-{uuid.uuid4().hex[:6]}", "--kind", "server",
             "--auto-create-accounts"],
            env=server_env(DATABASE_URL=pg.url()), cwd=settings.BASE_DIR, capture_output=True, check=True,
        )  # fmt: skip
        print(f"\n[faults] private PostgreSQL: initdb and start {initdb:.1f} s, schema copied {copied:.1f} s, "
              f"event source {time.monotonic() - started - initdb - copied:.1f} s")  # fmt: skip
        cluster = Cluster(pg, created.stdout.decode().strip())
        yield cluster
        cluster.db.close()
    finally:
        stopping = time.monotonic()
        pg.stop()
        print(f"\n[faults] private PostgreSQL stopped in {time.monotonic() - stopping:.1f} s")


@pytest.fixture(scope="module")
def redis():
    server = PrivateRedis(port(1))
    server.start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def stack(cluster, redis, tmp_path_factory):
    """gunicorn, a worker and beat (usage sweep every 2 s) on the private servers, shared by the module's tests:
    each fault must leave them working for the next."""
    started = time.monotonic()
    app = AppStack(tmp_path_factory.mktemp("stack"), cluster.pg, redis, port(2), sweep_every=2)
    try:
        app.start()
        print(f"\n[faults] gunicorn, worker and beat up in {time.monotonic() - started:.1f} s")
        yield app
    finally:
        stopping = time.monotonic()
        app.stop()
        print(f"\n[faults] app processes stopped in {time.monotonic() - stopping:.1f} s")


@pytest.fixture
def prefix(cluster, stack, request):
    """A run's own accounts (created through group calls) and messageId prefix. The app's logs are printed when
    the test fails."""
    run = uuid.uuid4().hex[:6]
    client = Client(stack.web_port, cluster.write_key)
    status, body = client.post(orjson.dumps({"batch": group_batch(run, ACCOUNTS)}))
    client.close()
    assert status == 200, body
    yield run
    if getattr(request.node, "rep_call", None) is None or request.node.rep_call.failed:
        print(stack.logs())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report
