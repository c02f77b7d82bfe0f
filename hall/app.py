"""The app factory: `create_app(settings=None, ...)` builds the Starlette app of one server
process. Everything it needs is made in the lifespan and handed to handlers as
`request.state.hall` (hall.state.HallState); nothing lives in module globals."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware

from hall.core.daily import close_day, nightly
from hall.core.halls import import_layout
from hall.core.presence import presence_watch
from hall.core.registry import HallRegistry
from hall.http.errors import exception_handlers
from hall.http.routes import all_routes, edge_middleware
from hall.metrics import GcPauses, Metrics
from hall.operations import ReplicaGuard, start_background
from hall.realtime.bus import EventBus, make_bus
from hall.realtime.hub import Hub
from hall.security import logredact
from hall.security.auth import TokenCache
from hall.security.crypto import PersonalData
from hall.security.ratelimit import MemoryRateLimiter, RedisRateLimiter
from hall.settings import Settings, load_settings
from hall.state import HallState
from hall.store.database import Database
from hall.store.migrate import upgrade
from queueing.clock import Clock, SystemClock
from queueing.layout import load_layout

__all__ = ["create_app"]

log = logging.getLogger("hall.app")


def create_app(
    settings: Settings | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    bus: EventBus | None = None,
    migrate: bool = True,
    poll_interval: float = 1.0,
    clock: Clock | None = None,
) -> Starlette:
    """Build the app. `settings` default to `load_settings(environ)`; `bus` overrides the one
    HALL_REDIS_URL selects; `migrate=False` skips `alembic upgrade head` at start; `clock`
    (default SystemClock) dates every write, so tests can cross midnight."""
    logredact.install()  # before the first request: the access log never holds a token

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        s = settings or load_settings(environ)
        the_clock = clock or SystemClock()
        if s.database_url.startswith("sqlite"):
            s.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(s.database_url, synchronous=s.sqlite_synchronous, pool_size=s.db_pool)
        if migrate:
            await anyio.to_thread.run_sync(upgrade, db)
        if s.layout:
            layout = load_layout(s.layout)

            def _import() -> None:
                with db.write() as conn:
                    import_layout(conn, layout, now=the_clock.now())

            await anyio.to_thread.run_sync(_import)
        await anyio.to_thread.run_sync(db.analyze)  # after imports; and at each day start below
        registry = HallRegistry(db)
        await anyio.to_thread.run_sync(registry.refresh)
        metrics = Metrics()
        redis = None
        if s.redis_url:
            import redis.asyncio as aioredis

            redis = aioredis.from_url(s.redis_url, socket_connect_timeout=2, socket_timeout=5)
        the_bus = bus or make_bus(s.redis_url, s.redis_prefix)
        hub = Hub(
            db, registry, poll_interval=poll_interval,
            on_lag=metrics.bus_lag.observe, on_clients=lambda n: metrics.ws_clients.set(n),
            coalesce=s.ws_coalesce_ms / 1000,
        )
        state = HallState(
            settings=s, db=db, registry=registry, bus=the_bus, hub=hub, metrics=metrics,
            crypto=PersonalData(s.secret_key),
            limiter=RedisRateLimiter(redis, f"{s.redis_prefix}rate:") if redis is not None else MemoryRateLimiter(),
            tokens=TokenCache(), redis=redis, clock=the_clock,
        )
        await hub.start()

        async def reconnected() -> None:
            await hub.catch_up(resync=True)

        await the_bus.start(hub.deliver, reconnected)
        # Leftovers of earlier days (the server was down at night) are closed now.
        for h in registry.all():
            n, envs = await anyio.to_thread.run_sync(partial(close_day, db, h, now=state.clock.now()))
            await state.publish(envs)
            if n:
                log.info("closed %d tickets left open from earlier days in %s", n, h.code)
        state.tasks = list(await start_background(state, app))
        state.tasks.append(asyncio.create_task(nightly(state), name="hall-nightly-close"))
        state.tasks.append(asyncio.create_task(presence_watch(state), name="hall-presence"))
        state.tasks.append(asyncio.create_task(_analyze_at_day_start(state), name="hall-analyze"))
        app.state.hall = state  # for tests and embedding code; handlers use request.state.hall
        gc_pauses = GcPauses(metrics.gc_pause)
        gc_pauses.start()  # last: what start-up built is frozen out of every later collection
        try:
            yield {"hall": state}
        finally:
            gc_pauses.stop()
            for t in state.tasks:
                t.cancel()
            for t in state.tasks:
                try:
                    await t
                except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down
                    pass
            await the_bus.stop()
            await hub.stop()
            if redis is not None:
                await redis.aclose()
            await anyio.to_thread.run_sync(lambda: db.dispose(wait=5.0))

    # ReplicaGuard: writes here to a hall run by its own site server travel to it or are refused.
    return Starlette(routes=all_routes(), lifespan=lifespan, exception_handlers=exception_handlers,
                     middleware=[*edge_middleware(), Middleware(ReplicaGuard)])


# Before the halls open: the night's close has run, the day's queue is empty.
_ANALYZE_AT = time(6, 0)


async def _analyze_at_day_start(state: HallState) -> None:
    """Refresh the database statistics at _ANALYZE_AT hall-local time, every day."""
    while True:
        halls = state.registry.all()
        tz = halls[0].tz if halls else ZoneInfo("Asia/Shanghai")
        now = datetime.fromtimestamp(state.clock.now(), tz)
        at = datetime.combine(now.date(), _ANALYZE_AT, tz)
        if at <= now:
            at += timedelta(days=1)
        await asyncio.sleep((at - now).total_seconds())
        try:
            await anyio.to_thread.run_sync(state.db.analyze)
        except Exception:  # noqa: BLE001 - statistics can wait for tomorrow
            log.exception("ANALYZE at day start failed")
