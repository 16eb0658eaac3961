"""Writes for usage ingestion: event sources and their keys, key features, and storing a call's messages."""

import datetime as dt
import hashlib
import logging
import secrets
import time
from contextlib import nullcontext
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from accounts.models import Account, Contact
from accounts.services import account_create
from events import pipeline, storage
from events.messages import Message, Rejection
from events.models import Event, EventSource, KeyFeature, RejectedMessage, SourceKind, UserGroup

logger = logging.getLogger(__name__)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> str:
    return "csp_" + secrets.token_urlsafe(24)


def _check_kind(source: EventSource) -> None:
    if source.kind == SourceKind.BROWSER and source.auto_create_accounts:
        # A browser key is public: anyone holding it could create accounts.
        raise ValidationError({"auto_create_accounts": "A browser source cannot create accounts."})


@transaction.atomic
def source_create(
    *, name: str, kind: str = SourceKind.SERVER, auto_create_accounts: bool = False
) -> tuple[EventSource, str]:
    """Create an event source; returns it with its write key, which is stored only hashed (shown once)."""
    key = _new_key()
    source = EventSource(
        name=name, kind=kind, key_prefix=key[:10], key_hash=hash_key(key), auto_create_accounts=auto_create_accounts
    )
    _check_kind(source)
    source.full_clean()
    source.save()
    return source, key


@transaction.atomic
def source_update(
    *, source: EventSource, name: str, auto_create_accounts: bool, is_active: bool, kind: str | None = None
) -> EventSource:
    """Rename a source or change its kind, whether it creates accounts and accepts calls."""
    source.name, source.auto_create_accounts, source.is_active = name, auto_create_accounts, is_active
    source.kind = kind or source.kind
    _check_kind(source)
    source.full_clean()
    source.save()
    _source_cache.clear()
    return source


@transaction.atomic
def source_rotate_key(*, source: EventSource) -> str:
    """Give a source a new write key (the old one stops working at once); returns the key, shown once."""
    key = _new_key()
    source.key_prefix, source.key_hash = key[:10], hash_key(key)
    source.save(update_fields=["key_prefix", "key_hash"])
    _source_cache.clear()
    return key


# Write key -> source, per process: saves a query on every call. A disabled or rotated key stops working in
# this process at once and in other processes within SOURCE_CACHE_SECONDS.
SOURCE_CACHE_SECONDS = 30
_source_cache: dict[str, tuple[EventSource, float]] = {}


def source_for_key(key: str) -> EventSource | None:
    """The active source a write key belongs to, or None."""
    if not key:
        return None
    digest = hash_key(key)
    cached = _source_cache.get(digest)
    if cached and cached[1] > time.monotonic():
        return cached[0]
    source = EventSource.objects.filter(key_hash=digest, is_active=True).first()
    if source is not None:
        _source_cache[digest] = (source, time.monotonic() + SOURCE_CACHE_SECONDS)
    return source


@transaction.atomic
def key_feature_create(*, name: str, event_name: str) -> KeyFeature:
    """Declare that a track event name counts as use of a key feature."""
    feature = KeyFeature(name=name, event_name=event_name)
    feature.full_clean()
    feature.save()
    return feature


@transaction.atomic
def key_feature_delete(*, feature: KeyFeature) -> None:
    """Stop counting an event as a key feature."""
    feature.delete()


def rejection_log(
    *, source: EventSource | None, status: int, rejections: list[Rejection], received_at: dt.datetime | None = None
) -> None:
    """Record refused calls or messages for the ingestion console (one INSERT)."""
    now = received_at or timezone.now()
    RejectedMessage.objects.bulk_create(
        [
            RejectedMessage(
                source=source,
                received_at=now,
                status=status,
                code=r.code,
                reason=r.message[:500],
                message_id=r.message_id[:100],
                excerpt=r.excerpt[:500],
            )
            for r in rejections
        ]
    )


def _grouped_accounts(source: EventSource):
    """Ids of the accounts this source has tied users to with group calls: the only ones it may change."""
    return UserGroup.objects.filter(source=source, account__isnull=False).values("account_id")


def unauthorized_record(*, code: str, message: str, now: dt.datetime | None = None) -> bool:
    """Count a /v1 call that came without a valid write key, in the cache per minute (Redis when configured,
    shared by all processes); the 1st and then every INGEST_UNAUTHORIZED_SAMPLE-th call of a minute is written to
    the rejection log as one row standing for that many calls (``represents``). Returns whether a row was written."""
    now = now or timezone.now()
    sample = max(1, settings.INGEST_UNAUTHORIZED_SAMPLE)
    key = f"ingest:unauthorized:{now:%Y%m%d%H%M}"
    try:
        count = 1 if cache.add(key, 1, timeout=120) else cache.incr(key)
    except Exception:  # the cache is down: sample by chance instead of writing every call
        logger.warning("Cache unavailable for the unauthorized-call counter", exc_info=True)
        count = 1 if secrets.randbelow(sample) == 0 else 2
    if count != 1 and count % sample != 1:
        return False
    RejectedMessage.objects.create(
        source=None,
        received_at=now,
        status=401 if code == "unauthorized" else 400,
        code=code,
        reason=message[:500],
        represents=1 if count == 1 else sample,
    )
    return True


