"""The app behind PgBouncer in transaction pooling mode (``DATABASE_POOL_MODE=transaction``): gunicorn (as the
Dockerfile runs it) and a real Celery worker share two server connections through a real pgbouncer, so every
transaction may land on another server session. Ingestion (prepared statements when pooling is off), the usage
refresh on the worker, the account API and the CSV export (a server-side cursor when pooling is off) must all work:
no session state may outlive a transaction (docs/scaling.md)."""

import base64
import datetime as dt
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from accounts.models import Account
from csp.benchtools import free_port, http_load, server_env, start_gunicorn, start_worker, stop
from csp.models import Role
from csp.services import api_token_rotate
from events.models import AccountDailyEvent, Event, UsageMark
from events.services import source_create
from tests.factories import UserFactory

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PgBouncer pools PostgreSQL connections"),
    pytest.mark.skipif(
        not settings.REDIS_URL and not os.environ.get("CSP_REQUIRE_PGBOUNCER"), reason="needs REDIS_URL (a worker)"
    ),
    pytest.mark.skipif(
        not os.path.exists(PGBOUNCER) and not os.environ.get("CSP_REQUIRE_PGBOUNCER"),
        reason="pgbouncer is not installed (apt-get install pgbouncer; CI installs it)",
    ),
]


@pytest.fixture
def pgbouncer():
    """A private pgbouncer in transaction mode in front of the machine's PostgreSQL, 2 server connections per
    database/user pair; it runs as the postgres user (pgbouncer refuses root). Yields its port."""
    db = connection.settings_dict
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="csp-pgbouncer-"))
    folder.chmod(0o777)
    (folder / "users.txt").write_text(f'"{db["USER"]}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
        "pool_mode = transaction\ndefault_pool_size = 2\nmax_client_conn = 200\n"
        "server_reset_query =\nignore_startup_parameters = extra_float_digits,options\n"
        f"logfile = {folder / 'pgbouncer.log'}\npidfile = {folder / 'pgbouncer.pid'}\n"
    )
    for path in folder.iterdir():
        path.chmod(0o666)
    user = ["-u", "postgres"] if os.geteuid() == 0 else []
    process = subprocess.Popen([PGBOUNCER, *user, str(folder / "pgbouncer.ini")])
    deadline = time.monotonic() + 10
    while subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port), "-U", db["USER"]]).returncode != 0:
        assert time.monotonic() < deadline and process.poll() is None, "pgbouncer did not start"
        time.sleep(0.1)
    try:
        yield port, folder / "pgbouncer.log"
    finally:
        stop(process)
        shutil.rmtree(folder, ignore_errors=True)


def _batch(accounts: list[str], n: int) -> dict:
    now = dt.datetime.now(dt.UTC)
    return {
        "batch": [
            {
                "type": "track",
                "event": "Report Viewed",
                "messageId": str(uuid.uuid4()),
                "userId": f"{accounts[i % len(accounts)]}-u{i % 3}",
                "timestamp": (now - dt.timedelta(minutes=i)).isoformat(),
                "context": {"groupId": accounts[i % len(accounts)]},
            }
            for i in range(n)
        ]
    }


@pytest.mark.django_db(transaction=True)  # the servers see only committed rows
def test_the_app_works_behind_transaction_pooling(pgbouncer):
    port_pgb, log = pgbouncer
    db = connection.settings_dict
    externals = [f"PGB-{i}" for i in range(5)]
    Account.objects.bulk_create([Account(name=f"Pooled {e}", external_id=e) for e in externals])
    _, write_key = source_create(name="pooled")
    csm = UserFactory(role=Role.ADMIN)
    token = api_token_rotate(user=csm).key
    browser = Client()
    browser.force_login(csm)  # a session row; its cookie is valid for gunicorn, which shares SECRET_KEY
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value

    env = server_env(
        DATABASE_URL=f"postgres://{db['USER']}@127.0.0.1:{port_pgb}/{db['NAME']}",
        DATABASE_POOL_MODE="transaction",
        SECRET_KEY=settings.SECRET_KEY,
    )
    web_port = free_port()
    web = worker = None
    try:
        web = start_gunicorn(web_port, env=env)  # 3 workers x 4 threads: 12 clients over 2 server connections
        worker = start_worker(queues="ingest,default", concurrency=2, env=env)
        sdk = {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode(),
               "Content-Type": "application/json"}  # fmt: skip
        bodies = [json.dumps(_batch(externals, 20)).encode() for _ in range(40)]
        ingest = http_load(web_port, [("POST", "/v1/batch", b) for b in bodies], clients=12, headers=sdk)
        reads = http_load(
            web_port,
            [("GET", "/api/v1/accounts/?page_size=50", None)] * 20 + [("GET", "/exports/accounts.csv", None)] * 10,
            clients=8,
            headers={"Authorization": f"Token {token}", "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"},
        )
        assert ingest.failures == [] and reads.failures == [], (ingest.failures[:3], reads.failures[:3])
        assert Event.objects.filter(account__external_id__in=externals).count() == 40 * 20  # each stored once

        # The worker's usage refreshes (claims, marks, rollups) run through the pooler too and converge.
        deadline = time.monotonic() + 60
        while UsageMark.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not UsageMark.objects.exists(), "usage refreshes did not finish behind the pooler"
        rolled = sum(
            AccountDailyEvent.objects.filter(account__external_id__in=externals).values_list("count", flat=True)
        )
        assert rolled == 40 * 20
    finally:
        stop(web, worker)
    assert "prepared statement" not in log.read_text()
