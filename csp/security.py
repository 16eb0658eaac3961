"""Security plumbing shared by the whole site: the Content-Security-Policy header and the client address
behind a trusted proxy (login lockouts and throttles key on it). See docs/security.md."""

from axes.backends import AxesStandaloneBackend
from django.conf import settings


def client_ip(request) -> str:
    """The caller's address: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT proxies in front, the address the
    outermost trusted proxy saw (X-Forwarded-For counted from the right, so a client cannot forge it)."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    return hops[-proxies] if len(hops) >= proxies else remote


class ContentSecurityPolicyMiddleware:
    """Adds ``Content-Security-Policy`` (or its report-only variant) to every response that has none: scripts
    only from this server's files (no inline script, no eval), no framing, forms post to this site only.
    (django-csp would do this, but its top-level package is also named ``csp`` and would shadow this project.)"""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = "Content-Security-Policy-Report-Only" if settings.CSP_REPORT_ONLY else "Content-Security-Policy"
        self.value = "; ".join(f"{name} {' '.join(sources)}".strip() for name, sources in settings.CSP_POLICY.items())

    def __call__(self, request):
        response = self.get_response(request)
        if self.value and "Content-Security-Policy" not in response and self.header not in response:
            response[self.header] = self.value
        return response


class LoginLockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check for every log-in that comes with a request (the login form, the admin).
    Programmatic ``authenticate()`` without a request (the test client's ``login``) has no address to count."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
