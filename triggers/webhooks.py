"""Safe webhook delivery (trigger actions): where a POST may go, pinned to the address that was checked, signed,
and answered by its status line only.

- Destinations: https only (WEBHOOK_ALLOW_HTTP opens http) and never a loopback, private, link-local (cloud
  metadata at 169.254.169.254), shared (100.64/10), multicast or reserved address (WEBHOOK_ALLOW_PRIVATE opens
  them, for tests and closed networks). The host is resolved before connecting and every resolved address must
  pass; the connection then goes to that checked address (with the host name for TLS and Host), so a DNS answer
  that changes between check and connect (rebinding) cannot redirect it.
- Redirects: only 307/308 (which keep the POST) are followed, at most MAX_REDIRECTS, each target checked the
  same way; others fail with a message asking to update the URL.
- Signing: ``X-CSP-Timestamp: <unix seconds>`` and ``X-CSP-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.
  <body>")>`` with WEBHOOK_SIGNING_SECRET; receivers recompute it and refuse old timestamps (replays).
- Responses: only the status code and reason are kept; the body is never read into memory or stored.
"""

import hashlib
import hmac
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError

MAX_REDIRECTS = 3
TIMEOUT = urllib3.Timeout(connect=5, read=10)
USER_AGENT = "csp-webhooks/1"


class WebhookRefused(ValidationError):
    """A destination that may not be called (permanent: the action fails without retries)."""


class WebhookFailed(Exception):
    """A delivery that did not succeed (retried: the receiver may be down)."""


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked IP the connection goes to


def _allowed_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    # is_global excludes loopback, RFC 1918 private, link-local (cloud metadata), 100.64/10, reserved and more.
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and path of an acceptable URL, without DNS (for forms); raises WebhookRefused."""
    parts = urlsplit(url)
    allowed = ("https", "http") if settings.WEBHOOK_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed:
        raise WebhookRefused("Webhook URLs must use https.")
    if not parts.hostname or parts.username or parts.password:
        raise WebhookRefused("The webhook URL needs a host name and no user name or password.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise WebhookRefused("The webhook URL has an invalid port.") from exc
    host = parts.hostname.rstrip(".").lower()
    local = host == "localhost" or host.endswith((".localhost", ".internal", ".local"))
    if local and not settings.WEBHOOK_ALLOW_PRIVATE:
        raise WebhookRefused("Webhooks may not call local or internal hosts.")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not _allowed_address(literal):
        raise WebhookRefused("Webhooks may not call loopback, private, link-local or metadata addresses.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port, path


def resolve(url: str) -> Destination:
    """Check the URL and resolve its host: every address it resolves to must be allowed (one bad answer refuses
    the whole name, so round-robin DNS cannot smuggle a private address in)."""
    scheme, host, port, path = check_url(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookFailed(f"Cannot resolve {host}: {exc}") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses or not all(_allowed_address(a) for a in addresses):
        raise WebhookRefused(f"{host} resolves to a loopback, private, link-local or metadata address.")
    return Destination(scheme, host, port, path, str(addresses[0]))


def signature_headers(body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The signing headers for a body (see the module docstring for how receivers verify them)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    secret = settings.WEBHOOK_SIGNING_SECRET.encode()
    digest = hmac.new(secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-CSP-Timestamp": stamp, "X-CSP-Signature": f"v1={digest}"}


def _post_once(dest: Destination, body: bytes, headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
    host_header = dest.host if dest.port in (80, 443) else f"{dest.host}:{dest.port}"
    common = {"timeout": TIMEOUT, "retries": False, "maxsize": 1}
    if dest.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            dest.address, dest.port, server_hostname=dest.host, assert_hostname=dest.host, **common
        )
    else:
        pool = urllib3.HTTPConnectionPool(dest.address, dest.port, **common)
    try:
        return pool.urlopen(
            "POST",
            dest.path,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            preload_content=False,  # the body is never read
            assert_same_host=False,
        )
    except urllib3.exceptions.HTTPError as exc:
        raise WebhookFailed(f"{type(exc).__name__}: {str(exc)[:200]}") from exc
    finally:
        pool.close()


def deliver(url: str, body: bytes) -> str:
    """POST a JSON body (signed) to ``url``; returns the status line ("HTTP 200 OK"). Raises WebhookRefused for a
    destination that may not be called and WebhookFailed for a failed delivery (non-2xx, network errors)."""
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **signature_headers(body)}
    for _hop in range(MAX_REDIRECTS + 1):
        dest = resolve(url)
        response = _post_once(dest, body, headers)
        status, reason, location = response.status, response.reason or "", response.headers.get("Location")
        response.release_conn()
        line = f"HTTP {status} {reason}".strip()
        if status in (307, 308) and location:
            url = urljoin(url, location)
            continue
        if 300 <= status < 400:
            raise WebhookRefused(f"{line}: redirects other than 307/308 are not followed; update the webhook URL.")
        if status >= 300:
            raise WebhookFailed(line)
        return line
    raise WebhookFailed(f"More than {MAX_REDIRECTS} redirects.")
