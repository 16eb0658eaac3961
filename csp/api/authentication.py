"""``Authorization: Token <key>`` against hashed API tokens (``csp.models.ApiToken``)."""

import datetime as dt
import functools

from django.db import connections, router
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from csp.models import ApiToken, User
from csp.services import token_digest

LAST_USED_EVERY = dt.timedelta(minutes=1)  # one write a minute per token at most, not one per request


@functools.cache
def _lookup(alias: str) -> tuple[str, dict]:
    """The ORM's SQL for a token by digest with its user joined, and its column converters, compiled once per
    process and database. Compiling it through the ORM on every request cost about 1 ms of CPU, several times
    what the query itself costs."""
    compiler = ApiToken.objects.select_related("user").filter(digest="").order_by().query.get_compiler(alias)
    sql, _params = compiler.as_sql()
    # Backend converters (SQLite's datetimes, JSON fields' decoding), as the ORM applies them to each row.
    return sql, compiler.get_converters([column for column, _sql, _alias in compiler.select])


_TOKEN_FIELDS = [f.attname for f in ApiToken._meta.concrete_fields]
_USER_FIELDS = [f.attname for f in User._meta.concrete_fields]


def token_with_user(digest: str) -> ApiToken | None:
    """The token with this digest, its ``user`` loaded by the same query (as ``select_related("user")``), or None.
    The digest is unique: one row at most."""
    alias = router.db_for_read(ApiToken) or "default"
    connection = connections[alias]
    sql, converters = _lookup(alias)
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, (functions, expression) in converters.items():
        for convert in functions:
            values[index] = convert(values[index], expression, connection)
    split = len(_TOKEN_FIELDS)
    token = ApiToken.from_db(alias, _TOKEN_FIELDS, values[:split])
    ApiToken.user.field.set_cached_value(token, User.from_db(alias, _USER_FIELDS, values[split:]))
    return token


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's header parsing (``Token`` keyword, 401 with WWW-Authenticate), our hashed lookup: one query by
    digest with the user joined; expired tokens and inactive users are refused."""

    def authenticate_credentials(self, key):
        token = token_with_user(token_digest(key))
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
