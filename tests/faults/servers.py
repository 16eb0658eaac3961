"""Private servers and app processes for the fault tests: a PostgreSQL cluster and a Redis that the tests may
kill and restart (never the machine's shared ones), and the app as production runs it (gunicorn, a Celery
worker, beat) in subprocesses, so they really see the failures."""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings

from csp.benchtools import free_port, server_env, start_gunicorn, stop


def port(offset: int) -> int:
    """A port for a private server: ``CSP_FAULT_PORT_BASE + offset`` when set (a machine shared by several people
    gives each a range), else one the OS reports free."""
    base = os.environ.get("CSP_FAULT_PORT_BASE")
    return int(base) + offset if base else free_port()


def wait_for_port(port: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def pg_bindir() -> Path:
    """The newest installed PostgreSQL server binaries (Debian keeps them in /usr/lib/postgresql/<major>/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("The fault tests need the PostgreSQL server binaries (initdb, pg_ctl).")


class PrivatePostgres:
    """A throwaway PostgreSQL cluster in a temporary folder, on a loopback port. PostgreSQL refuses to run as root,
    so as root its commands run as the ``postgres`` user, who owns the folder."""

    def __init__(self, port: int):
        # Its own folder under /tmp: pytest's temporary folders are private to the user running the tests.
        workdir = Path(tempfile.mkdtemp(prefix="csp-faults-pg-"))
        self.dir, self.port, self.bin = workdir, port, pg_bindir()
        self.data = workdir / "data"
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(workdir, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str) -> None:
        done = subprocess.run([str(self.bin / args[0]), *args[1:]], user=self.user, capture_output=True, check=False)
        if done.returncode:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr.decode()[-2000:]}")

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=60"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w", "start")
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "csp")

    def restart(self, mode: str = "immediate") -> None:
        """Stop (``immediate``: a crash, recovery on start) and start again on the same port and options."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "restart", "-l", str(self.dir / "log"))

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, **params: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"postgres://postgres@127.0.0.1:{self.port}/csp" + (f"?{query}" if query else "")


class PrivateRedis:
    """A Redis without persistence (what a restart after a crash looks like: every queued message is gone)."""

    def __init__(self, port: int):
        self.port, self.process = port, None

    def start(self) -> None:
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for_port(self.port, 10):
            raise RuntimeError(f"The private Redis did not come up on port {self.port}")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class AppStack:
    """gunicorn, one Celery worker (all queues) and beat, on the private PostgreSQL and Redis. Each process logs
    to a file in ``workdir`` (shown when a test fails). The worker connects as application ``csp-fault-worker``,
    so a test can see in ``pg_stat_activity`` when it is inside a task's transaction."""

    WORKER_APP = "csp-fault-worker"

    def __init__(self, workdir: Path, pg: PrivatePostgres, redis: PrivateRedis, web_port: int, sweep_every: float):
        self.dir, self.pg, self.redis, self.web_port = workdir, pg, redis, web_port
        self.env = server_env(
            DATABASE_URL=pg.url(),
            DATABASE_REPLICA_URL="",  # every read on the private cluster, whatever the caller's environment says
            REDIS_URL=redis.url(),
            CSP_USAGE_SWEEP_EVERY=str(sweep_every),
            LOG_LEVEL="ERROR",
            SECURE_SSL_REDIRECT="false",  # plain HTTP on loopback, as behind a TLS-terminating proxy
        )
        self.web = self.worker = self.beat = None
        self.workers_started = 0

    def _log(self, name: str):
        return open(self.dir / f"{name}.log", "ab")

    def start(self) -> None:
        with self._log("gunicorn") as out:
            self.web = start_gunicorn(self.web_port, workers=2, threads=4, env=self.env, output=out)
        self.start_worker()
        cmd = [sys.executable, "-m", "celery", "-A", "csp", "beat", "-l", "info", "-s", str(self.dir / "beat-schedule")]
        with self._log("beat") as out:
            self.beat = subprocess.Popen(cmd, env=self.env, cwd=settings.BASE_DIR, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)  # fmt: skip

    def start_worker(self) -> None:
        """A prefork worker with one child, in its own process group (a kill takes the child too, as when a
        container or VM dies), once it logs that it is ready."""
        self.workers_started += 1
        name = f"worker-{self.workers_started}"
        env = {**self.env, "DATABASE_URL": self.pg.url(application_name=self.WORKER_APP)}
        cmd = [sys.executable, "-m", "celery", "-A", "csp", "worker", "-l", "info", "-c", "1", "-Q",
               "ingest,default,long", "-n", f"{name}-{secrets.token_hex(3)}@%h", "--without-gossip",
               "--without-mingle"]  # fmt: skip
        log = self.dir / f"{name}.log"
        with open(log, "ab") as out:
            self.worker = subprocess.Popen(cmd, env=env, cwd=settings.BASE_DIR, stdout=out, stderr=subprocess.STDOUT,
                                           start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.worker.poll() is None:
            if b" ready." in log.read_bytes():
                return
            time.sleep(0.1)
        raise RuntimeError(f"The Celery worker did not come up:\n{log.read_text()[-3000:]}")

    def kill_worker(self) -> None:
        """SIGKILL the worker and its pool child: no warm shutdown, no acknowledgement, no rollback sent."""
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait()

    def stop(self) -> None:
        """Tear down quickly: the worker and beat are killed (their state is thrown away with the servers)."""
        for process in (self.worker, self.beat):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
        if self.web is not None and self.web.poll() is None:
            self.web.send_signal(signal.SIGQUIT)  # gunicorn's quick shutdown: no wait for idle keep-alive clients
        stop(self.web, self.beat, self.worker)

    def logs(self) -> str:
        logs = sorted(self.dir.glob("*.log"))
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}" for log in logs)
