"""htmx requests whose session ended: answer 401 instead of redirecting to the login page, so htmx does not swap
the login page into a card (see static/csp/htmx-errors.js for what the browser shows)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import resolve_url


class HtmxLoginRequiredMiddleware:
    """A redirect to the login page in answer to an htmx request becomes ``401`` with ``HX-Reswap: none`` and the
    login URL (back to the page the user is on) in ``X-Login-Url``."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.login_path = None

    def __call__(self, request):
        response = self.get_response(request)
        if not request.headers.get("HX-Request") or response.status_code not in (301, 302, 303, 307):
            return response
        if self.login_path is None:
            self.login_path = urlsplit(resolve_url(settings.LOGIN_URL)).path
        if urlsplit(response.get("Location", "")).path != self.login_path:
            return response
        page = urlsplit(request.headers.get("HX-Current-URL", "")).path or "/"
        answer = HttpResponse("Your session has ended. Log in again.", status=401, content_type="text/plain")
        answer["HX-Reswap"] = "none"
        answer["X-Login-Url"] = f"{self.login_path}?next={page}"
        return answer
