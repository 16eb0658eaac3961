"""Parsing and validation of Segment HTTP Tracking API messages (pure functions, no database).

Shapes follow Segment's spec: https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/
"""

import datetime as dt
import gzip
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.utils.dateparse import parse_datetime

MAX_MESSAGE_BYTES = 32 * 1024  # Segment: 32 KB per call / message
# Timestamps outside this window are refused per message: older than 1970 or more than a day ahead of receipt
# (after the sentAt clock correction). Outside it, rollup days and Python's datetime range break (year 0, 10000).
EARLIEST_TIMESTAMP = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MAX_FUTURE = dt.timedelta(days=1)
# properties, traits and context nest at most this many levels. Storage writes them with orjson, which refuses
# past 254 levels (a deeper message failed its whole call with a 500); see ``_too_deep`` for the check.
MAX_NESTING = 64
ORJSON_MAX_DEPTH = 254
MAX_BATCH_BYTES = 500 * 1024  # Segment: 500 KB per batch request
TYPES = frozenset({"track", "identify", "group", "page", "screen", "alias"})
ENGAGEMENT_TYPES = ("track", "page", "screen")  # what counts as a user being active


class MessageError(ValueError):
    """One message refused, with a machine-readable ``code`` (plain ValueErrors are ``invalid_message``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class IngestError(Exception):
    """A whole call refused: ``status`` is the HTTP status, ``code`` the machine-readable reason."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(slots=True)
class Message:
    """One valid message, normalised for storage."""

    type: str
    message_id: str
    user_id: str
    anonymous_id: str
    event: str
    group_id: str
    timestamp: dt.datetime
    properties: dict[str, Any]
    context: dict[str, Any]
    traits: dict[str, Any] = field(default_factory=dict)


@dataclass
class Rejection:
    index: int
    code: str
    message: str
    message_id: str = ""
    excerpt: str = ""


def decode_body(raw: bytes, content_encoding: str) -> bytes:
    """Undo ``Content-Encoding: gzip``; never inflate past the batch limit (a zip bomb gets 413)."""
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding != "gzip":
        raise IngestError(400, "unsupported_encoding", f"Content-Encoding {encoding!r} is not supported; use gzip.")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(raw, MAX_BATCH_BYTES + 1)
        if len(body) > MAX_BATCH_BYTES or inflater.unconsumed_tail:
            raise IngestError(413, "too_large", f"The decompressed body exceeds {MAX_BATCH_BYTES // 1024} KB.")
        if not inflater.eof:
            raise IngestError(400, "invalid_gzip", "The gzip body is truncated.")
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise IngestError(400, "invalid_gzip", f"The body is not valid gzip: {exc}") from exc
    return body