def rejections_purge(*, older_than_days: int | None = None, now: dt.datetime | None = None) -> int:
    """Delete rejection-log rows older than the retention (INGEST_REJECTION_RETENTION_DAYS); returns how many."""
    days = settings.INGEST_REJECTION_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    return RejectedMessage.objects.filter(received_at__lt=cutoff).delete()[0]


def _identify(source: EventSource, msg: Message, account: Account | None) -> None:
    """identify: find the contact by userId, else by email (then remember the userId); merge traits. A new
    contact is created only when the user's account is known. A source only touches contacts of accounts it
    has grouped; a browser source (public key) only those of the user's own grouped account, and never re-keys
    a contact it found by email (anyone may claim an address)."""
    traits = msg.traits
    email = traits.get("email") if isinstance(traits.get("email"), str) else ""
    if account is not None and not UserGroup.objects.filter(source=source, account_id=account.id).exists():
        account = None  # named in context.groupId only: never grouped by this source
    browser = source.kind == SourceKind.BROWSER
    if browser and account is None:
        return
    scope = (
        Contact.objects.filter(account=account)
        if browser
        else Contact.objects.filter(account_id__in=_grouped_accounts(source))
    )
    contact = None
    if msg.user_id:
        contact = scope.filter(external_id=msg.user_id).order_by("id").first()
    if contact is None and email:
        by_email = scope.filter(email__iexact=email)
        contact = (by_email.filter(account=account) if account else by_email).order_by("id").first()
        if contact is not None and msg.user_id and not contact.external_id:
            if browser:
                return
            contact.external_id = msg.user_id
    if contact is None:
        if account is None or not msg.user_id:
            return
        name = traits.get("name") if isinstance(traits.get("name"), str) else ""
        contact = Contact(account=account, name=(name or email or msg.user_id)[:200], external_id=msg.user_id)
        if email and not Contact.objects.filter(account=account, email__iexact=email).exists():
            contact.email = email[:254]
    contact.traits = {**(contact.traits or {}), **traits}
    if isinstance(traits.get("title"), str) and not contact.title:
        contact.title = traits["title"][:200]
    contact.save()


def _group(source: EventSource, msg: Message) -> Account | None:
    """group: tie the user to the account whose external_id is the groupId (created if the source allows),
    and attribute that user's and that group's unmatched events."""
    account = Account.objects.filter(external_id=msg.group_id).first()
    if account is None and source.auto_create_accounts and source.kind != SourceKind.BROWSER:
        name = msg.traits.get("name") if isinstance(msg.traits.get("name"), str) else ""
        try:
            with transaction.atomic():
                account = account_create(data={"name": (name or msg.group_id)[:200], "external_id": msg.group_id})
        except ValidationError:
            account = Account.objects.filter(external_id=msg.group_id).first()  # created meanwhile
    user_id = msg.user_id or msg.anonymous_id
    UserGroup.objects.update_or_create(
        source=source, user_id=user_id, defaults={"group_id": msg.group_id, "account": account}
    )
    if account is not None:
        # Before attributing: the user's earlier identify calls are still unmatched (a cheap partial index).
        _contact_from_earlier_identify(source, user_id, account)
        attribute_unmatched(source=source, user_id=user_id, group_id=msg.group_id, account=account)
    else:
        # The user's earlier events wait under this group id until its account exists (see pipeline.sweep).
        Event.objects.filter(account__isnull=True, source=source, user_id=user_id, group_id="").update(
            group_id=msg.group_id
        )
    return account


def _contact_from_earlier_identify(source: EventSource, user_id: str, account: Account) -> None:
    """SDKs identify at login, then group: the identify found no account and made no contact. Now that the user
    belongs to an account, create or link the contact from that user's latest (still unmatched) identify."""
    if not user_id or Contact.objects.filter(external_id=user_id).exists():
        return
    latest = (
        Event.objects.filter(account__isnull=True, source=source, user_id=user_id, type="identify")
        .order_by("-timestamp", "-id")
        .values_list("properties", flat=True)
        .first()
    )
    if latest is None:
        return
    traits = latest if isinstance(latest, dict) else {}
    _identify(source, Message("identify", "", user_id, "", "", "", timezone.now(), traits, {}, traits), account)


