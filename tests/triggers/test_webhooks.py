"""Webhook delivery: refused destinations (before connecting and after redirects), https only, signatures,
no response body kept."""

import hashlib
import hmac
import json
import socket
from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from triggers import webhooks
from triggers.models import TriggerActionLog
from triggers.services import trigger_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.5/hook",
        "https://192.168.1.1/hook",
        "https://172.16.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",  # cloud metadata
        "https://[::1]/hook",
        "https://[fd00:ec2::254]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://100.100.100.200/hook",  # shared address space (Alibaba metadata)
        "https://0.0.0.0/hook",
        "https://localhost/hook",
        "https://metadata.google.internal/computeMetadata/v1/",
        "http://hooks.example.com/x",  # http without WEBHOOK_ALLOW_HTTP
        "ftp://hooks.example.com/x",
        "https://user:pw@hooks.example.com/x",
    ],
)
def test_refused_destinations(url):
    with pytest.raises(webhooks.WebhookRefused):
        webhooks.resolve(url)


def _resolving_to(*addresses):
    return mock.patch.object(
        socket, "getaddrinfo", return_value=[(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 443)) for a in addresses]
    )


def test_a_name_resolving_to_a_private_address_is_refused_before_connecting():
    with (
        _resolving_to("10.1.2.3"),
        mock.patch.object(webhooks, "_post_once") as post,
        pytest.raises(webhooks.WebhookRefused),
    ):
        webhooks.deliver("https://innocent.example.com/x", b"{}")
    post.assert_not_called()
    with _resolving_to("93.184.215.14", "127.0.0.1"), pytest.raises(webhooks.WebhookRefused):
        webhooks.resolve("https://round-robin.example.com/x")  # one bad answer refuses the name


def test_public_name_is_pinned_to_the_checked_address():
    with _resolving_to("93.184.215.14"):
        dest = webhooks.resolve("https://hooks.example.com:8443/services/x?y=1")
    assert (dest.scheme, dest.host, dest.port, dest.path, dest.address) == (
        "https", "hooks.example.com", 8443, "/services/x?y=1", "93.184.215.14"
    )  # fmt: skip


def test_trigger_form_refuses_http_and_private_urls(settings):
    base = {"name": "T", "condition_type": "health_band", "params": {"band": "red"}}
    for url in ("http://hooks.example.com/x", "https://127.0.0.1/x", "https://169.254.169.254/"):
        with pytest.raises(ValidationError) as err:
            trigger_create(data={**base, "webhook_url": url})
        assert "webhook_url" in err.value.message_dict
    settings.WEBHOOK_ALLOW_HTTP = True
    assert trigger_create(data={**base, "webhook_url": "http://hooks.example.com/x"}).pk


def test_delivery_is_signed_and_keeps_only_the_status_line(receiver):
    body = json.dumps({"text": "hello"}).encode()
    assert webhooks.deliver(f"{receiver.url}/in", body) == "HTTP 200 OK"
    got = receiver.requests[0]
    assert got["body"] == body and got["path"] == "/in"
    stamp = got["headers"]["X-CSP-Timestamp"]
    expected = hmac.new(b"test-signing-secret", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert got["headers"]["X-CSP-Signature"] == f"v1={expected}"


def test_error_answer_fails_without_its_body(receiver):
    receiver.status, receiver.body = 500, b"stack trace with secrets"
    with pytest.raises(webhooks.WebhookFailed) as err:
        webhooks.deliver(f"{receiver.url}/in", b"{}")
    assert str(err.value) == "HTTP 500 Internal Server Error"


def test_redirects_to_private_ranges_are_not_followed(receiver, settings):
    receiver.status, receiver.location = 307, "http://169.254.169.254/latest/meta-data/"
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with (
        mock.patch.object(webhooks, "_allowed_address", side_effect=lambda ip: str(ip) == "127.0.0.1"),
        pytest.raises(webhooks.WebhookRefused),
    ):
        webhooks.deliver(f"{receiver.url}/in", b"{}")
    assert len(receiver.requests) == 1  # the first hop only; the metadata address was never called


def test_method_changing_redirects_are_refused(receiver):
    receiver.status, receiver.location = 302, f"{receiver.url}/elsewhere"
    with pytest.raises(webhooks.WebhookRefused, match="302"):
        webhooks.deliver(f"{receiver.url}/in", b"{}")


def test_307_redirect_to_an_allowed_place_is_followed(receiver):
    receiver.status, receiver.location = 307, "/moved"
    with mock.patch.object(webhooks, "MAX_REDIRECTS", 1), pytest.raises(webhooks.WebhookFailed, match="redirects"):
        webhooks.deliver(f"{receiver.url}/in", b"{}")
    assert [r["path"] for r in receiver.requests] == ["/in", "/moved"]


def test_refused_destination_fails_the_action_without_retries(make_trigger, run, django_capture_on_commit_callbacks):
    from tests.factories import AccountFactory
    from tests.triggers.factories import set_health

    account = AccountFactory()
    set_health(account, 10, "red")
    trigger = make_trigger("health_band", {"band": "red"}, webhook_url="https://hooks.example.com/x")
    with _resolving_to("169.254.169.254"), django_capture_on_commit_callbacks(execute=True):
        assert run(trigger) == {account.id}
    log = TriggerActionLog.objects.get(kind="webhook")
    assert (log.status, log.attempts) == ("failed", 1)
    assert "metadata" in log.detail