def parse_json(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object. orjson parses several times faster than the standard library and is
    strict RFC 8259: NaN/Infinity, invalid UTF-8 and lone surrogates (which jsonb refuses) are errors."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise IngestError(400, "invalid_json", f"The body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise IngestError(400, "invalid_json", "The body must be a JSON object.")
    return data


def _text(value: Any, name: str, max_len: int) -> str:
    if type(value) is str:  # the common case first: this runs five times per message
        text = value
    elif value is None:
        return ""
    elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{name} must be a string.")
    else:
        text = str(value)
    if len(text) > max_len:
        raise ValueError(f"{name} is longer than {max_len} characters.")
    if "\x00" in text:
        raise ValueError(f"{name} contains a NUL character.")
    return text


def _object(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be an object.")
    return value


def _when(value: Any, name: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be an ISO 8601 date-time.")
    try:
        parsed = dt.datetime.fromisoformat(value)  # C fast path; accepts "Z" and offsets
    except ValueError:
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValueError(f"{name} must be an ISO 8601 date-time.")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _bounded(timestamp: dt.datetime, received_at: dt.datetime, sent: dt.datetime | None) -> dt.datetime:
    """The event time corrected by the SDK's clock skew (received - sent), refused outside the sane window."""
    try:
        if sent is not None:
            timestamp = timestamp + (received_at - sent)
        ok = EARLIEST_TIMESTAMP <= timestamp <= received_at + MAX_FUTURE
    except OverflowError:  # year 1 minus an offset, year 9999 plus a skew: beyond datetime itself
        ok = False
    if not ok:
        raise MessageError(
            "timestamp_out_of_range",
            "timestamp (corrected by sentAt) must be between 1970-01-01 and one day after receipt.",
        )
    return timestamp


NUL_ESCAPE = b"\\u0000"  # how JSON writes a NUL character (JSON text cannot hold a raw one)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in key or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _no_nul(value: dict[str, Any], name: str) -> None:
    # Only reached when the body holds a NUL escape, so a walk of the values costs nothing on the hot path; a
    # search of the dumped JSON would also match an escaped backslash followed by "u0000".
    if _has_nul(value):  # PostgreSQL's jsonb cannot hold NUL
        raise ValueError(f"{name} contains a NUL character.")


def parse_message(
    raw: Any,
    *,
    msg_type: str | None,
    received_at: dt.datetime,
    sent_at: dt.datetime | None = None,
    check_nul: bool = True,
) -> Message:
    """Validate one message (raises ValueError with a human reason). ``msg_type`` is fixed by single-call
    endpoints; batch messages carry their own ``type``. Like Segment, the SDK's clock is corrected with
    ``sentAt``: timestamp + (receivedAt - sentAt), which must land in a sane window. ``check_nul`` may be off when
    the body holds no NUL escape.
    Written for speed (it runs for every event): one ``get`` per field, the common types tested first."""
    if type(raw) is not dict:
        raise ValueError("A message must be a JSON object.")
    get = raw.get
    kind = msg_type or get("type")
    if kind not in TYPES:
        raise ValueError(f"type must be one of {', '.join(sorted(TYPES))}.")
    # Each text field takes the full check (``_text``) unless it is a short string in a body without a NUL escape,
    # the common case, checked inline: a call per field per event was a tenth of parsing a batch.
    user_id = get("userId")
    if type(user_id) is not str or check_nul or len(user_id) > 200:
        user_id = _text(user_id, "userId", 200)
    anonymous_id = get("anonymousId")
    if anonymous_id is None:
        anonymous_id = ""
    elif type(anonymous_id) is not str or check_nul or len(anonymous_id) > 200:
        anonymous_id = _text(anonymous_id, "anonymousId", 200)
    if not user_id and not anonymous_id:
        raise ValueError("userId or anonymousId is required.")
    context = get("context")
    if type(context) is not dict:
        context = _object(context, "context")
    properties = get("properties")
    if type(properties) is not dict:
        properties = _object(properties, "properties")
    traits: dict[str, Any] = {}
    event = ""
    group_id = context.get("groupId")
    if group_id is None:
        group_id = ""
    elif type(group_id) is not str or check_nul or len(group_id) > 100:
        group_id = _text(group_id, "context.groupId", 100)
    if kind == "track":
        event = get("event")
        if type(event) is not str or check_nul or len(event) > 200:
            event = _text(event, "event", 200)
        if not event:
            raise ValueError("event is required for track calls.")
    elif kind in ("page", "screen"):
        event = _text(get("name"), "name", 200)
        if get("category"):
            properties = {**properties, "category": raw["category"]}
    elif kind in ("group", "identify"):
        properties = traits = _object(get("traits"), "traits")
        if kind == "group":
            group_id = _text(get("groupId"), "groupId", 100)
            if not group_id:
                raise ValueError("groupId is required for group calls.")
    message_id = get("messageId")
    if type(message_id) is not str or check_nul or len(message_id) > 100:
        message_id = _text(message_id, "messageId", 100)
    message_id = message_id or f"csp-{uuid.uuid4()}"
    timestamp = get("timestamp")
    if type(timestamp) is str and timestamp:  # the common case inline: RFC 3339 with an offset
        try:
            timestamp = dt.datetime.fromisoformat(timestamp)
        except ValueError:
            timestamp = _when(timestamp, "timestamp")
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=dt.UTC)
    else:
        timestamp = _when(timestamp, "timestamp") or _when(get("originalTimestamp"), "timestamp")
    own_sent = get("sentAt")
    sent = _when(own_sent, "sentAt") if own_sent else sent_at
    timestamp = received_at if timestamp is None else _bounded(timestamp, received_at, sent)
    if check_nul:
        _no_nul(properties, "properties")
        _no_nul(context, "context")
    return Message(kind, message_id, user_id, anonymous_id, event, group_id, timestamp, properties, context, traits)


def excerpt(raw: Any, limit: int = 500) -> str:
    try:
        text = orjson.dumps(raw, default=str).decode()
    except (TypeError, ValueError, orjson.JSONEncodeError):  # orjson stops at 254 levels of nesting
        text = "(unprintable: nested too deep)"
    return text[:limit]


def _size(raw: Any) -> int:
    try:
        return len(orjson.dumps(raw))
    except orjson.JSONEncodeError as exc:  # nested past orjson's limit somewhere outside properties/context
        raise MessageError("too_deep", "The message nests too deep.") from exc


def parse_call(
    data: dict[str, Any], *, msg_type: str | None, received_at: dt.datetime, body: bytes
) -> tuple[list[Message], list[Rejection]]:
    """Split a call into valid messages and rejections. Batch calls (``msg_type`` None) carry ``batch``.
    ``body`` is the decoded request body: the checks it rules out are skipped (the hot path)."""
    # No NUL escape anywhere in the body: no message can hold a NUL (a false alarm only costs the exact check).
    check_nul = NUL_ESCAPE in body
    options = {"received_at": received_at, "check_nul": check_nul}
    if msg_type is not None:
        try:
            message = parse_message(data, msg_type=msg_type, **options)
        except ValueError as exc:
            raise IngestError(400, getattr(exc, "code", "invalid_message"), str(exc)) from exc
        if _too_deep([message]):
            raise IngestError(400, "too_deep", TOO_DEEP)
        return [message], []
    batch = data.get("batch")
    if not isinstance(batch, list) or not batch:
        raise IngestError(400, "invalid_batch", "batch must be a non-empty list of messages.")
    try:
        sent_at = _when(data.get("sentAt"), "sentAt")
    except ValueError as exc:
        raise IngestError(400, "invalid_batch", str(exc)) from exc
    messages: list[Message] = []
    indexes: list[int] = []  # each message's position in the batch
    rejections: list[Rejection] = []
    # Only a body over 32 KB can hold an oversize message.
    check_sizes = len(body) > MAX_MESSAGE_BYTES
    for index, raw in enumerate(batch):
        try:
            message = parse_message(raw, msg_type=None, sent_at=sent_at, **options)
            if check_sizes and _size(raw) > MAX_MESSAGE_BYTES:
                rejections.append(
                    Rejection(
                        index, "too_large", f"Message exceeds {MAX_MESSAGE_BYTES // 1024} KB.", message.message_id
                    )
                )
                continue
            messages.append(message)
        except ValueError as exc:
            mid = raw.get("messageId", "") if isinstance(raw, dict) else ""
            code = getattr(exc, "code", "invalid_message")
            rejections.append(Rejection(index, code, str(exc), str(mid)[:100], excerpt(raw)))
        else:
            indexes.append(index)
    deep = _too_deep(messages)
    if deep:
        rejections += [Rejection(indexes[i], "too_deep", TOO_DEEP, messages[i].message_id) for i in sorted(deep)]
        rejections.sort(key=lambda r: r.index)
        messages = [m for i, m in enumerate(messages) if i not in deep]
    return messages, rejections


TOO_DEEP = f"properties, traits and context nest at most {MAX_NESTING} levels deep."
# orjson counts containers: the pairs list and the messages list add two, and these padding lists bring a value
# nesting MAX_NESTING + 1 levels exactly to orjson's limit, so its C-speed depth check is ours too.
_PADDING = ORJSON_MAX_DEPTH - 2 - MAX_NESTING


def _padded(value: list) -> list:
    for _ in range(_PADDING):
        value = [value]
    return value


def _too_deep(messages: list[Message]) -> set[int]:
    """Positions of messages whose properties or context nest past MAX_NESTING. One orjson dump of them all
    (C speed: a few percent of parsing; a Python walk of every value cost more than the parse itself); only when
    it fails is each one tried, so a deep message is refused alone instead of failing its whole call."""
    if not messages:
        return set()
    try:
        orjson.dumps(_padded([[m.properties, m.context] for m in messages]))
        return set()
    except orjson.JSONEncodeError:
        bad = set()
        for i, m in enumerate(messages):
            try:
                orjson.dumps(_padded([[m.properties, m.context]]))
            except orjson.JSONEncodeError:
                bad.add(i)
        return bad
