"""The embedded task runner of ``make run``: a real Celery worker and beat beside the web server, on kombu's
filesystem transport (no Redis on a fresh machine). Shared by ``run_demo`` and the tests that check it.

Their logs are condensed for the console: one line the first time each task class is received, errors always,
so the demo logins are not buried under hundreds of task lines.
"""

import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

QUEUES = "celery,default,ingest,long"
RECEIVED = re.compile(r"Task ([\w.]+)\[[^\]]+\] received")
FAILED = re.compile(r"Task ([\w.]+)\[[^\]]+\] (raised|retry)")


def embedded_env(*, broker_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the web server, worker and beat processes: DEBUG, the broker folder, no REDIS_URL."""
    env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "true"), "CSP_EMBEDDED_BROKER_DIR": str(broker_dir)}
    env.pop("REDIS_URL", None)
    env.update(extra or {})
    return env


class TaskLog:
    """Reads a worker's or beat's output and writes one line per task class (and every failure) to ``write``."""

    def __init__(self, write: Callable[[str], None]):
        self.write = write
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def feed(self, line: str) -> None:
        line = line.rstrip()
        if match := RECEIVED.search(line):
            with self.lock:
                if match.group(1) in self.seen:
                    return
                self.seen.add(match.group(1))
            self.write(f"[tasks] {match.group(1)} runs in the background worker (later runs not shown)")
        elif FAILED.search(line) or "CRITICAL/" in line or "ERROR/" in line:
            self.write(f"[tasks] {line}")

    def follow(self, stream) -> threading.Thread:
        def pump():
            for raw in iter(stream.readline, ""):
                self.feed(raw)

        thread = threading.Thread(target=pump, daemon=True)
        thread.start()
        return thread


def start_worker_and_beat(
    *, broker_dir: Path, write: Callable[[str], None], extra_env: dict[str, str] | None = None
) -> list[subprocess.Popen]:
    """Start ``celery worker`` (threads, all queues) and ``celery beat`` with the embedded broker."""
    broker_dir.mkdir(parents=True, exist_ok=True)
    env = embedded_env(broker_dir=broker_dir, extra=extra_env)
    celery = [sys.executable, "-m", "celery", "-A", "csp"]
    # Threads, not forked processes: SQLite serialises writers anyway, and two threads keep a long history
    # recompute from holding up triggers and usage refreshes.
    worker = [*celery, "worker", "-Q", QUEUES, "-P", "threads", "-c", "3", "-l", "info", "-n", "embedded@%h",
              "--without-mingle", "--without-gossip", "--without-heartbeat"]  # fmt: skip
    beat = [*celery, "beat", "-l", "info", "-s", str(broker_dir / "beat-schedule")]
    log = TaskLog(write)
    processes = []
    for command in (worker, beat):
        process = subprocess.Popen(
            command,
            env=env,
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        log.follow(process.stdout)
        processes.append(process)
    return processes


def stop(processes: list[subprocess.Popen], timeout: float = 10) -> None:
    """Terminate the processes started here (warm shutdown), then kill what is still running."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
