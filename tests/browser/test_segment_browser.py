"""The real ``@segment/analytics-next`` browser library (npm dev dependency), loaded by a page served from a
second origin (the customer's product) and pointed at csp's live server: the CORS preflight/headers let its calls
through and every call is stored; identify (at login) then group creates the contact."""

import functools
import http.server
import json
import threading
from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import Contact
from events.models import Event
from events.services import source_create
from tests.factories import AccountFactory

UMD = Path(settings.BASE_DIR) / "node_modules" / "@segment" / "analytics-next" / "dist" / "umd"
PAGE = """<!doctype html><html><body><h1>Customer product</h1>
<script src="/umd/index.js"></script>
<script>
  const key = %(key)s, host = %(host)s;
  const analytics = window.AnalyticsNext.AnalyticsBrowser.load(
    {writeKey: key, cdnSettings: {integrations: {"Segment.io": {apiKey: key, apiHost: host, protocol: "http"}}}}
  );
  (async () => {
    await analytics.identify("user-42", {email: "kim@acme.example", name: "Kim Lee", title: "CTO"});
    await analytics.group("ACME-1", {name: "Acme"});
    await analytics.track("Report Viewed", {report: "Churn"});
    await analytics.page("Dashboard");
    document.title = "sent";
  })();
</script></body></html>"""


@pytest.fixture
def product_site(tmp_path):
    """The customer's product: another origin (its own port) serving the page and the library's files."""
    (tmp_path / "umd").symlink_to(UMD)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    # Never hang the suite on teardown: stop serving from a helper thread, give it a few seconds.
    stopper = threading.Thread(target=server.shutdown, daemon=True)
    stopper.start()
    stopper.join(timeout=5)
    server.server_close()


@pytest.mark.skipif(not UMD.exists(), reason="npm dev dependencies not installed (make install)")
def test_analytics_next_in_the_browser_from_another_origin_is_stored(transactional_db, browser, live_server,
                                                                     product_site):  # fmt: skip
    folder, site = product_site
    account = AccountFactory(external_id="ACME-1")
    _, key = source_create(name="Product (browser)")
    api_host = live_server.url.removeprefix("http://") + "/v1"
    assert not api_host.startswith(site.removeprefix("http://"))  # two origins
    (folder / "index.html").write_text(PAGE % {"key": json.dumps(key), "host": json.dumps(api_host)})
    context = browser.new_context()
    page = context.new_page()
    responses = []
    page.on("response", lambda r: responses.append(r) if "/v1/" in r.url else None)
    page.goto(site + "/index.html")
    page.wait_for_function("document.title === 'sent'", timeout=30_000)
    context.close()

    stored = Event.objects.filter(user_id="user-42")
    assert sorted(stored.values_list("type", flat=True)) == ["group", "identify", "page", "track"]
    assert stored.get(type="track").account_id == account.pk
    assert all(r.status == 200 for r in responses if r.request.method == "POST")
    assert all(r.headers.get("access-control-allow-origin") == site for r in responses)
    contact = Contact.objects.get(external_id="user-42")  # identify came first, then group
    assert (contact.account_id, contact.name, contact.email) == (account.pk, "Kim Lee", "kim@acme.example")
