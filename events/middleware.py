"""Serve the Segment endpoints before the session, CSRF, auth and messages middleware run."""

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
        return view(request) if view is not None else self.get_response(request)
