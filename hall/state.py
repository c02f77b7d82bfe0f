"""What the app's lifespan builds and every handler reads (`request.state.hall`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.requests import HTTPConnection

from hall.core.registry import HallInfo, HallRegistry
from hall.metrics import Metrics
from hall.realtime.bus import EventBus
from hall.realtime.hub import Hub
from hall.security.auth import Principal, TokenCache, resolve_token
from hall.security.crypto import PersonalData
from hall.security.ratelimit import RateLimiter
from hall.security.session import check_csrf, request_token
from hall.settings import Settings
from hall.store.database import Database

__all__ = ["HallState", "state_of", "principal_of", "hall_of"]


@dataclass
class HallState:
    settings: Settings
    db: Database
    registry: HallRegistry
    bus: EventBus
    hub: Hub
    metrics: Metrics
    crypto: PersonalData
    limiter: RateLimiter
    tokens: TokenCache
    clock: Any = None  # queueing.clock.Clock; SystemClock unless a test passes its own
    redis: Any = None  # redis.asyncio client when HALL_REDIS_URL is set (rate limits)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    async def publish(self, envelopes: list[dict[str, Any]]) -> None:
        if envelopes:
            await self.bus.publish(envelopes)


def state_of(conn: HTTPConnection) -> HallState:
    return conn.state.hall


async def principal_of(conn: HTTPConnection) -> Principal | None:
    """The caller, or None without a (valid) token: a bearer header, the pages' session cookie
    (a write with it needs its CSRF header: ApiError 403 `csrf_failed`), or `?token=` for what
    cannot send a header (hall.security.session)."""
    token, source = request_token(conn)
    if not token:
        return None
    if source == "cookie":
        check_csrf(conn)
    st = state_of(conn)
    hit, principal = st.tokens.get(token)
    if hit:
        return principal

    def lookup() -> Principal | None:
        with st.db.read() as c:
            return resolve_token(c, token)

    principal = await anyio.to_thread.run_sync(lookup)
    st.tokens.put(token, principal)
    return principal


async def hall_of(conn: HTTPConnection, code: str) -> HallInfo:
    """The hall named in the path; ApiError 404 when unknown."""
    st = state_of(conn)
    info = st.registry.cached(code)
    if info is not None:
        return info
    return await anyio.to_thread.run_sync(st.registry.get, code)
