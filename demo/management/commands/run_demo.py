"""``manage.py run_demo``: what ``make run`` does. Migrate, load the demo data, serve the app, and on the first
run stream 90 days of product usage for the demo CSM's accounts through the real HTTP API (``simulate_usage``)
while the app is already usable; when the history is in, recompute the health history from it."""

import subprocess
import sys
import threading

from django.core.management import call_command
from django.core.management.base import BaseCommand

from csp.serving import wait_until_healthy
from events.models import Event
from health.services import health_recompute, health_recompute_history

DEMO_CSM = "csm@demo.csp"


class Command(BaseCommand):
    help = "Migrate, seed the demo data, serve it, and stream demo usage history through the HTTP API once."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000", help="host:port to serve on.")
        parser.add_argument("--days", type=int, default=90, help="Days of usage history to stream on first run.")
        parser.add_argument("--no-usage", action="store_true", help="Do not stream usage history.")

    def handle(self, *args, bind: str, days: int, no_usage: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo", stdout=self.stdout)
        url = f"http://{bind}"
        server = subprocess.Popen([sys.executable, sys.argv[0], "runserver", bind, "--noreload"])
        try:
            if not wait_until_healthy(int(bind.rsplit(":", 1)[1]), server, timeout=60):
                self.stderr.write("The server did not start; see its output above.")
                return
            self.stdout.write(self.style.SUCCESS(f"csp is running at {url}/ (Ctrl-C to stop)"))
            if not no_usage and days > 0 and not Event.objects.exists():
                threading.Thread(target=self._stream_usage, args=(url, days), daemon=True).start()
            server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.terminate()

    def _stream_usage(self, url: str, days: int) -> None:
        """Usage goes through the same HTTP API a customer's SDK uses; it takes a few minutes on SQLite."""
        self.stdout.write(f"Streaming {days} days of demo usage for {DEMO_CSM}'s accounts through {url}/v1/batch ...")
        subprocess.run(
            [sys.executable, sys.argv[0], "simulate_usage", "--url", url, "--days", str(days), "--owner", DEMO_CSM,
             "--max-users", "8"],
            check=False,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        health_recompute()
        written = health_recompute_history(days=days)
        self.stdout.write(self.style.SUCCESS(f"Demo usage loaded; {written} health history snapshots computed."))
