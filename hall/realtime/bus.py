"""The event bus: how committed events reach every server process's websocket hub.

`EventBus` is a small Protocol with two implementations chosen by `make_bus(url)`:
`MemoryBus` (one process; the default) and `RedisBus` (Redis pub/sub, ONE subscription per
process, shared by all its websocket clients). Delivery is best effort: the events table is the
truth, and the hub fills any gap from it. After a Redis outage the bus calls `on_reconnect`, and
the hub catches up from the table and tells clients to resync.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

__all__ = ["EventBus", "MemoryBus", "RedisBus", "make_bus", "CHANNEL"]

log = logging.getLogger("hall.realtime.bus")

Deliver = Callable[[dict[str, Any]], None]
Reconnected = Callable[[], Awaitable[None]]

CHANNEL = "hall:events"


class EventBus(Protocol):
    async def start(self, deliver: Deliver, on_reconnect: Reconnected) -> None:
        """Begin delivering published envelopes to `deliver` (in this process's event loop)."""

    async def stop(self) -> None: ...

    async def publish(self, envelopes: list[dict[str, Any]]) -> None:
        """Send envelopes to every process; never raises (the table is the truth)."""

    async def ping(self) -> bool:
        """Whether the bus is reachable (for /readyz)."""


class MemoryBus:
    """In-process delivery, in publish order."""

    def __init__(self) -> None:
        self._deliver: Deliver | None = None

    async def start(self, deliver: Deliver, on_reconnect: Reconnected) -> None:
        self._deliver = deliver

    async def stop(self) -> None:
        self._deliver = None

    async def publish(self, envelopes: list[dict[str, Any]]) -> None:
        if self._deliver is not None:
            for env in envelopes:
                self._deliver(env)

    async def ping(self) -> bool:
        return True


class RedisBus:
    """Redis pub/sub on one channel; reconnects with back-off and reports reconnection."""

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        import redis.asyncio as aioredis

        self.url = url
        self.channel = channel
        self._redis = aioredis.from_url(url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=10)
        self._task: asyncio.Task[None] | None = None
        self._deliver: Deliver | None = None
        self.connected = False

    async def start(self, deliver: Deliver, on_reconnect: Reconnected) -> None:
        self._deliver = deliver
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._listen(on_reconnect, ready), name="hall-redis-bus")
        try:
            await asyncio.wait_for(ready.wait(), 5)
        except TimeoutError:
            log.warning("Redis bus not reachable yet; events reach clients through the table poller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self._redis.aclose()

    async def publish(self, envelopes: list[dict[str, Any]]) -> None:
        try:
            if len(envelopes) == 1:
                await self._redis.publish(self.channel, json.dumps(envelopes[0], ensure_ascii=False))
            else:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for env in envelopes:
                        pipe.publish(self.channel, json.dumps(env, ensure_ascii=False))
                    await pipe.execute()
        except Exception as e:  # noqa: BLE001 - any Redis failure: deliver locally, others catch up
            log.warning("publish to Redis failed (%s); delivering locally only", e)
            if self._deliver is not None:
                for env in envelopes:
                    self._deliver(env)

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except Exception:  # noqa: BLE001
            return False

    async def _listen(self, on_reconnect: Reconnected, ready: asyncio.Event) -> None:
        delay = 0.2
        first = True
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.connected = True
                ready.set()
                delay = 0.2
                if not first:
                    await on_reconnect()
                first = False
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    try:
                        env = json.loads(message["data"])
                    except (ValueError, TypeError):
                        log.warning("dropped a malformed bus message")
                        continue
                    if self._deliver is not None:
                        self._deliver(env)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - connection lost: retry with back-off
                if self.connected:
                    log.warning("Redis bus lost (%s); reconnecting", e)
                self.connected = False
                first = first and not ready.is_set()
            finally:
                try:
                    await pubsub.aclose()
                except Exception:  # noqa: BLE001
                    pass
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def make_bus(url: str | None, prefix: str = "hall:") -> EventBus:
    """RedisBus (channel `{prefix}events`) for a redis:// or rediss:// URL, else MemoryBus."""
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBus(url, f"{prefix}events")
    return MemoryBus()
