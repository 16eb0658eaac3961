"""The embedded default of ``make run``, end to end: a web server, a real Celery worker and beat on the filesystem
broker (csp/embedded.py) and a SQLite file, all in their own processes as run_demo starts them, no Redis.

An admin activates a trigger in Chromium and it then fires by itself on its (shortened) beat schedule; "apply and
recompute history" answers at once and the worker writes the history afterwards.
"""

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from csp import embedded

SETUP = """
from accounts.models import Account
from csp.models import User
from health.models import Scorecard
from triggers.models import Trigger
User.objects.create_user(email="admin@x.test", password="pw-123456!", full_name="Ada", role="admin")
owner = User.objects.create_user(email="csm@x.test", password="pw-123456!", full_name="Casey", role="csm")
import datetime as dt
from django.utils import timezone
account = Account.objects.create(name="Quiet Corp", owner=owner)
Account.objects.filter(pk=account.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
Trigger.objects.create(name="Gone quiet", condition_type="no_touchpoint", params={"days": 5}, is_active=False,
                       open_cta=True, cta_type="risk", cta_priority="high", cta_title="Reach out to {{ account }}")
print(Scorecard.objects.get(is_default=True).pk)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


@pytest.fixture
def stack(tmp_path):
    """Migrate a fresh SQLite file, then start the web server, worker and beat as run_demo does."""
    db = tmp_path / "db.sqlite3"
    env = embedded.embedded_env(
        broker_dir=tmp_path / "broker",
        extra={"DATABASE_URL": f"sqlite:///{db}", "CSP_TRIGGERS_EVERY": "3", "SERVER_LOG_LEVEL": "WARNING"},
    )
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=settings.BASE_DIR)
    out = subprocess.run([*manage, "shell", "-c", SETUP], env=env, check=True, capture_output=True, text=True)
    port = _free_port()
    lines: list[str] = []
    processes = [subprocess.Popen([*manage, "runserver", f"127.0.0.1:{port}", "--noreload"], env=env)]
    extra = {k: env[k] for k in ("DATABASE_URL", "CSP_TRIGGERS_EVERY")}
    processes += embedded.start_worker_and_beat(broker_dir=tmp_path / "broker", write=lines.append, extra_env=extra)
    try:
        from csp.serving import wait_until_healthy

        assert wait_until_healthy(port, processes[0], timeout=60)
        yield {"url": f"http://127.0.0.1:{port}", "db": db, "lines": lines, "scorecard": int(out.stdout.split()[-1])}
    finally:
        embedded.stop(processes)


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db, timeout=20) as conn:
        return conn.execute(sql).fetchone()[0]


@pytest.mark.skipif(os.name != "posix", reason="starts processes")
def test_activated_trigger_fires_by_itself_and_history_runs_in_the_worker(browser, stack):
    context = browser.new_context(base_url=stack["url"])
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto("/login/")
    page.fill("#id_username", "admin@x.test")
    page.fill("#id_password", "pw-123456!")
    with page.expect_navigation():
        page.click("button[type=submit]")

    page.goto("/triggers/")
    with page.expect_navigation():
        page.get_by_role("button", name="Activate").click()
    assert page.get_by_role("button", name="Pause").is_visible()
    assert _count(stack["db"], "select count(*) from triggers_triggerexecution") == 0  # activation fires nothing

    # Beat sends triggers_evaluate_periodic every 3 s here; the worker runs it and the trigger fires by itself.
    log_url = "/triggers/" + str(_count(stack["db"], "select id from triggers_trigger")) + "/log/"

    def fired() -> bool:
        page.goto(log_url)
        return page.get_by_test_id("execution-log").get_by_text("Quiet Corp").count() > 0

    assert _wait_for(fired, timeout=90), stack["lines"]
    assert _count(stack["db"], "select count(*) from playbooks_cta where title = 'Reach out to Quiet Corp'") == 1

    # "Apply and recompute history" answers at once; the worker writes the snapshots afterwards.
    page.goto(f"/health/scorecards/{stack['scorecard']}/")
    with page.expect_navigation():
        page.get_by_test_id("recompute-history").click()
    assert page.get_by_text("in the background").is_visible()
    assert _wait_for(
        lambda: _count(stack["db"], "select count(*) from health_healthsnapshot where source = 'history'") > 100, 90
    ), stack["lines"]
    # The console got one line per task class, not one per run.
    received = [line for line in stack["lines"] if "runs in the background worker" in line]
    assert len(received) == len(set(received))
    assert any("triggers.tasks.triggers_evaluate_periodic" in line for line in received)
    context.close()
