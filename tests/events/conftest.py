import base64
import gzip
import json

import pytest

from tests.events.factories import EventSourceFactory


@pytest.fixture
def source(db):
    return EventSourceFactory(name="web")


@pytest.fixture
def write_key(source):
    return f"key-{source.name}"


@pytest.fixture
def post_v1(client, write_key):
    """POST a Segment call with Basic auth (key as username); ``gzip=True`` compresses the body."""

    def post(path, payload, *, key=write_key, gzipped=False, raw=None, headers=None):
        body = raw if raw is not None else json.dumps(payload).encode()
        extra = {}
        if key is not None:
            extra["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        if gzipped:
            body = gzip.compress(body) if raw is None else body
            extra["HTTP_CONTENT_ENCODING"] = "gzip"
        extra.update(headers or {})
        return client.generic("POST", f"/v1/{path}", body, content_type="application/json", **extra)

    return post


@pytest.fixture(autouse=True)
def _fresh_source_cache():
    """The write-key cache is per process; each test's database starts empty."""
    from events import services

    services._source_cache.clear()
    yield
    services._source_cache.clear()
