"""Per-site politeness for fetches, kept in Redis so every worker on every machine agrees:
at most N downloads at once per site, and a pause for a site that is throttling us."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from dramatiq.rate_limits import ConcurrentRateLimiter
from dramatiq.rate_limits.backends import RedisBackend

from flashflow_core.ops import redis_keys


class SiteLimits:
    """Concurrency limit and throttle pauses per site."""

    def __init__(self, client: redis.Redis, per_site: int, slot_ttl_ms: int) -> None:
        self.client = client
        self.per_site = per_site
        self.slot_ttl_ms = slot_ttl_ms  # a slot held by a worker that died is freed after this
        self.backend = RedisBackend(client=client)

    def paused_for(self, site: str) -> float:
        """Seconds left on the site's pause (0 when not paused)."""
        ttl = self.client.pttl(redis_keys.site_paused(site))
        return max(ttl, 0) / 1000

    def pause(self, site: str, seconds: float) -> None:
        """Stop fetching from `site` for `seconds` (extends, never shortens, a pause; atomic)."""
        key = redis_keys.site_paused(site)
        ms = max(int(seconds * 1000), 1)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.set(key, str(time.time()), px=ms, nx=True)
            pipe.pexpire(key, ms, gt=True)
            pipe.execute()

    @contextmanager
    def slot(self, site: str) -> Iterator[bool]:
        """Hold one of the site's download slots (Dramatiq's concurrent rate limiter on Redis);
        yields False when all are taken."""
        limiter = ConcurrentRateLimiter(self.backend, redis_keys.site_slots(site),
                                        limit=self.per_site, ttl=self.slot_ttl_ms)
        with limiter.acquire(raise_on_failure=False) as acquired:
            yield acquired
