"""Per-device limits on issuing tickets: a fixed one-minute window per key.

In memory for one process, in Redis (INCR + EXPIRE) when HALL_REDIS_URL is set so that several
processes share one count. Redis never stalls a request: each check has a budget of tens of
milliseconds, and after a failure the limiter counts in this process's memory for `retry_after`
seconds before it tries Redis again (a limit per process while Redis is away, never none).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

__all__ = ["RateLimiter", "MemoryRateLimiter", "RedisRateLimiter"]

log = logging.getLogger("hall.security.ratelimit")


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, now: float, window: float = 60.0) -> bool:
        """Count one request at `now`; False when `key` is over `limit` in its window."""


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}

    async def hit(self, key: str, limit: int, now: float, window: float = 60.0) -> bool:
        slot = int(now // window)
        old_slot, count = self._counts.get(key, (slot, 0))
        count = count + 1 if old_slot == slot else 1
        if len(self._counts) > 100_000:
            self._counts.clear()
        self._counts[key] = (slot, count)
        return count <= limit


class RedisRateLimiter:
    """Shared counts in Redis; this process's own counts while Redis is away (see the module)."""

    def __init__(
        self,
        redis: Any,
        prefix: str = "hall:rate:",
        *,
        timeout: float = 0.05,
        retry_after: float = 2.0,
        monotonic: Any = time.monotonic,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.timeout = timeout
        self.retry_after = retry_after
        self.fallback = MemoryRateLimiter()
        self._monotonic = monotonic
        self._away_until = 0.0

    @property
    def away(self) -> bool:
        """True while checks are counted locally because Redis failed recently."""
        return self._monotonic() < self._away_until

    async def hit(self, key: str, limit: int, now: float, window: float = 60.0) -> bool:
        if self.away:
            return await self.fallback.hit(key, limit, now, window)
        slot = int(now // window)
        name = f"{self.prefix}{key}:{slot}"
        try:
            async with asyncio.timeout(self.timeout):
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.incr(name)
                    pipe.expire(name, int(window) + 5)
                    count, _ = await pipe.execute()
        except Exception as e:  # noqa: BLE001 - timeout, refused, anything: count locally
            log.warning("rate limit in Redis failed (%s); counting in this process for %.0f s",
                        type(e).__name__, self.retry_after)
            self._away_until = self._monotonic() + self.retry_after
            return await self.fallback.hit(key, limit, now, window)
        return int(count) <= limit
