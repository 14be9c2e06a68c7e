"""Scoped API throttles, counted in one round trip to Redis.

DRF's ScopedRateThrottle keeps, per account and scope, the list of its recent request times in the
cache: a read and a write on every throttled request (two round trips to Redis, a pickled list that
grows with the rate), and two processes that read the same list at once both let their request
through. This throttle keeps the same scopes, rates (settings.REST_FRAMEWORK, `THROTTLE_*`), keys
(per account, per address when anonymous) and 429 answer with Retry-After, but counts each account's
requests in a fixed window (the rate's period: a minute for "60/minute"): INCR and EXPIRE sent
together, one round trip, and atomic, so the limit holds across every worker process. A fixed window
lets a client that waits for a window's last second send its allowance twice in quick succession
(120 in a few seconds at 60/minute), never more; the limits are there against runaway clients and
abuse, where that is enough.

Without REDIS_URL (the embedded mode, one process) the counts live in the local-memory cache.
"""

from __future__ import annotations

from functools import cache as once

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import ScopedRateThrottle

KEY_PREFIX = "rapport:throttle:"


@once
def _redis() -> redis.Redis:
    """This process's client (a connection pool shared by its threads), on the cache's Redis database."""
    return redis.Redis.from_url(settings.REDIS_URL)


def count_request(key: str, window_seconds: int) -> int:
    """Count one more request under `key` and return the count; the key expires with its window."""
    if settings.REDIS_URL:
        pipe = _redis().pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, window_seconds + 1)
        count, _ = pipe.execute()
        return count
    cache.add(key, 0, timeout=window_seconds + 1)
    return cache.incr(key)


class ScopedCountThrottle(ScopedRateThrottle):
    """ScopedRateThrottle's scopes, rates, keys and answer; counted by `count_request` (above)."""

    def allow_request(self, request, view) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True  # views without a throttle_scope are not throttled
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.seconds_left = self.duration - (now - window * self.duration)
        return count_request(f"{KEY_PREFIX}{self.key}:{window}", self.duration) <= self.num_requests

    def wait(self) -> float:
        return self.seconds_left
