import pytest

from tests.triggers.factories import TriggerFactory
from triggers.models import Trigger
from triggers.services import trigger_run


@pytest.fixture
def make_trigger(db):
    """Create a trigger through full_clean (params validated and normalised like the services do)."""

    def make(condition_type="health_band", params=None, **kwargs):
        trigger = TriggerFactory.build(condition_type=condition_type, params=params or {}, **kwargs)
        if condition_type == "health_band" and not params:
            trigger.params = {"band": "red"}
        trigger.full_clean()
        trigger.save()
        return trigger

    return make


@pytest.fixture
def run():
    """Run a trigger for real and return the set of account ids it fired for."""

    def go(trigger: Trigger, **kwargs) -> set[int]:
        return {e.account_id for e in trigger_run(trigger_id=trigger.pk, **kwargs)}

    return go


class _Receiver:
    """A real HTTP server on 127.0.0.1 in a thread: records each request, answers ``status`` (and ``location``)."""

    def __init__(self):
        import http.server
        import threading

        receiver = self
        self.requests: list[dict] = []
        self.status, self.location, self.body = 200, None, b"secret internal page"

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)}
                )
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def allow_local_webhooks(settings):
    """Webhooks are https-only and refuse loopback addresses; these tests deliver to a local http server, so they
    open both explicitly (the production defaults stay closed)."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_SIGNING_SECRET = "test-signing-secret"
    return settings


@pytest.fixture
def receiver(allow_local_webhooks):
    server = _Receiver()
    yield server
    server.close()
