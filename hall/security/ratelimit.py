"""Per-device limits on issuing tickets: a fixed one-minute window per key.

In memory for one process, in Redis (INCR + EXPIRE) when HALL_REDIS_URL is set so that several
processes share one count. If Redis fails, the limit is not enforced (a kiosk keeps working).
"""

from __future__ import annotations

import logging
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
    def __init__(self, redis: Any, prefix: str = "hall:rate:") -> None:
        self.redis = redis
        self.prefix = prefix

    async def hit(self, key: str, limit: int, now: float, window: float = 60.0) -> bool:
        slot = int(now // window)
        name = f"{self.prefix}{key}:{slot}"
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, int(window) + 5)
                count, _ = await pipe.execute()
        except Exception as e:  # noqa: BLE001 - fail open
            log.warning("rate limit check failed (%s); allowing", e)
            return True
        return int(count) <= limit
