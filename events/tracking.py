"""Segment HTTP Tracking API endpoints: ``POST /v1/batch|track|identify|group|page|screen|alias|import``.

Plain Django views (no DRF) because this is the hot path; CSRF-exempt because SDKs authenticate with a
write key, not a session. Errors are ``{"code": ..., "message": ...}`` with 400, 401 or 413.
"""

import base64
import binascii
import logging

import orjson
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from events import services
from events.messages import (
    MAX_BATCH_BYTES,
    MAX_MESSAGE_BYTES,
    IngestError,
    Rejection,
    decode_body,
    parse_call,
    parse_json,
)

logger = logging.getLogger(__name__)
JSON = "application/json"


def _basic_username(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.split(":", 1)[0]


def _error(exc: IngestError, source=None) -> JsonResponse:
    if source is None:
        # No valid key (a 401, or a 400/413 before the key was known): anyone can send these, so they are
        # counted and sampled and anonymous traffic cannot grow the rejection log.
        services.unauthorized_record(code=exc.code, message=exc.message)
    else:
        services.rejection_log(source=source, status=exc.status, rejections=[Rejection(0, exc.code, exc.message)])
    return JsonResponse({"code": exc.code, "message": exc.message}, status=exc.status)


def _read_body(request, limit: int) -> bytes:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise IngestError(413, "too_large", f"The request body exceeds {limit // 1024} KB.")
    body = request.body
    if len(body) > limit:
        raise IngestError(413, "too_large", f"The request body exceeds {limit // 1024} KB.")
    return body


def _handle(request, msg_type: str | None):
    received_at = timezone.now()
    limit = MAX_MESSAGE_BYTES if msg_type else MAX_BATCH_BYTES
    key = _basic_username(request)
    source = services.source_for_key(key) if key else None
    if key and source is None:
        return _error(IngestError(401, "unauthorized", "The write key is invalid or its source is disabled."))
    try:
        body = decode_body(_read_body(request, limit), request.META.get("HTTP_CONTENT_ENCODING", ""))
        if len(body) > limit:
            raise IngestError(413, "too_large", f"The request body exceeds {limit // 1024} KB.")
        data = parse_json(body)
        if source is None:
            # SDKs that do not use Basic auth send the key in the body.
            body_key = data.get("writeKey")
            source = services.source_for_key(body_key) if isinstance(body_key, str) else None
            if source is None:
                raise IngestError(401, "unauthorized", "A valid write key is required (Basic auth or writeKey).")
        messages, rejections = parse_call(data, msg_type=msg_type, received_at=received_at, body=body)
        if not messages:
            first = rejections[0]
            services.rejection_log(source=source, status=400, rejections=rejections, received_at=received_at)
            return JsonResponse(
                {"code": first.code, "message": f"No valid message in the batch; first: {first.message}"}, status=400
            )
    except IngestError as exc:
        return _error(exc, source)
    accepted = services.ingest(source=source, messages=messages, rejections=rejections)
    # orjson and a plain HttpResponse: JsonResponse's encoder is a measurable share of a small call.
    return HttpResponse(orjson.dumps(services.ingest_payload_summary(accepted, rejections)), content_type=JSON)


def _endpoint(msg_type: str | None):
    @csrf_exempt
    @require_POST
    def view(request):
        return _handle(request, msg_type)

    view.__name__ = f"v1_{msg_type or 'batch'}"
    return view


SHORT = {"t": "track", "i": "identify", "g": "group", "p": "page", "s": "screen", "a": "alias"}
urlpatterns = [
    path("batch", _endpoint(None), name="v1_batch"),
    path("import", _endpoint(None), name="v1_import"),
    *[path(kind, _endpoint(kind), name=f"v1_{kind}") for kind in SHORT.values()],
    # analytics.js (browser) posts to /v1/t, /v1/i, ... with the write key in the body.
    *[path(short, _endpoint(kind), name=f"v1_{short}") for short, kind in SHORT.items()],
    path("b", _endpoint(None), name="v1_b"),
]
