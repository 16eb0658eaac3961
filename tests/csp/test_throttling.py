"""The API throttles counted in Redis (production's cache): the rate holds per user, refused calls do not count,
the previous window still weighs, Retry-After says when a call fits again. Tests use the in-memory cache (DRF's own
path, see test_security.py); here the Redis path runs against the real REDIS_URL."""

import os
import secrets
from types import SimpleNamespace

import pytest

from csp.api import throttling

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: a real Redis")


@pytest.fixture
def redis_path(monkeypatch, settings):
    """The Redis path against REDIS_URL, keys under a fresh prefix (removed afterwards)."""
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    prefix = f"test-throttle-{secrets.token_hex(4)}"
    monkeypatch.setattr(throttling, "_uses_redis", lambda: True)
    monkeypatch.setattr(throttling, "_redis", lambda: client)
    monkeypatch.setattr(throttling.cache, "make_key", lambda key: f"{prefix}:{key}")
    yield client, prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def _throttle(now: float, rate: str = "3/min"):
    throttle = throttling.UserRateThrottle()
    throttle.rate = rate
    throttle.num_requests, throttle.duration = throttle.parse_rate(rate)
    throttle.timer = lambda: now
    return throttle


def _request(user_id: int):
    return SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=user_id), META={})


def test_rate_holds_per_user_and_refusals_do_not_count(redis_path):
    client, prefix = redis_path
    start = 600.0 * 1000 + 10  # 10 s into a window
    allowed = [_throttle(start).allow_request(_request(1), None) for _ in range(4)]
    assert allowed == [True, True, True, False]
    assert int(client.get(f"{prefix}:throttle_user_1:{int(start // 60)}")) == 3  # the refused call is not counted
    assert _throttle(start).allow_request(_request(2), None)  # another user, another budget
    refused = _throttle(start)
    assert not refused.allow_request(_request(1), None)
    assert 50 <= refused.wait() <= 60 + 60  # after the window turns and the previous count has weighed off


def test_previous_window_weighs_until_it_slides_out(redis_path):
    start = 600.0 * 1000
    for _ in range(3):
        assert _throttle(start + 30).allow_request(_request(1), None)
    # Next window, 6 s in: the previous 3 calls still weigh 3 x 0.9 = 2.7, so one more call is too many.
    early = _throttle(start + 66)
    assert not early.allow_request(_request(1), None)
    assert 1 <= early.wait() <= 60
    # 45 s in: they weigh 3 x 0.25 = 0.75, room for two more.
    late = start + 105
    assert [_throttle(late).allow_request(_request(1), None) for _ in range(3)] == [True, True, False]


def test_unthrottled_and_anonymous_paths():
    throttle = throttling.UserRateThrottle()
    throttle.rate = None
    assert throttle.allow_request(_request(1), None)
