"""Parsing and validation of Segment HTTP Tracking API messages (pure functions, no database).

Shapes follow Segment's spec: https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/
"""

import datetime as dt
import gzip
import json
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any

from django.utils.dateparse import parse_datetime

MAX_MESSAGE_BYTES = 32 * 1024  # Segment: 32 KB per call / message
MAX_BATCH_BYTES = 500 * 1024  # Segment: 500 KB per batch request
TYPES = frozenset({"track", "identify", "group", "page", "screen", "alias"})
ENGAGEMENT_TYPES = ("track", "page", "screen")  # what counts as a user being active


class IngestError(Exception):
    """A whole call refused: ``status`` is the HTTP status, ``code`` the machine-readable reason."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
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
    # properties and context as JSON text, dumped once: it sizes the message and is what COPY writes
    properties_json: str = "{}"
    context_json: str = "{}"
    size: int = 0


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


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body, parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError) as exc:
        raise IngestError(400, "invalid_json", f"The body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise IngestError(400, "invalid_json", "The body must be a JSON object.")
    return data


def _text(value: Any, name: str, max_len: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{name} must be a string.")
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
        parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError(f"{name} must be an ISO 8601 date-time.")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _dump(value: dict[str, Any], name: str) -> str:
    text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    if "\\u0000" in text:  # PostgreSQL's jsonb cannot hold NUL
        raise ValueError(f"{name} contains a NUL character.")
    return text


def parse_message(
    raw: Any, *, msg_type: str | None, received_at: dt.datetime, sent_at: dt.datetime | None = None
) -> Message:
    """Validate one message (raises ValueError with a human reason). ``msg_type`` is fixed by single-call
    endpoints; batch messages carry their own ``type``. Like Segment, the SDK's clock is corrected with
    ``sentAt``: timestamp + (receivedAt - sentAt)."""
    if not isinstance(raw, dict):
        raise ValueError("A message must be a JSON object.")
    kind = msg_type or raw.get("type")
    if kind not in TYPES:
        raise ValueError(f"type must be one of {', '.join(sorted(TYPES))}.")
    user_id = _text(raw.get("userId"), "userId", 200)
    anonymous_id = _text(raw.get("anonymousId"), "anonymousId", 200)
    if not user_id and not anonymous_id:
        raise ValueError("userId or anonymousId is required.")
    context = _object(raw.get("context"), "context")
    properties = _object(raw.get("properties"), "properties")
    traits = _object(raw.get("traits"), "traits")
    event = ""
    group_id = _text(context.get("groupId"), "context.groupId", 100)
    if kind == "track":
        event = _text(raw.get("event"), "event", 200)
        if not event:
            raise ValueError("event is required for track calls.")
    elif kind in ("page", "screen"):
        event = _text(raw.get("name"), "name", 200)
        if raw.get("category"):
            properties = {**properties, "category": raw["category"]}
    elif kind == "group":
        group_id = _text(raw.get("groupId"), "groupId", 100)
        if not group_id:
            raise ValueError("groupId is required for group calls.")
        properties = traits
    elif kind == "identify":
        properties = traits
    message_id = _text(raw.get("messageId"), "messageId", 100) or f"csp-{uuid.uuid4()}"
    timestamp = _when(raw.get("timestamp"), "timestamp") or _when(raw.get("originalTimestamp"), "timestamp")
    sent = _when(raw["sentAt"], "sentAt") if raw.get("sentAt") else sent_at
    if timestamp is None:
        timestamp = received_at
    elif sent is not None:
        timestamp = timestamp + (received_at - sent)
    return Message(
        type=kind,
        message_id=message_id,
        user_id=user_id,
        anonymous_id=anonymous_id,
        event=event,
        group_id=group_id,
        timestamp=timestamp,
        properties=properties,
        context=context,
        traits=traits,
        properties_json=(properties_json := _dump(properties, "properties")),
        context_json=(context_json := _dump(context, "context")),
        size=len(properties_json) + len(context_json) + len(user_id) + len(anonymous_id) + len(event) + 300,
    )


def excerpt(raw: Any, limit: int = 500) -> str:
    try:
        text = json.dumps(raw, default=str)
    except (TypeError, ValueError):
        text = repr(raw)
    return text[:limit]


def parse_call(
    data: dict[str, Any], *, msg_type: str | None, received_at: dt.datetime, body_size: int
) -> tuple[list[Message], list[Rejection]]:
    """Split a call into valid messages and rejections. Batch calls (``msg_type`` None) carry ``batch``."""
    if msg_type is not None:
        try:
            return [parse_message(data, msg_type=msg_type, received_at=received_at)], []
        except ValueError as exc:
            raise IngestError(400, "invalid_message", str(exc)) from exc
    batch = data.get("batch")
    if not isinstance(batch, list) or not batch:
        raise IngestError(400, "invalid_batch", "batch must be a non-empty list of messages.")
    try:
        sent_at = _when(data.get("sentAt"), "sentAt")
    except ValueError as exc:
        raise IngestError(400, "invalid_batch", str(exc)) from exc
    messages: list[Message] = []
    rejections: list[Rejection] = []
    # Only a body over 32 KB can hold an oversize message.
    check_sizes = body_size > MAX_MESSAGE_BYTES
    for index, raw in enumerate(batch):
        try:
            message = parse_message(raw, msg_type=None, received_at=received_at, sent_at=sent_at)
            if check_sizes and message.size > MAX_MESSAGE_BYTES:
                rejections.append(
                    Rejection(
                        index, "too_large", f"Message exceeds {MAX_MESSAGE_BYTES // 1024} KB.", message.message_id
                    )
                )
                continue
            messages.append(message)
        except ValueError as exc:
            mid = raw.get("messageId", "") if isinstance(raw, dict) else ""
            rejections.append(Rejection(index, "invalid_message", str(exc), str(mid)[:100], excerpt(raw)))
    return messages, rejections
