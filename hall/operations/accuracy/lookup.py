"""The latest forecast as issuing reads it, and each forecast recorded as it arrives.

`RecordedForecasts` is the forecast task's `LatestForecasts` (hall.operations.forecast.store):
the task puts each new forecast there as before; this one also keeps its slots in the database
(in a worker thread, off the event loop) for the scoring of forecasts, and refreshes the
accuracy gauges of /metrics. `FreshForecasts` answers issuing's `ForecastSource`: the latest
forecast's table while it is fresh (hall.operations.forecast.rules.is_stale), parsed once per
forecast.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from hall.core.estimate import ForecastTable
from hall.core.registry import HallInfo
from hall.operations.forecast import rules as forecast_rules
from hall.operations.forecast.store import Latest, LatestForecasts

from . import store

__all__ = ["RecordedForecasts", "FreshForecasts", "publish_gauges"]

log = logging.getLogger("hall.operations.accuracy")


def publish_gauges(metrics: Any, hall: HallInfo, scores: dict[str, Any]) -> None:
    """The day's scores as /metrics gauges (hall.metrics.Metrics' accuracy gauges)."""
    est = scores["estimates"]["day"]
    slots = scores["forecasts"]["day"]
    for gauge, value in ((metrics.estimate_under_p50, est["share_under_p50"]),
                         (metrics.estimate_under_p90, est["share_under_p90"]),
                         (metrics.estimate_mae, est["mean_abs_error_minutes"]),
                         (metrics.forecast_coverage, slots["band_coverage"]),
                         (metrics.forecast_median_error, slots["median_abs_error"])):
        if value is not None:
            gauge.labels(hall=hall.code).set(value)
    metrics.estimates_scored.labels(hall=hall.code).set(est["count"])


class RecordedForecasts(LatestForecasts):
    def __init__(self, state: Any) -> None:
        super().__init__()
        self.state = state
        self._writes: set[asyncio.Future[None]] = set()

    def put(self, hall_id: int, latest: Latest) -> None:
        super().put(hall_id, latest)
        hall = self.state.registry.by_id(hall_id)
        if hall is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # put outside the loop (a script): record at once
            self._record(hall, latest)
            return
        fut = loop.run_in_executor(None, self._record, hall, latest)
        self._writes.add(fut)
        fut.add_done_callback(self._writes.discard)

    def _record(self, hall: HallInfo, latest: Latest) -> None:
        st = self.state
        try:
            with st.db.write() as conn:
                store.record_forecast(conn, hall, latest.computed_at, latest.body)
            day = store.today(hall, latest.computed_at)
            with st.db.read() as conn:
                scores = store.day_accuracy(conn, hall, day, latest.computed_at)
            publish_gauges(st.metrics, hall, scores)
        except Exception:  # noqa: BLE001 - the forecast stands; only its scoring is late
            log.exception("recording the forecast of hall %s failed", hall.code)

    async def drain(self) -> None:
        """Wait for the recordings under way (tests, shutdown)."""
        if self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)


class FreshForecasts:
    """Issuing's `ForecastSource`: the latest forecast's table, None once it is stale."""

    def __init__(self, latest: LatestForecasts) -> None:
        self.latest = latest
        self._lock = threading.Lock()
        self._tables: dict[int, ForecastTable] = {}

    def table(self, hall: HallInfo, now: float) -> ForecastTable | None:
        latest = self.latest.get(hall.id)
        if latest is None:
            return None
        if forecast_rules.is_stale(max(0.0, now - latest.computed_at),
                                   forecast_rules.settings_of(hall.settings)):
            return None
        with self._lock:
            cached = self._tables.get(hall.id)
            if cached is None or cached.computed_at != latest.computed_at:
                cached = self._tables[hall.id] = ForecastTable.of(latest.computed_at, latest.body)
        return cached
