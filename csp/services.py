"""Writes to users, teams and API tokens."""

from typing import Any

from django.db import transaction
from rest_framework.authtoken.models import Token

from csp.modeling import apply_fields
from csp.models import Team, User

USER_FIELDS = frozenset({"email", "full_name", "role", "team", "is_active"})
TEAM_FIELDS = frozenset({"name", "manager"})


@transaction.atomic
def user_create(*, data: dict[str, Any], password: str | None = None) -> User:
    """Create a user; without a password the account cannot log in until one is set."""
    user = User()
    apply_fields(user, data, USER_FIELDS)
    user.email = user.email.lower()
    user.set_password(password) if password else user.set_unusable_password()
    user.full_clean()
    user.save()
    return user


@transaction.atomic
def user_update(*, user: User, data: dict[str, Any], password: str | None = None) -> User:
    """Change a user's profile, role, team or activity; optionally set a new password."""
    apply_fields(user, data, USER_FIELDS)
    user.email = user.email.lower()
    if password:
        user.set_password(password)
    user.full_clean()
    user.save()
    return user


@transaction.atomic
def team_create(*, data: dict[str, Any], member_ids: list[int] | None = None) -> Team:
    """Create a team and move the given users into it."""
    team = Team()
    apply_fields(team, data, TEAM_FIELDS)
    team.full_clean()
    team.save()
    if member_ids is not None:
        team_set_members(team=team, member_ids=member_ids)
    return team


@transaction.atomic
def team_update(*, team: Team, data: dict[str, Any], member_ids: list[int] | None = None) -> Team:
    """Rename a team, change its manager, and optionally replace its members."""
    apply_fields(team, data, TEAM_FIELDS)
    team.full_clean()
    team.save()
    if member_ids is not None:
        team_set_members(team=team, member_ids=member_ids)
    return team


@transaction.atomic
def team_set_members(*, team: Team, member_ids: list[int]) -> None:
    """Make exactly these users the team's members (a user belongs to one team at a time)."""
    User.objects.filter(team=team).exclude(id__in=member_ids).update(team=None)
    User.objects.filter(id__in=member_ids).update(team=team)


@transaction.atomic
def api_token_rotate(*, user: User) -> Token:
    """Replace the user's API token with a fresh one; the old key stops working at once."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)
