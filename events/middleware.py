"""Serve the Segment endpoints before the session, CSRF, auth and messages middleware run."""

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers

from events.tracking import urlpatterns

PREFIX = "/v1/"
VIEWS = {PREFIX + str(pattern.pattern): pattern.callback for pattern in urlpatterns}


class TrackingShortcutMiddleware:
    """``/v1/*`` calls authenticate with a write key and answer JSON: sessions, CSRF, user auth, messages and
    frame options do nothing for them but cost time on the busiest endpoints, and so did resolving their path
    through the whole URLconf (dozens of patterns before /v1). Placed right after SecurityMiddleware (HTTPS
    redirect and headers still apply), it calls the view by exact path; anything else takes the normal stack."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = VIEWS.get(request.path_info)
        if view is None:
            return self.get_response(request)
        origin = request.headers.get("Origin")
        if origin is None:  # server-side SDKs: no CORS
            return view(request)
        if not origin_allowed(origin):
            # Refused before storing: a browser's simple (text/plain) POST reaches us without a preflight.
            return JsonResponse({"code": "origin_not_allowed", "message": f"Origin {origin} may not send events."},
                                status=403)  # fmt: skip
        response = _preflight(request) if request.method == "OPTIONS" else view(request)
        # Browser SDKs (analytics.js / @segment/analytics-next) run on the customer's product, another origin.
        response["Access-Control-Allow-Origin"] = origin
        patch_vary_headers(response, ["Origin"])
        return response


def origin_allowed(origin: str) -> bool:
    """Any origin unless TRACKING_ALLOWED_ORIGINS lists some (the write key authenticates, not the origin)."""
    allowed = settings.TRACKING_ALLOWED_ORIGINS
    return "*" in allowed or origin in allowed


def _preflight(request) -> HttpResponse:
    """Answer the CORS preflight a browser sends before a POST with JSON, gzip or Basic auth headers."""
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = request.headers.get(
        "Access-Control-Request-Headers", "Authorization, Content-Type, Content-Encoding"
    )
    response["Access-Control-Max-Age"] = "86400"
    return response
