"""The event bus: how committed events reach every server process's websocket hub.

`EventBus` is a small Protocol with two implementations chosen by `make_bus(url)`:
`MemoryBus` (one process; the default) and `RedisBus` (Redis pub/sub, ONE subscription per
process, shared by all its websocket clients). Delivery is best effort: the events table is the
truth, and the hub fills any gap from it. After a Redis outage the bus calls `on_reconnect`, and
the hub catches up from the table and tells clients to resync.

Redis never sits on a request's path: `publish` queues and returns, and `link()` / `ping()`
answer from the state a background watch keeps (a silent partition is seen within
`2 × (probe_every + probe_timeout)` seconds, 3 s by default), so /readyz and the manager view never wait on Redis.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Protocol

from displays.messages import say

__all__ = ["EventBus", "BusLink", "MemoryBus", "RedisBus", "make_bus", "CHANNEL"]

log = logging.getLogger("hall.realtime.bus")

Deliver = Callable[[dict[str, Any]], None]
Reconnected = Callable[[], Awaitable[None]]

CHANNEL = "hall:events"


@dataclass(frozen=True, slots=True)
class BusLink:
    """Whether this process reaches the other processes through the bus, since when (epoch
    seconds), and why not (an exception name) when it does not."""

    connected: bool
    since: float
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"connected": self.connected, "since": self.since, "reason": self.reason}

    def view(self, tz: tzinfo) -> dict[str, Any]:
        """What a page shows: the state and its words from the catalogue (time in the hall's zone)."""
        if self.connected:
            message = say("bus_connected")
        else:
            message = say("bus_partitioned", since=datetime.fromtimestamp(self.since, tz).strftime("%H:%M:%S"))
        return {"connected": self.connected, "since": self.since, "message": message}


class EventBus(Protocol):
    async def start(self, deliver: Deliver, on_reconnect: Reconnected) -> None:
        """Begin delivering published envelopes to `deliver` (in this process's event loop)."""

    async def stop(self) -> None: ...

    async def publish(self, envelopes: list[dict[str, Any]]) -> None:
        """Send envelopes to every process; never raises (the table is the truth)."""

    async def ping(self) -> bool:
        """Whether the bus is reachable (for /readyz); answers at once, never waits on Redis."""

    def link(self) -> BusLink:
        """The link's state as the bus last saw it."""


class MemoryBus:
    """In-process delivery, in publish order."""

    def __init__(self) -> None:
        self._deliver: Deliver | None = None
        self._link = BusLink(connected=True, since=time.time())

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

    def link(self) -> BusLink:
        return self._link


class RedisBus:
    """Redis pub/sub on one channel, kept off the request path.

    `publish` only queues: a sender task publishes in order with a short timeout and, while the
    link is down or a publish fails, delivers locally (other processes catch up from the table).
    A watch pings every `probe_every` seconds; two unanswered pings mark the link down, which
    also drops the subscription (a black-holed pub/sub socket would otherwise wait forever).
    When a new subscription succeeds the bus calls `on_reconnect` and the hub fills the gap.
    """

    def __init__(
        self,
        url: str,
        channel: str = CHANNEL,
        *,
        publish_timeout: float = 0.05,
        probe_every: float = 1.0,
        probe_timeout: float = 0.5,
    ) -> None:
        import redis.asyncio as aioredis

        self.url = url
        self.channel = channel
        self.publish_timeout = publish_timeout
        self.probe_every = probe_every
        self.probe_timeout = probe_timeout
        self._redis = aioredis.from_url(url, socket_connect_timeout=probe_timeout, socket_timeout=probe_timeout)
        self._tasks: list[asyncio.Task[None]] = []
        self._deliver: Deliver | None = None
        self._outbox: deque[list[dict[str, Any]]] = deque()
        self._wake = asyncio.Event()
        self._lost = asyncio.Event()
        self._link = BusLink(connected=False, since=time.time())
        self._ever_subscribed = False

    @property
    def connected(self) -> bool:
        return self._link.connected

    def link(self) -> BusLink:
        return self._link

    async def start(self, deliver: Deliver, on_reconnect: Reconnected) -> None:
        self._deliver = deliver
        ready = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._listen(on_reconnect, ready), name="hall-redis-bus"),
            asyncio.create_task(self._send(), name="hall-redis-publish"),
            asyncio.create_task(self._watch(), name="hall-redis-watch"),
        ]
        try:
            await asyncio.wait_for(ready.wait(), 5)
        except TimeoutError:
            log.warning("Redis bus not reachable yet; events reach clients through the table poller")

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._flush_locally()
        await self._redis.aclose()

    async def publish(self, envelopes: list[dict[str, Any]]) -> None:
        if envelopes:
            self._outbox.append(envelopes)
            self._wake.set()

    async def ping(self) -> bool:
        return self._link.connected

    # --- link state --------------------------------------------------------------------------

    def _set_link(self, connected: bool, reason: str = "") -> None:
        if connected == self._link.connected:
            return
        self._link = BusLink(connected=connected, since=time.time(), reason=reason)
        if connected:
            log.info("Redis bus reachable again")
        else:
            log.warning("Redis bus unreachable (%s); delivering locally, others catch up from the table", reason)
            self._lost.set()

    async def _watch(self) -> None:
        # Two unanswered pings in a row, not one: a loaded machine may miss one, and marking the
        # link down makes every screen resync when it comes back.
        missed = 0
        while True:
            await asyncio.sleep(self.probe_every)
            try:
                async with asyncio.timeout(self.probe_timeout):
                    await self._redis.ping()
                missed = 0
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - any failure (timeout, refused) counts
                missed += 1
                if missed >= 2:
                    self._set_link(False, type(e).__name__)
            # Up again only once the subscription is back (the listener says so).

    # --- publishing --------------------------------------------------------------------------

    def _flush_locally(self) -> None:
        while self._outbox:
            self._deliver_locally(self._outbox.popleft())

    def _deliver_locally(self, envelopes: list[dict[str, Any]]) -> None:
        if self._deliver is not None:
            for env in envelopes:
                self._deliver(env)

    async def _send(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._outbox:
                if not self._link.connected:
                    self._flush_locally()
                    break
                batch: list[dict[str, Any]] = []
                while self._outbox and len(batch) < 500:
                    batch += self._outbox.popleft()
                try:
                    async with asyncio.timeout(self.publish_timeout):
                        async with self._redis.pipeline(transaction=False) as pipe:
                            for env in batch:
                                pipe.publish(self.channel, json.dumps(env, ensure_ascii=False))
                            await pipe.execute()
                except asyncio.CancelledError:
                    self._deliver_locally(batch)
                    raise
                except Exception as e:  # noqa: BLE001 - deliver locally; a duplicate is dropped by seq
                    # Other processes read it from the table; whether the link is down is the
                    # watch's call (one slow publish on a busy machine is not a partition).
                    log.warning("publish to Redis failed (%s); delivering locally only", type(e).__name__)
                    self._deliver_locally(batch)

    # --- subscription ------------------------------------------------------------------------

    async def _listen(self, on_reconnect: Reconnected, ready: asyncio.Event) -> None:
        delay = 0.2
        while True:
            self._lost.clear()
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                async with asyncio.timeout(self.probe_timeout * 2):
                    await pubsub.subscribe(self.channel)
                self._set_link(True)
                ready.set()
                delay = 0.2
                if self._ever_subscribed:
                    await on_reconnect()
                self._ever_subscribed = True
                reader = asyncio.create_task(self._read(pubsub))
                lost = asyncio.create_task(self._lost.wait())
                try:
                    done, _ = await asyncio.wait({reader, lost}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for t in (reader, lost):
                        t.cancel()
                    await asyncio.gather(reader, lost, return_exceptions=True)
                if reader in done:
                    reader.result()  # re-raises what ended the read
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - connection lost: retry with back-off
                self._set_link(False, type(e).__name__)
            finally:
                try:
                    async with asyncio.timeout(self.probe_timeout):
                        await pubsub.aclose()
                except Exception:  # noqa: BLE001 - a dead connection may not close cleanly
                    pass
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _read(self, pubsub: Any) -> None:
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


def make_bus(url: str | None, prefix: str = "hall:") -> EventBus:
    """RedisBus (channel `{prefix}events`) for a redis:// or rediss:// URL, else MemoryBus."""
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBus(url, f"{prefix}events")
    return MemoryBus()
