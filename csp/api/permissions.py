"""The default DRF permission: authenticated, active, and a role the view allows.

Views narrow it with ``read_roles`` / ``write_roles`` and an optional ``can_write_object(user, obj)``
hook for object-level checks (the owner rules in ``accounts.policies``).
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from csp.models import Role
from csp.roles import WRITE_ROLES

ALL_ROLES = frozenset(Role.values)


class RolePermission(BasePermission):
    message = "Your role does not allow this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        roles = getattr(view, "read_roles", ALL_ROLES) if request.method in SAFE_METHODS else None
        if roles is None:
            roles = getattr(view, "write_roles", WRITE_ROLES)
        return user.role in roles

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        check = getattr(view, "can_write_object", None)
        return bool(check(request, obj)) if check else True
