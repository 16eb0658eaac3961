"""API calls authenticated by token, without cookies, skip the browser's middleware (sessions, CSRF, user auth,
messages, second factor).

A ``Token`` call is authenticated by DRF inside the view: ``ApiTokenAuthentication`` takes the header (or refuses
it with 401) and the session is never consulted. Without a cookie there is no session, CSRF token, message or
second-factor state either, so the session, CSRF, authentication, HTMX-login, messages, OTP and MFA middleware
only build lazy objects nobody reads; that was about a tenth of an account list call. Every ``/api/v1/`` view is
a DRF view, exempt from Django's CSRF check (DRF enforces CSRF itself for session-authenticated unsafe calls, which
always take the full stack: they carry the session cookie). What still runs, in ``MIDDLEWARE``'s order: the
security headers and CSP (placed before this one), ``CommonMiddleware`` (slash redirects, Content-Length), the
audit log's actor and address, X-Frame-Options and django-axes. Anything else (a cookie, another Authorization
scheme, a path outside ``/api/v1/``) takes the whole stack.
"""

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.utils.module_loading import import_string
from rest_framework.authentication import get_authorization_header

PREFIX = "/api/v1/"
# Browser-only middleware: state carried by cookies, or checks DRF makes itself for token calls.
BROWSER_ONLY = frozenset(
    {
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "csp.middleware.HtmxLoginRequiredMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django_otp.middleware.OTPMiddleware",
        "csp.mfa_views.RequireMFAMiddleware",
    }
)


def is_token_call(request) -> bool:
    """An ``/api/v1/`` request with ``Authorization: Token ...`` and no cookie. The header is read as DRF's
    TokenAuthentication reads it, so DRF never falls back to the session for these."""
    if not request.path_info.startswith(PREFIX) or request.META.get("HTTP_COOKIE"):
        return False
    auth = get_authorization_header(request).split()
    return bool(auth) and auth[0].lower() == b"token"


class _Handler(BaseHandler):
    """Django's handler (URL resolution, view middleware, the view, exceptions turned into responses) behind a
    given middleware list, built as ``BaseHandler.load_middleware`` builds ``MIDDLEWARE`` (synchronous only)."""

    def __init__(self, middleware: list[str]):
        super().__init__()
        self._view_middleware, self._template_response_middleware, self._exception_middleware = [], [], []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(middleware):
            try:
                instance = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler


class TokenApiMiddleware:
    """Token calls to the API go through the rest of ``MIDDLEWARE`` minus ``BROWSER_ONLY``; others through all of
    it. Place it right before the session middleware."""

    def __init__(self, get_response):
        self.get_response = get_response
        me = f"{__name__}.{type(self).__name__}"
        rest = settings.MIDDLEWARE[settings.MIDDLEWARE.index(me) + 1 :]
        self.api_response = _Handler([path for path in rest if path not in BROWSER_ONLY])._middleware_chain

    def __call__(self, request):
        if is_token_call(request):
            return self.api_response(request)
        return self.get_response(request)
