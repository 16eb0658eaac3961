"""The API's JSON renderer: DRF's output, written by orjson (several times faster than the standard library on
list pages). Whatever orjson would write differently goes through DRF's encoder, so the bytes are the same."""

import orjson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder

# Dates, times and dataclasses go to DRF's encoder (its "Z" for UTC, its millisecond times); dict keys that are
# not strings are written as json.dumps writes them.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS
_encoder = JSONEncoder()


class JSONRenderer(renderers.JSONRenderer):
    """``application/json`` as DRF renders it (compact, UTF-8, U+2028/U+2029 escaped). A pretty-printing request
    (``; indent=``) or a value orjson cannot write (an integer beyond 64 bits) takes DRF's own path. One
    difference: a NaN or infinite float is written as ``null``, where DRF's strict encoder failed the request."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None or self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=_encoder.default, option=_OPTIONS)
        except (TypeError, orjson.JSONEncodeError):
            return super().render(data, accepted_media_type, renderer_context)
        return body.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
