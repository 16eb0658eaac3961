"""Role policy shared by views and API: who may see and change what.

Reading is open to every authenticated role (CSMs look up any account, viewers read everything);
writes are checked per object here so the UI and the API refuse exactly the same things.
"""

from django.db.models import Q

from csp.models import Role, User

WRITE_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.CSM})
MANAGE_ROLES = frozenset({Role.ADMIN, Role.MANAGER})


def has_role(user: User, *roles: str) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.role in roles)


def managed_user_ids(user: User) -> set[int]:
    """Ids of the users a manager leads: members of the teams they manage, and themselves."""
    ids = set(User.objects.filter(team__manager=user).values_list("id", flat=True))
    ids.add(user.id)
    return ids


def owner_scope_q(user: User, prefix: str = "owner") -> Q:
    """Q filter for records owned by the users that ``user`` may change (admin: all)."""
    if user.role == Role.ADMIN:
        return Q()
    if user.role == Role.MANAGER:
        return Q(**{f"{prefix}__team__manager": user}) | Q(**{prefix: user})
    return Q(**{prefix: user})
