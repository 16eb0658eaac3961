"""Shared parts of the benchmark commands: servers started as production runs them, HTTP load with latencies, and
the machine's load printed beside every figure. Benchmarks print figures; nothing here asserts a speed."""

from __future__ import annotations

import http.client
import os
import queue
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection

from csp.serving import wait_until_healthy

# The Dockerfile's CMD: gunicorn gthread, 3 workers x 4 threads, --preload. Benchmarks default to it.
DOCKERFILE_GUNICORN = {"workers": 3, "threads": 4, "worker_class": "gthread"}
# Production serves behind a TLS-terminating proxy (BEHIND_TLS_PROXY, docs/security.md); a benchmark client speaks
# plain HTTP on loopback, so it sends what the proxy would add, or every call is redirected to https.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def free_port() -> int:
    """A free TCP port on loopback (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of ``values``; 0.0 for an empty list."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def load_average() -> str:
    """The 1/5/15-minute load averages, printed beside figures so a reader sees how busy the machine was."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load n/a"
    return f"load {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} cores"


def machine_busy() -> tuple[float, float]:
    """CPU seconds spent by all processes on the machine so far, and seconds stolen by the hypervisor (Linux
    /proc/stat), to show who used the CPU and how much a shared host took away."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields[:7]) - fields[3] - fields[4]) / tick, fields[7] / tick


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its children (gunicorn's master and workers), from /proc."""
    tick, total, pending = os.sysconf("SC_CLK_TCK"), 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{current}/task/{current}/children") as children:
                pending += [int(child) for child in children.read().split()]
        except OSError:
            continue  # the process ended meanwhile
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def backend_cpu(application_names: Iterable[str]) -> dict[str, dict[int, float]]:
    """CPU seconds used so far by each PostgreSQL backend serving a connection with one of these application names
    (set with PGAPPNAME in a server's environment), by name then backend pid: the database's share of a run, which
    ``tree_cpu`` cannot see. Needs the server on this machine (reads /proc); empty where it is not."""
    from django.db import connection

    names = list(application_names)
    with connection.cursor() as cursor:
        cursor.execute("SELECT application_name, pid FROM pg_stat_activity WHERE application_name = ANY(%s)", [names])
        rows = cursor.fetchall()
    found: dict[str, dict[int, float]] = {name: {} for name in names}
    for name, pid in rows:
        found[name][pid] = tree_cpu(pid)
    return found


