"""Reads of users and teams."""

from django.db.models import Count, QuerySet

from csp.models import Team, User


def user_list() -> QuerySet[User]:
    return User.objects.select_related("team")


def team_list() -> QuerySet[Team]:
    return Team.objects.select_related("manager").annotate(member_count=Count("members"))


def assignable_owners() -> QuerySet[User]:
    """Users who can own accounts: active CSMs, managers and admins."""
    return User.objects.filter(is_active=True, role__in=["csm", "manager", "admin"]).order_by("full_name", "email")
