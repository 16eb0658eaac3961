"""Integration credentials: a shared secret per integration (e.g. the help-desk webhook), sent in a header.

An integration is not a person: it has no role and no owner rules. Views that accept one check
``is_integration(request)`` and otherwise apply the user's role and object rules as usual.
"""

import hmac

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from csp.api.permissions import RolePermission


class Integration:
    """The authenticated principal of an integration call (``request.user``)."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    role = None
    pk = id = None

    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return f"integration:{self.name}"


class IntegrationSecretAuthentication(BaseAuthentication):
    """``X-CSP-Webhook-Secret: <secret>`` matching the setting named by the view's ``integration_secret_setting``
    (compared in constant time). A wrong secret is a 401; no header falls through to the other schemes."""

    header = "HTTP_X_CSP_WEBHOOK_SECRET"

    def authenticate(self, request):
        sent = request.META.get(self.header)
        if sent is None:
            return None
        view = request.parser_context.get("view") if request.parser_context else None
        setting = getattr(view, "integration_secret_setting", "")
        expected = getattr(settings, setting, "") if setting else ""
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            raise AuthenticationFailed("The webhook secret is invalid.")
        return Integration(setting), "integration"

    def authenticate_header(self, request):
        return "Token"


def is_integration(request) -> bool:
    return isinstance(request.user, Integration)


class IntegrationOrRolePermission(RolePermission):
    """An authenticated integration passes; a user needs a role the view allows (see ``RolePermission``)."""

    def has_permission(self, request, view) -> bool:
        return is_integration(request) or super().has_permission(request, view)


class IntegrationSecretScheme(OpenApiAuthenticationExtension):
    """Documents the webhook secret header in the API schema."""

    target_class = "csp.api.integrations.IntegrationSecretAuthentication"
    name = "webhookSecret"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-CSP-Webhook-Secret"}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: Token <key>`` (hashed API tokens)."""

    target_class = "csp.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization", "description": "Token <key>"}
