"""The read-replica router: dashboards, the metrics API and CSV exports read the replica when one is configured;
writes, other pages and non-GET requests stay on the primary; without a replica nothing changes."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account
from csp.dbrouting import REPLICA, ReplicaRouter, replica_configured, replica_reads
from csp.models import Role
from tests.factories import PASSWORD, AccountFactory, UserFactory


def test_router_without_replica_changes_nothing(monkeypatch):
    monkeypatch.delitem(connections.settings, REPLICA)
    router = ReplicaRouter()
    assert not replica_configured()
    with replica_reads():
        assert router.db_for_read(Account) is None  # no replica: Django's default
    assert router.db_for_write(Account) == "default"
    assert router.allow_migrate("default", "accounts") and not router.allow_migrate(REPLICA, "accounts")


@pytest.fixture(scope="module", autouse=True)
def replica(django_db_setup, django_db_blocker):
    """A second connection to the test database under the alias ``replica`` (as a real replica holds the same
    rows), for this module only. Module scope: it must exist before pytest-django checks a test's databases."""
    connections.settings[REPLICA] = {**connections["default"].settings_dict}
    try:
        yield connections[REPLICA]
    finally:
        with django_db_blocker.unblock():
            connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


# transaction: the replica's own connection sees committed rows only
@pytest.mark.django_db(transaction=True, databases=["default", REPLICA])
def test_dashboards_and_exports_read_the_replica(client, replica):
    admin = UserFactory(role=Role.ADMIN)
    AccountFactory.create_batch(3, owner=admin)
    client.login(email=admin.email, password=PASSWORD)
    assert replica_configured() and ReplicaRouter().db_for_read(Account) is None  # only inside replica_reads()

    for url in (reverse("metrics:portfolio"), reverse("metrics-api:revenue"), reverse("imports:account_export")):
        with CaptureQueriesContext(replica) as on_replica:
            response = client.get(url)
            body = b"".join(response.streaming_content) if response.streaming else response.content
        assert response.status_code == 200, url
        assert len(on_replica) > 0, f"{url} read nothing from the replica"
    assert body.count(b"\n") == 4  # the export's header and 3 accounts, streamed from the replica

    # Other pages, and every write, stay on the primary.
    with CaptureQueriesContext(replica) as on_replica:
        assert client.get(reverse("accounts:list")).status_code == 200
    assert len(on_replica) == 0


def _settings_in_subprocess(**env: str) -> subprocess.CompletedProcess:
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({a: {'prepare': d.get('OPTIONS', {}).get('prepare_threshold', 'unset'), "
        "'cursors': d.get('DISABLE_SERVER_SIDE_CURSORS', False)} for a, d in s.DATABASES.items()}))"
    )
    full = {**os.environ, "DJANGO_SETTINGS_MODULE": "csp.settings", "DEBUG": "true", **env}
    return subprocess.run([sys.executable, "-c", code], env=full, cwd=settings.BASE_DIR, capture_output=True, text=True)


def test_transaction_pooling_and_replica_settings():
    url = "postgres://u@db:5432/csp"
    result = _settings_in_subprocess(DATABASE_URL=url, DATABASE_REPLICA_URL=url, DATABASE_POOL_MODE="transaction")
    assert json.loads(result.stdout) == {
        "default": {"prepare": None, "cursors": True},
        "replica": {"prepare": None, "cursors": True},
    }
    plain = json.loads(_settings_in_subprocess(DATABASE_URL=url, DATABASE_POOL_MODE="session").stdout)
    assert plain == {"default": {"prepare": "unset", "cursors": False}}
    bad = _settings_in_subprocess(DATABASE_URL=url, DATABASE_POOL_MODE="statement")
    assert bad.returncode != 0 and "DATABASE_POOL_MODE must be" in bad.stderr
