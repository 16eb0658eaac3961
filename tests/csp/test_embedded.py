"""The embedded task runner of ``make run``: atomic message files, the condensed task log, and the refusal of
the embedded broker outside DEBUG and tests."""

import os
import subprocess
import sys

from django.conf import settings
from kombu import Connection

from csp.embedded import TaskLog


def test_messages_are_written_atomically_and_partial_files_are_not_read(tmp_path, monkeypatch):
    from csp import embedded_broker

    folder = tmp_path / "messages"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "control_folder": str(tmp_path)}
    visible_while_writing = []
    real_dumps = embedded_broker.dumps

    def dumps(payload):
        # While the message is serialised and written, no file a reader would take may exist yet (the stock
        # transport has created it empty by now: a polling worker read "" and died).
        visible_while_writing.extend(p.name for p in folder.iterdir() if p.name.partition(".")[2] == "default.msg")
        return real_dumps(payload)

    monkeypatch.setattr(embedded_broker, "dumps", dumps)
    with Connection("cspfs://", transport_options=options) as conn:
        queue = conn.SimpleQueue("default")
        (folder / ".partial-1_x.default.msg").write_bytes(b'{"body": ')  # another writer, mid-write
        queue.put({"n": 1})
        assert visible_while_writing == []
        message = queue.get(timeout=2)
        assert message.payload == {"n": 1}
        message.ack()
        queue.close()
    assert (folder / ".partial-1_x.default.msg").exists()  # left alone, not read


def test_task_log_prints_one_line_per_task_class_and_every_failure():
    lines = []
    log = TaskLog(lines.append)
    for n in range(50):
        log.feed(f"[2026-11-28 08:00:00,000: INFO/MainProcess] Task events.tasks.refresh_usage[{n:08x}-aaaa] received")
    log.feed("[2026-11-28 08:00:01,000: INFO/MainProcess] Task health.tasks.health_recompute_history[1-2] received")
    log.feed("[2026-11-28 08:00:02,000: INFO/ForkPoolWorker-1] Task health.tasks.x[1-2] succeeded in 0.1s: 3")
    log.feed("[2026-11-28 08:00:03,000: ERROR/MainProcess] Task triggers.tasks.y[3-4] raised unexpected: ValueError()")
    assert lines[:2] == [
        "[tasks] events.tasks.refresh_usage runs in the background worker (later runs not shown)",
        "[tasks] health.tasks.health_recompute_history runs in the background worker (later runs not shown)",
    ]
    assert len(lines) == 3 and "Task triggers.tasks.y[3-4] raised unexpected: ValueError()" in lines[2]


def test_production_refuses_the_embedded_broker(tmp_path):
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "x" * 50, "CSP_EMBEDDED_BROKER_DIR": str(tmp_path)}
    env.pop("REDIS_URL", None)
    code = "import django; django.setup()"
    result = subprocess.run([sys.executable, "-c", code], env={**env, "DJANGO_SETTINGS_MODULE": "csp.settings"},
                            cwd=settings.BASE_DIR, capture_output=True, text=True)  # fmt: skip
    assert result.returncode != 0
    assert "REDIS_URL must be set when DEBUG is off" in result.stderr  # checked before the embedded broker
