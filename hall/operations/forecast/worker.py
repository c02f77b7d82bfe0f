"""Recomputing each hall's forecast every few minutes, never on the request path.

The state is read in a worker thread (a short read transaction); the simulation runs in one
worker process, so it holds neither the event loop nor the GIL the server's calls need, and
takes at most one core however many halls there are.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Mapping
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import replace
from typing import Any

from hall.core.registry import HallInfo
from hall.operations.threads import finish_in_thread
from queueing.layout import HallLayout
from sim.advice import advise
from sim.demand import parse_demand
from sim.forecast import HallState, forecast

from . import rules
from .store import Latest, LatestForecasts, read_inputs

__all__ = ["ForecastLoop", "compute", "worker_pool"]

log = logging.getLogger("hall.operations.forecast")


def compute(layout: HallLayout, demand_raw: Mapping[str, Any], date: str, state: HallState,
            day_start: float, cfg: dict[str, Any], computed_at: float) -> dict[str, Any]:
    """One forecast as JSON (runs in the worker process). The profile crosses as its table (its
    distributions are closures, which do not pickle) and is validated again here."""
    t = time.perf_counter()
    demand = replace(parse_demand(demand_raw, layout), date=dt.date.fromisoformat(date))
    target = float(cfg["target"])
    f = forecast(layout, demand, state, hours=float(cfg["hours"]),
                 replications=int(cfg["replications"]), target=target)
    took = time.perf_counter() - t
    names = {z.code: z.name for z in layout.zones}
    t = time.perf_counter()
    try:
        advice = rules.advice_json(
            advise(layout, demand, state, f.at_risk[:int(cfg["advice_hours"])],
                   replications=int(cfg["advice_replications"]), target=target),
            layout, computed_at, names)
    except Exception:  # noqa: BLE001 - the forecast stands without its advice
        log.exception("advice failed")
        advice = []
    body = rules.forecast_json(f, day_start, computed_at, took, names, advice)
    body["advice_took_seconds"] = round(time.perf_counter() - t, 3)
    return body


WORKER_NICENESS = 10


def _lower_priority() -> None:
    """The worker yields the CPU to the server: a call never waits behind a simulation."""
    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # not permitted here: the worker still runs, at normal priority
        pass


def worker_pool() -> ProcessPoolExecutor:
    # a fork of a threaded server is unsafe: a fork server (or spawn) starts clean
    methods = multiprocessing.get_all_start_methods()
    method = "forkserver" if "forkserver" in methods and sys.platform != "darwin" else "spawn"
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context(method),
                               initializer=_lower_priority)


def stop_pool(executor: Executor) -> None:
    """Stop the worker without waiting for a simulation in flight: a forecast is disposable, and a
    worker left running outlives the server that started it (Python 3.14 has
    `terminate_workers`; before it, the pool's own process table)."""
    table: Mapping[int, Any] = getattr(executor, "_processes", None) or {}
    processes = list(table.values())
    executor.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()


class ForecastLoop:
    """Every `interval` seconds (or a hall's own `forecast.interval_seconds`), each hall's
    forecast; `once()` recomputes now (tests, the CLI)."""

    def __init__(self, state: Any, latest: LatestForecasts, interval: float | None = None,
                 executor: Executor | None = None, first_delay: float = 10.0) -> None:
        self.state = state
        self.latest = latest
        self.interval = interval
        self.executor = executor
        # the first round waits a little: a server starting up (or a short test) has other work
        self.first_delay = first_delay
        self._running: dict[int, asyncio.Task[Latest | None]] = {}

    async def hall_once(self, hall: HallInfo, now: float | None = None) -> Latest | None:
        st = self.state
        t = float(st.clock.now()) if now is None else now
        cfg = rules.settings_of(hall.settings)
        layout = rules.forecast_layout(hall.layout)

        def read() -> Any:
            with st.db.read() as conn:
                return read_inputs(conn, hall, t, cfg, layout)

        try:
            inputs = await finish_in_thread(read)
            if self.executor is None:
                self.executor = worker_pool()
            body = await asyncio.get_running_loop().run_in_executor(
                self.executor, compute, layout, dict(inputs.demand.source),
                inputs.demand.date.isoformat(), inputs.state, inputs.day_start, cfg, t)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failed forecast leaves the last one, marked stale
            log.exception("forecast for hall %s failed", hall.code)
            return None
        latest = Latest(t, body)
        self.latest.put(hall.id, latest)
        return latest

    def running(self, hall_id: int) -> bool:
        task = self._running.get(hall_id)
        return task is not None and not task.done()

    def request(self, hall: HallInfo) -> bool:
        """Recompute `hall`'s forecast now, in the background; False if one is already running
        (a manager pressing twice does not start two)."""
        if self.running(hall.id):
            return False
        self._running[hall.id] = asyncio.get_running_loop().create_task(
            self.hall_once(hall), name=f"hall-forecast-{hall.code}")
        return True

    async def once(self, now: float | None = None) -> None:
        for hall in list(self.state.registry.all()):
            await self.hall_once(hall, now)

    async def run(self) -> None:
        try:
            await asyncio.sleep(self.first_delay)
            while True:
                await self.once()
                await asyncio.sleep(self.interval or float(rules.DEFAULTS["interval_seconds"]))
        finally:
            if self.executor is not None:
                stop_pool(self.executor)
