"""API throttles: DRF's per-user and per-address rates (``API_THROTTLE_USER`` / ``API_THROTTLE_ANON``), counted in
one Redis round trip a request when the cache is Redis (production); DRF's own history list otherwise (tests,
``make run``).

DRF's throttle keeps a list of timestamps per user in the cache and reads and rewrites it on every request: two
round trips, each building a Redis client, and the whole list (up to 1200 entries at 1200/min) pickled both ways,
about 1.2 ms of CPU a request, several percent of an account list call (docs/api.md, Benchmark). Here the window
is a sliding window of two fixed-window counters: the current window of ``duration`` seconds plus the previous
one weighted by how much of it still overlaps the last ``duration`` seconds, bumped and read in one pipeline.
"""

import functools

from django.conf import settings
from django.core.cache import cache
from rest_framework import throttling


@functools.cache
def _redis():
    """This process's client of the cache's Redis (its own connection pool; redis-py renews it after a fork)."""
    import redis

    return redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])


def _uses_redis() -> bool:
    return settings.CACHES["default"]["BACKEND"].endswith(".RedisCache")


class _CountedInRedis:
    """``allow_request`` and ``wait`` for a ``SimpleRateThrottle``: same scope, rate, cache key and 429 with
    ``Retry-After``. A refused request does not count, as in DRF."""

    def allow_request(self, request, view):
        if self.rate is None or not _uses_redis():
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now, limit, span = self.timer(), self.num_requests, self.duration
        window = int(now // span)
        key = cache.make_key(self.key)
        current, previous = f"{key}:{window}", f"{key}:{window - 1}"
        client = _redis()
        pipe = client.pipeline(transaction=False)
        pipe.incr(current)
        pipe.expire(current, 2 * span)
        pipe.get(previous)
        count, _, before = pipe.execute()
        before, into = int(before or 0), now / span - window  # into: the part of the current window gone by
        if before * (1 - into) + count <= limit + 1e-9:  # (float rounding)
            return True
        client.decr(current)
        count -= 1
        # Seconds until one more request fits: in this window while the previous one's weight decays, else after
        # the window turns (this window's count becomes the weighted one).
        if count + 1 <= limit:
            self._wait = span * (1 - (limit - count - 1) / before - into)
        elif count == 0:  # a rate of 0
            self._wait = span
        else:
            self._wait = span * (1 - into) + span * (1 - (limit - 1) / count)
        return False

    def wait(self):
        if self.rate is None or not _uses_redis():
            return super().wait()
        return max(self._wait, 1.0)


class UserRateThrottle(_CountedInRedis, throttling.UserRateThrottle):
    """Per token/user: ``API_THROTTLE_USER``."""


class AnonRateThrottle(_CountedInRedis, throttling.AnonRateThrottle):
    """Per anonymous address: ``API_THROTTLE_ANON``."""
