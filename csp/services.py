"""Writes to users, teams and API tokens."""

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from csp.modeling import apply_fields
from csp.models import ApiToken, Team, User

USER_FIELDS = frozenset({"email", "full_name", "role", "team", "is_active"})
TEAM_FIELDS = frozenset({"name", "manager"})


def _validate_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc


@transaction.atomic
def user_create(*, data: dict[str, Any], password: str | None = None) -> User:
    """Create a user; without a password the account cannot log in until one is set."""
    user = User()
    apply_fields(user, data, USER_FIELDS)
    user.email = user.email.lower()
    if password:
        _validate_password(password, user)  # the same rules as a self-chosen password
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    return user


@transaction.atomic
def user_update(*, user: User, data: dict[str, Any], password: str | None = None) -> User:
    """Change a user's profile, role, team or activity; optionally set a new password."""
    apply_fields(user, data, USER_FIELDS)
    user.email = user.email.lower()
    if password:
        _validate_password(password, user)
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


def token_digest(key: str) -> str:
    """SHA-256 of a key: tokens are 256 random bits, so a fast hash is enough (no brute force is possible)."""
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_rotate(*, user: User, days: int | None = None, name: str = "") -> ApiToken:
    """Replace the user's API token with a fresh one; the old key stops working at once. The returned token
    carries the plain key in ``.key`` (never stored: show it once). It expires after ``days`` (default the
    API_TOKEN_TTL_DAYS setting; 0 = never)."""
    ApiToken.objects.filter(user=user).delete()
    key = "csp_" + secrets.token_urlsafe(32)
    days = settings.API_TOKEN_TTL_DAYS if days is None else days
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        name=name[:120],
        prefix=key[:12],
        digest=token_digest(key),
        created_at=now,
        expires_at=now + dt.timedelta(days=days) if days else None,
    )
    token.key = key
    return token


@transaction.atomic
def api_token_revoke(*, user: User) -> int:
    """Delete the user's API tokens; returns how many."""
    return ApiToken.objects.filter(user=user).delete()[0]
