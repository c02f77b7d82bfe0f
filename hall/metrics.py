"""Prometheus metrics of one app instance (its own registry: no module-level collectors), and
the garbage-collector settings of a long-lived server with its pause distribution."""

from __future__ import annotations

import gc
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["Metrics", "CONTENT_TYPE_LATEST", "GcPauses", "SERVER_GC_THRESHOLDS"]

# CPython's defaults (700, 10, 10) suit short scripts. A server holding ~500k long-lived objects
# (1,000 screens) ran a full collection over all of them every ~25 s, a 220–255 ms pause of the
# whole loop. Young collections every 20,000 allocations cost ~1 ms each; full ones become rare,
# and after gc.freeze() they no longer walk what start-up built.
SERVER_GC_THRESHOLDS = (20_000, 20, 50)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.issued = Counter("hall_tickets_issued", "Tickets issued", ["hall", "category"], registry=r)
        self.calls = Counter("hall_calls", "Tickets called", ["hall", "window"], registry=r)
        self.finished = Counter("hall_tickets_finished", "Tickets finished", ["hall"], registry=r)
        self.wait = Histogram(
            "hall_wait_seconds", "Wait from queue entry to call", ["hall"], registry=r,
            buckets=(60, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200),
        )
        self.ws_clients = Gauge("hall_websocket_clients", "Connected websocket clients", registry=r)
        self.ws_dropped = Counter("hall_websocket_dropped", "Clients dropped for a full queue", registry=r)
        self.bus_lag = Histogram(
            "hall_event_bus_lag_seconds", "Commit to delivery by the bus", registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.requests = Counter("hall_http_errors", "API answers with an error", ["status"], registry=r)
        self.gc_pause = Histogram(
            "hall_gc_pause_seconds", "Garbage collection pauses of this process", ["generation"], registry=r,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
        )

        # accuracy of today's estimates and forecasts (hall.operations.accuracy), refreshed with
        # each forecast: shares and errors, not counters, as each forecast rescoring the day
        self.estimate_under_p50 = Gauge(
            "hall_estimate_share_under_p50", "Today's real waits at or under the p50 given at issue", ["hall"], registry=r)
        self.estimate_under_p90 = Gauge(
            "hall_estimate_share_under_p90", "Today's real waits under the p90 given at issue (ties half; no-wait promises apart)", ["hall"], registry=r)
        self.estimate_mae = Gauge(
            "hall_estimate_mean_abs_error_minutes", "Today's mean absolute error of the p50 given", ["hall"], registry=r)
        self.estimates_scored = Gauge("hall_estimates_scored", "Today's estimates scored against a call", ["hall"], registry=r)
        self.forecast_coverage = Gauge(
            "hall_forecast_band_coverage", "Share of today's forecast slots whose p10–p90 band (80% central) held the waiting count",
            ["hall"], registry=r)
        self.forecast_median_error = Gauge(
            "hall_forecast_median_abs_error", "Mean absolute error of the forecast median of waiting people", ["hall"],
            registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class GcPauses:
    """Tunes the collector for a long-lived server and times every collection into `histogram`.

    `start()` after start-up: collects once, freezes what survived (start-up's objects stay for
    the process's life; full collections need not walk them again) and sets
    SERVER_GC_THRESHOLDS. `stop()` puts back the previous thresholds, unfreezes and removes the
    callback, so that several apps in one process (tests) leave no trace.
    """

    def __init__(self, histogram: Histogram) -> None:
        self._children = [histogram.labels(generation=str(g)) for g in range(3)]
        self._started = 0.0
        self._old: tuple[int, int, int] | None = None

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started:
            self._children[min(int(info.get("generation", 2)), 2)].observe(time.perf_counter() - self._started)
            self._started = 0.0

    def start(self) -> None:
        gc.collect()
        gc.freeze()
        t = gc.get_threshold()
        self._old = (t[0], t[1], t[2])
        gc.set_threshold(*SERVER_GC_THRESHOLDS)
        gc.callbacks.append(self._on_gc)

    def stop(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._old is not None:
            gc.set_threshold(*self._old)
            self._old = None
        gc.unfreeze()