def backend_cpu_since(before: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds the backends of each application name used since ``before`` (backends opened meanwhile count
    whole; those closed meanwhile are missed, so read this before stopping the servers)."""
    after = backend_cpu(before)
    return {name: sum(cpu - before[name].get(pid, 0.0) for pid, cpu in pids.items()) for name, pids in after.items()}


def scratch_database(suffix: str) -> tuple[str, str]:
    """Name and URL of a benchmark's own database beside DATABASE_URL's (``<name>_<suffix>``), so a benchmark
    never writes into the database people work in."""
    name = f"{settings.DATABASES['default']['NAME']}_{suffix}"
    return name, urlunsplit(urlsplit(os.environ.get("DATABASE_URL", ""))._replace(path=f"/{name}"))


def admin_sql(*statements: str) -> None:
    """CREATE/DROP DATABASE and the like, outside a transaction on the maintenance database (as Django's test
    setup runs them)."""
    with connection._nodb_cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


INNER = "CSP_BENCH_INNER"  # set in the child process a benchmark runs in its scratch database


def run_in_scratch_database(
    stdout, *, suffix: str, argv: list[str], keep: bool, reuse: bool = False, template: str = ""
) -> None:
    """The outer half of a benchmark that needs its own database: create ``<name>_<suffix>`` (from ``template``
    when given; kept as it is with ``reuse`` when it exists), migrate it, run ``manage.py <argv>`` in a child
    process using it (``INNER`` set, production-like environment), its output passed on line by line, then drop
    it unless ``keep``. The child adds ``--reuse`` to ``argv`` when the database was reused."""
    name, scratch = scratch_database(suffix)
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        reused = reuse and cursor.fetchone() is not None
    if not reused:
        source = f' TEMPLATE "{template}"' if template else ""
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"{source}')
    env = {**server_env(DATABASE_URL=scratch), INNER: "1"}  # one SECRET_KEY for the child and its servers
    code = 1
    try:
        stdout.write(f"Scratch database {name}: {'reused' if reused else 'migrating'}…")
        stdout.flush()
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True, cwd=settings.BASE_DIR)
        # Line by line through stdout: figures show as they come, and call_command(stdout=...) sees them.
        child = subprocess.Popen(
            [*manage, *argv, *(["--reuse"] if reused else [])],
            env=env, cwd=settings.BASE_DIR, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        for line in child.stdout:
            stdout.write(line, ending="")
            stdout.flush()
        code = child.wait()
    finally:
        if not keep:
            admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if code:
        raise CommandError(f"the benchmark failed (exit {code})")


def server_env(**extra: str) -> dict[str, str]:
    """Environment of a production-like server process: DEBUG off, a fresh secret, quiet logs, persistent
    connections. ``extra`` overrides (e.g. a shared SECRET_KEY when two processes verify each other's tokens)."""
    return {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_MANIFEST": "false",
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": "600",
        # Production sits behind a TLS proxy: clients that send PROXY_HEADERS are served as over https. Tests that
        # talk plain HTTP on loopback (fault and pooling tests) are not redirected and get usable cookies.
        "BEHIND_TLS_PROXY": "true",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        **extra,
    }


def start_gunicorn(
    port: int,
    *,
    workers: int = DOCKERFILE_GUNICORN["workers"],
    threads: int = DOCKERFILE_GUNICORN["threads"],
    worker_class: str = DOCKERFILE_GUNICORN["worker_class"],
    env: dict[str, str] | None = None,
    output: IO[bytes] | None = None,
) -> subprocess.Popen:
    """gunicorn as the Dockerfile runs it (unless told otherwise), on 127.0.0.1:port, once /healthz answers. Its
    output goes to ``output`` when given (a log file), else to this process's."""
    # --preload: the app is imported once before forking, so no worker is still booting when timing starts.
    cmd = [sys.executable, "-m", "gunicorn", "csp.wsgi", "--preload", "-b", f"127.0.0.1:{port}", "-w", str(workers)]
    cmd += ["--worker-class", worker_class] + (["--threads", str(threads)] if worker_class == "gthread" else [])
    server = subprocess.Popen([*cmd, "--log-level", "warning"], env=env or server_env(), cwd=settings.BASE_DIR,
                              stdout=output, stderr=subprocess.STDOUT if output else None)  # fmt: skip
    if wait_until_healthy(port, server):
        return server
    server.terminate()
    raise CommandError("gunicorn did not come up within 30 s")


def start_worker(
    *,
    queues: str = "ingest,default,long",
    concurrency: int = 2,
    env: dict[str, str] | None = None,
    purge: bool = True,
) -> subprocess.Popen:
    """A real Celery worker on REDIS_URL consuming ``queues``; returns once this worker answers a ping.
    ``purge`` empties the queues first (pass False when starting a second worker beside a first)."""
    from csp.celery import app

    if not settings.REDIS_URL:
        raise CommandError("This benchmark needs REDIS_URL: the worker is a separate process.")
    if purge:
        app.control.purge()  # leftovers on this Redis db are not ours
    level = os.environ.get("BENCH_WORKER_LOG", "warning")  # "info" logs each task's run time
    name = f"bench-{secrets.token_hex(3)}@{socket.gethostname()}"
    cmd = [sys.executable, "-m", "celery", "-A", "csp", "worker", "-l", level, "-c", str(concurrency), "-Q", queues,
           "-n", name, "--without-gossip", "--without-mingle"]  # fmt: skip
    worker = subprocess.Popen(cmd, env=env or server_env(), cwd=settings.BASE_DIR)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.control.ping(destination=[name], timeout=0.5):  # this worker, not one started earlier
            return worker
        if worker.poll() is not None:
            break
    worker.terminate()
    raise CommandError("The Celery worker did not come up within 60 s.")


def stop(*processes: subprocess.Popen | None) -> None:
    """Terminate processes and wait for them (kill after 20 s)."""
    for process in processes:
        if process is not None and process.poll() is None:
            process.terminate()
    for process in processes:
        if process is None:
            continue
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class LoadResult:
    """What one HTTP load run measured: every request's latency (seconds), its duration and failures."""

    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def summary(self) -> str:
        ms = [1000 * value for value in self.latencies]
        return (
            f"{len(ms)} requests in {self.elapsed:.1f} s = {self.rate:,.0f} req/s; p50 {percentile(ms, 50):.0f} ms, "
            f"p95 {percentile(ms, 95):.0f} ms, p99 {percentile(ms, 99):.0f} ms, max {max(ms, default=0):.0f} ms"
            + (f"; {len(self.failures)} failed (first: {self.failures[0]})" if self.failures else "")
        )


def http_load(
    port: int,
    requests: Iterable[tuple[str, str, bytes | None]],
    *,
    clients: int,
    headers: dict[str, str] | Callable[[int], dict[str, str]],
    duration: float | None = None,
    expect: int = 200,
) -> LoadResult:
    """wrk-style load: ``clients`` threads, each with one keep-alive connection, send (method, path, body) requests
    taken in turn from ``requests`` (cycled until ``duration`` seconds pass when given, else each sent once) and
    record each latency. ``headers`` may be a function of the client number (one session per client)."""
    pending = list(requests)
    work: queue.Queue[tuple[str, str, bytes | None]] = queue.Queue()
    for item in pending:
        work.put(item)
    result, lock = LoadResult(), threading.Lock()
    deadline = [float("inf")]

    def client(number: int) -> None:
        conn, own = None, headers(number) if callable(headers) else headers
        while time.perf_counter() < deadline[0]:
            try:
                method, path, body = work.get_nowait()
            except queue.Empty:
                return
            if duration is not None:
                work.put((method, path, body))  # cycle until the deadline
            started = time.perf_counter()
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request(method, path, body, own)
                response = conn.getresponse()
                response.read()
                if response.will_close:
                    conn.close()
                    conn = None
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                conn = None
                with lock:
                    result.failures.append(repr(exc))
                continue
            took = time.perf_counter() - started
            with lock:
                result.latencies.append(took)
                if status != expect:
                    result.failures.append(f"HTTP {status} {path}")

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    start = time.perf_counter()
    if duration is not None:
        deadline[0] = start + duration
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed = time.perf_counter() - start
    return result
