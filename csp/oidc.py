"""Single sign-on with OpenID Connect (mozilla-django-oidc): users matched by email, role from a claim.

The identity provider (Okta, Azure AD, Google Workspace...) vouches for the email; the role comes from a
claim (``OIDC_ROLE_CLAIM``, e.g. ``groups``) mapped by ``OIDC_ROLE_MAP`` (``cs-admins:admin,...``). When the
claim names several mapped groups the strongest role wins; none mapped gives ``OIDC_DEFAULT_ROLE``, or refuses
the login when that is empty. The role is set again at every login, so removing someone from a group in
the provider takes effect at their next login.
"""

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from csp.models import Role, User

ROLE_RANK = [Role.ADMIN, Role.MANAGER, Role.CSM, Role.VIEWER]  # strongest first


def role_from_claims(claims: dict) -> str | None:
    """The strongest mapped role among the values of the role claim, else the default role (or None)."""
    values = claims.get(settings.OIDC_ROLE_CLAIM) or []
    if isinstance(values, str):
        values = [values]
    roles = {settings.OIDC_ROLE_MAP[v] for v in values if isinstance(v, str) and v in settings.OIDC_ROLE_MAP}
    for role in ROLE_RANK:
        if role in roles:
            return role
    return settings.OIDC_DEFAULT_ROLE or None


class RoleMappingOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend for csp's email-keyed users, with the role mapping above."""

    def get_userinfo(self, access_token, id_token, payload):
        # Azure AD and Okta put groups in the ID token, Google in neither: read both, userinfo winning.
        return {**payload, **super().get_userinfo(access_token, id_token, payload)}

    def verify_claims(self, claims) -> bool:
        return bool(claims.get("email")) and claims.get("email_verified", True) is not False

    def _role(self, claims) -> str:
        role = role_from_claims(claims)
        if role is None:
            raise SuspiciousOperation("No role is mapped for this user's groups")
        return role

    def create_user(self, claims) -> User:
        user = User.objects.create_user(
            email=claims["email"], full_name=(claims.get("name") or "")[:150], role=self._role(claims)
        )
        user.set_unusable_password()  # signs in through the provider only
        user.save(update_fields=["password"])
        return user

    def update_user(self, user, claims) -> User:
        role = self._role(claims)
        if not user.is_active:
            return None
        if user.role != role:
            user.role = role
            user.save(update_fields=["role"])  # through save(): the audit log records the change
        return user