def attribute_unmatched(*, source: EventSource, user_id: str, group_id: str, account: Account) -> int:
    """Give waiting events of this user (or of this group id) their account, and mark it dirty."""
    backlog = Event.objects.filter(account__isnull=True).filter(
        Q(source=source, user_id=user_id, group_id__in=["", group_id]) | Q(group_id=group_id)
    )
    since = backlog.aggregate(first=Min("timestamp"))["first"]
    if since is None:
        return 0
    count = backlog.update(account=account, group_id=group_id)
    pipeline.mark_dirty({account.id: since})
    return count


def _guarded(func, *args):
    """Apply one identify/group in a savepoint: a contact or account it cannot write must not lose the call's
    events (the message itself is still stored)."""
    try:
        with transaction.atomic():
            return func(*args)
    except (DatabaseError, ValidationError):
        logger.warning("Could not apply %s for source %s", func.__name__, args[0].pk, exc_info=True)
        return None


MAPPING_TYPES = ("group", "identify")


def _apply_mapping(source: EventSource, messages: list[Message]) -> None:
    """group calls first (they tie users to accounts), then identify calls, each in its own savepoint."""
    for msg in messages:
        if msg.type == "group":
            _guarded(_group, source, msg)
    identifies = [m for m in messages if m.type == "identify"]
    if not identifies:
        return
    groups = storage.user_groups(
        source_id=source.id, user_ids={m.user_id or m.anonymous_id for m in identifies if not m.group_id}
    )
    accounts = storage.accounts_by_external_id(
        {m.group_id or groups.get(m.user_id or m.anonymous_id, "") for m in identifies} - {""}
    )
    for msg in identifies:
        account_id = accounts.get(msg.group_id or groups.get(msg.user_id or msg.anonymous_id, ""))
        _guarded(_identify, source, msg, Account(id=account_id) if account_id else None)


def _insert_portable(source: EventSource, messages: list[Message], now: dt.datetime) -> None:
    """The ORM path (SQLite): resolve groups and accounts with one query each, bulk insert, mark accounts."""
    users = {m.user_id or m.anonymous_id for m in messages if not m.group_id}
    groups = storage.user_groups(source_id=source.id, user_ids=users)
    for msg in messages:
        if not msg.group_id:
            msg.group_id = groups.get(msg.user_id or msg.anonymous_id, "")
    accounts = storage.accounts_by_external_id({m.group_id for m in messages if m.group_id})
    seen: set[str] = set()
    events = []
    for m in messages:
        if m.message_id in seen:
            continue
        seen.add(m.message_id)
        events.append(
            Event(
                source_id=source.id, message_id=m.message_id, type=m.type, event=m.event, user_id=m.user_id,
                anonymous_id=m.anonymous_id, group_id=m.group_id, account_id=accounts.get(m.group_id),
                timestamp=m.timestamp, received_at=now, properties=m.properties, context=m.context,
            )
        )  # fmt: skip
    stored = set(Event.objects.filter(source=source, message_id__in=seen).values_list("message_id", flat=True))
    new = [e for e in events if e.message_id not in stored]  # a repeated messageId is stored (and marked) once
    Event.objects.bulk_create(new, ignore_conflicts=True)
    touched: dict[int, dt.datetime] = {}
    for e in new:
        if e.account_id and (e.account_id not in touched or e.timestamp < touched[e.account_id]):
            touched[e.account_id] = e.timestamp
    pipeline.mark_dirty(touched)


def ingest(*, source: EventSource, messages: list[Message], rejections: list[Rejection]) -> int:
    """Store a call's valid messages and log its rejected ones, atomically; returns the number of messages
    accepted (a repeated messageId is accepted but stored once). identify and group are applied first, then
    every message is attributed by its groupId (context.groupId), else by its user's latest group. The touched
    accounts are marked, and their refresh is enqueued after commit (see ``events.pipeline``).

    On PostgreSQL a call of track/page calls alone is one statement with no explicit transaction (see
    ``events.storage``): it commits as a whole or not at all, before this returns."""
    now = timezone.now()
    postgres = connection.vendor == "postgresql"
    mapping = any(m.type in MAPPING_TYPES for m in messages)
    with transaction.atomic() if (mapping or rejections or not postgres) else nullcontext():
        if mapping:
            _apply_mapping(source, messages)
        if postgres:
            claimed = storage.insert_events_pg(source_id=source.id, messages=messages, received_at=now)
            if claimed:
                # Runs at once when there is no transaction (the statement has committed), else after commit.
                transaction.on_commit(partial(pipeline.enqueue, claimed))
        else:
            _insert_portable(source, messages, now)
        if rejections:
            rejection_log(source=source, status=200, rejections=rejections, received_at=now)
    return len(messages)


def ingest_payload_summary(accepted: int, rejections: list[Rejection]) -> dict[str, Any]:
    body: dict[str, Any] = {"success": True}
    if rejections:
        body["accepted"] = accepted
        body["rejected"] = [{"index": r.index, "code": r.code, "message": r.message} for r in rejections]
    return body
