"""Prometheus metrics of one app instance (its own registry: no module-level collectors)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["Metrics", "CONTENT_TYPE_LATEST"]


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

    def render(self) -> bytes:
        return generate_latest(self.registry)
