"""The API schema and its documentation pages: for logged-in users (session or token) unless the deployment
opens them with API_DOCS_PUBLIC."""

from django.conf import settings
from rest_framework.permissions import BasePermission


class DocsPermission(BasePermission):
    message = "Log in (or send your API token) to read the API schema."

    def has_permission(self, request, view) -> bool:
        if settings.API_DOCS_PUBLIC:
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_active)


def docs_view(view_class, **kwargs):
    """``view_class.as_view`` behind ``DocsPermission``; anonymous browsers are sent to the login page."""
    inner = view_class.as_view(permission_classes=[DocsPermission], **kwargs)

    def view(request, *args, **kw):
        if (
            not settings.API_DOCS_PUBLIC
            and not request.user.is_authenticated
            and "html" in request.headers.get("Accept", "")
        ):
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        return inner(request, *args, **kw)

    view.__name__ = view_class.__name__
    return view
