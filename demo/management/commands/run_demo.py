"""``manage.py run_demo``: what ``make run`` does.

Migrate, load the demo data, then serve it the way production runs: the web server, and (without REDIS_URL) a
real Celery worker and beat on the embedded filesystem broker (csp/embedded.py), so periodic tasks run on their
schedule and background work leaves the request. On the first run, product usage for every demo account streams
in through the real HTTP API (``simulate_usage``) while the app is already usable; when it is in, the health
history is recomputed from it. The console shows one line per task class, a progress line while usage streams,
and the demo logins last (again when the usage is loaded).
"""

import logging
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from csp import embedded
from csp.serving import wait_until_healthy
from demo.accounts import DEMO_PASSWORD, DEMO_USERS
from demo.automation import demo_after_usage
from demo.usage import usage_demo_load
from events.models import Event
from health.services import health_recompute, health_recompute_history


class Command(BaseCommand):
    help = "Migrate, seed the demo data, serve it with a background worker and beat, and stream demo usage once."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000", help="host:port to serve on.")
        parser.add_argument("--days", type=int, default=90, help="Days of usage history to stream on first run.")
        parser.add_argument("--no-usage", action="store_true", help="Do not stream usage history.")

    def handle(self, *args, bind: str, days: int, no_usage: bool, **options):
        # Seeding runs its tasks in this process: their "Task ... succeeded" lines would bury the logins.
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo", stdout=self.stdout, logins=False)
        url = f"http://{bind}"
        # The web server logs only warnings and errors: request lines would bury the logins.
        extra = {"SERVER_LOG_LEVEL": "WARNING"}
        broker_dir = Path(settings.BASE_DIR) / ".embedded-broker"
        env = embedded.embedded_env(broker_dir=broker_dir, extra=extra) if not settings.REDIS_URL else None
        # SIGTERM (a service manager, `kill`) stops the worker and beat too, as Ctrl-C does.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        # Its banner (stdout) is replaced by our "running at" line; errors still reach the console (stderr).
        server = subprocess.Popen(
            [sys.executable, sys.argv[0], "runserver", bind, "--noreload", "--skip-checks"],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        self.processes = processes = [server]
        try:
            if env is not None:
                processes += embedded.start_worker_and_beat(broker_dir=broker_dir, write=self._say, extra_env=extra)
                self._say("Background tasks: a Celery worker and beat on the embedded broker (.embedded-broker/).")
            else:
                self._say("Background tasks: REDIS_URL is set, start `make worker` and `make beat` beside this.")
            if not wait_until_healthy(int(bind.rsplit(":", 1)[1]), server, timeout=60):
                self.stderr.write("The server did not start; see its output above.")
                return
            stream = not no_usage and days > 0 and not Event.objects.exists()
            if stream:
                threading.Thread(target=self._stream_usage, args=(url, days), daemon=True).start()
            self._logins(url, loading=stream)
            server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            embedded.stop(processes)

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def _logins(self, url: str, *, loading: bool = False) -> None:
        self._say(self.style.SUCCESS(f"csp is running at {url}/ (Ctrl-C to stop)"))
        self._say(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, name, role, team in DEMO_USERS[:4]:
            self._say(f"  {role.label:<8} {email:<22} {name}{f' ({team} team)' if team else ''}")
        if loading:
            self._say("Usage history is loading in the background; the app is usable meanwhile.")

    def _stream_usage(self, url: str, days: int) -> None:
        """Every demo account's usage history goes through the real ingest service (``demo.usage``) in this
        process while the app serves pages; then the health history is recomputed from it."""
        self._say(f"Loading {days} days of product usage for every demo account (the app is usable meanwhile) ...")
        last = [0.0]

        def progress(done: int, total: int, stored: int) -> None:
            if time.monotonic() - last[0] >= 5 or done == total:
                last[0] = time.monotonic()
                self._say(f"Usage: {done}/{total} accounts, {stored:,} events stored ...")

        usage_demo_load(days=days, progress=progress)
        health_recompute()
        written = health_recompute_history(days=days)
        demo_after_usage()
        self._say(self.style.SUCCESS(f"Demo usage loaded; {written} health history snapshots computed."))
        self._logins(url)
