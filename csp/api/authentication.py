"""``Authorization: Token <key>`` against hashed API tokens (``csp.models.ApiToken``)."""

import datetime as dt

from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from csp.models import ApiToken
from csp.services import token_digest

LAST_USED_EVERY = dt.timedelta(minutes=1)  # one write a minute per token at most, not one per request


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's header parsing (``Token`` keyword, 401 with WWW-Authenticate), our hashed lookup: one query by
    digest with the user joined; expired tokens and inactive users are refused."""

    def authenticate_credentials(self, key):
        token = ApiToken.objects.select_related("user").filter(digest=token_digest(key)).first()
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        now = timezone.now()
        if token.is_expired(now):
            raise AuthenticationFailed("The token has expired; create a new one on your profile page.")
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token
