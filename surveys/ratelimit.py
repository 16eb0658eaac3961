"""Rate limits of the public survey endpoints, per client IP and per token, in Django's cache (fixed one-minute
windows). The same counters serve the HTML pages and the DRF throttle of the embed endpoint."""

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle


def client_ip(request) -> str:
    # Behind a proxy, configure it to set REMOTE_ADDR (gunicorn --forwarded-allow-ips); never trust the header here.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _hit(key: str, limit: int) -> bool:
    """Count a request; True while within the limit."""
    window = int(time.time() // 60)
    full = f"surveys-rl:{key}:{window}"
    if cache.add(full, 1, timeout=70):
        return limit >= 1
    try:
        return cache.incr(full) <= limit
    except ValueError:  # expired between add and incr
        cache.add(full, 1, timeout=70)
        return True


def allowed(request, token: str = "") -> bool:
    """Whether this request may go on: under the per-IP and the per-token limit."""
    ok = _hit(f"ip:{client_ip(request)}", settings.SURVEY_RATE_PER_IP)
    if token:
        # keyed on the token id (its first part): every token of one recipient shares the limit
        ok = _hit(f"tk:{token.split(':')[0][:40]}", settings.SURVEY_RATE_PER_TOKEN) and ok
    return ok


class SurveyPublicThrottle(BaseThrottle):
    """DRF throttle of the embed endpoint: the same per-IP and per-token limits."""

    def allow_request(self, request, view) -> bool:
        return allowed(request, view.kwargs.get("token", ""))

    def wait(self) -> float:
        return 60 - time.time() % 60
