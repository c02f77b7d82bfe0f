"""The forecast's inputs read from the hall (one read transaction) and its latest result.

The latest forecast is kept in this process's memory: it is recomputed every few minutes, a
restart loses at most one interval, and nothing the hall accepted depends on it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from sqlalchemy import Connection, select

from hall.core import queries
from hall.core.registry import HallInfo
from hall.store.models import TicketRow, WindowRow
from queueing.layout import HallLayout
from queueing.tickets import TicketStatus
from sim.demand import Demand
from sim.forecast import HallState

from . import rules

__all__ = ["Inputs", "day_start", "read_inputs", "paused_window_numbers", "Latest", "LatestForecasts"]

RECENT_SECONDS = 3600.0  # the recent rate, for a hall without a profile


@dataclass(frozen=True, slots=True)
class Inputs:
    state: HallState
    demand: Demand
    day_start: float


def day_start(hall: HallInfo, now: float) -> tuple[str, float]:
    """The hall-local day of `now` and the epoch of its midnight."""
    local = dt.datetime.fromtimestamp(now, hall.tz)
    midnight = dt.datetime.combine(local.date(), dt.time(0, 0), tzinfo=hall.tz)
    return local.date().isoformat(), midnight.timestamp()


def read_inputs(conn: Connection, hall: HallInfo, now: float, cfg: Mapping[str, Any],
                layout: HallLayout | None = None) -> Inputs:
    """The hall's state and demand; `layout`: the one simulated (rules.forecast_layout)."""
    layout = layout if layout is not None else rules.forecast_layout(hall.layout)
    day, start = day_start(hall, now)
    cols = (TicketRow.category, TicketRow.queue_key, TicketRow.queue_class, TicketRow.priority,
            TicketRow.issued_at, TicketRow.wait_origin, TicketRow.called_at, TicketRow.window)
    waiting = [dict(r._mapping) for r in conn.execute(
        select(*cols).where(TicketRow.hall_id == hall.id, TicketRow.status == TicketStatus.WAITING))]
    serving = [dict(r._mapping) for r in conn.execute(
        select(*cols).where(TicketRow.hall_id == hall.id, TicketRow.window.is_not(None),
                            TicketRow.status.in_([TicketStatus.CALLED, TicketStatus.SERVING])))]
    codes = [c.code for c in layout.categories]
    arrived = {c: queries.issued_today(conn, hall, day, c) for c in codes}
    within = layout.rules.service_level_minutes * 60.0
    sl = queries.service_level(conn, hall, day, start, within)
    counted = sl.called + sl.abandoned
    met = round((sl.share or 0.0) * counted)
    state = rules.hall_state(now, start, waiting, serving, queries.open_window_numbers(conn, hall.id),
                             arrived, (met, counted), paused_window_numbers(conn, hall.id))
    recent = queries.recent_arrivals(conn, hall.id, now - RECENT_SECONDS)
    per_hour = {c: n * 3600.0 / RECENT_SECONDS for c, n in recent.items()}
    service: dict[str, float] = {}
    for c in codes:
        samples = queries.recent_service_minutes(conn, hall.id, [c], now)
        if samples:
            service[c] = fmean(samples)
    demand = rules.demand_for(layout, cfg, dt.date.fromisoformat(day), per_hour, service)
    return Inputs(state, demand, start)


def paused_window_numbers(conn: Connection, hall_id: int) -> frozenset[int]:
    """Windows whose clerk is signed in and paused: a resume opens them (潮汐 advice)."""
    return frozenset(int(n) for n in conn.execute(
        select(WindowRow.number).where(WindowRow.hall_id == hall_id, WindowRow.active.is_(True),
                                       WindowRow.paused.is_(True),
                                       WindowRow.staff_user_id.is_not(None))).scalars())


@dataclass(frozen=True, slots=True)
class Latest:
    computed_at: float
    body: dict[str, Any]


class LatestForecasts:
    """The latest forecast per hall id, shared by the worker task and the API handlers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_hall: dict[int, Latest] = {}

    def put(self, hall_id: int, latest: Latest) -> None:
        with self._lock:
            self._by_hall[hall_id] = latest

    def get(self, hall_id: int) -> Latest | None:
        with self._lock:
            return self._by_hall.get(hall_id)
