"""Signed answer-link tokens: ``TimestampSigner`` over a send's random ``token_id``.

A token names one send, so it can only answer (or change) that recipient's answer. The signature makes it
unforgeable; the timestamp makes it expire after ``SURVEY_TOKEN_MAX_AGE_DAYS``.
"""

import uuid
from enum import Enum

from django.conf import settings
from django.core import signing

SALT = "surveys.answer-link"


class TokenError(Enum):
    INVALID = "invalid"
    EXPIRED = "expired"


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def token_for(token_id: uuid.UUID) -> str:
    return _signer().sign(token_id.hex)


def token_read(token: str, *, check_age: bool = True) -> uuid.UUID | TokenError:
    """The token id a token carries, or why it is refused (tampered/garbled: INVALID; too old: EXPIRED).
    ``check_age=False`` for unsubscribe links, which keep working in old mails."""
    max_age = settings.SURVEY_TOKEN_MAX_AGE_DAYS * 86400 if check_age else None
    try:
        value = _signer().unsign(token or "", max_age=max_age)
    except signing.SignatureExpired:
        return TokenError.EXPIRED
    except signing.BadSignature:
        return TokenError.INVALID
    try:
        return uuid.UUID(hex=value)
    except ValueError:
        return TokenError.INVALID
