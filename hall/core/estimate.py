"""The estimate a ticket is given at issue: its p50/p90 wait looked up in the hall's latest live
forecast, or the one analytic estimate (hall.core.queries.estimate) when there is no fresh one.

The forecast is never run here: it is made every few minutes off the request path
(hall.operations.forecast); issuing only reads its quarter-hour table, a lookup by the ticket's
zone and the slot it joins in. The forecast's figures for a slot are the waits of the people its
replications had join the zone's queues in that quarter hour, so they already hold what the
analytic estimate cannot see: people still to come with a higher priority, windows going to
lunch, the surge building. The ticket's position enters through its zone's queue: a ticket
joining a queue much longer (or shorter) than the forecast's median for the moment has its
figures scaled by the ratio (bounded, see POSITION_BOUNDS), as a wait grows with the people
ahead of it.

Every estimate given is stored (`ticket_estimates`) with its source, for the scoring of
estimates (hall.operations.accuracy).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection

from hall.core.queries import WaitEstimate, waiting_counts
from hall.core.registry import HallInfo
from hall.store.fastsql import Fast
from hall.store.models import TicketEstimate, table

__all__ = ["SOURCE_FORECAST", "SOURCE_ANALYTIC", "SLOT_SECONDS", "ForecastSlot", "ForecastTable",
           "ForecastSource", "Given", "given_estimate", "give_at_issue"]

SOURCE_FORECAST = "forecast"
SOURCE_ANALYTIC = "analytic"
SLOT_SECONDS = 900.0  # the forecast's quarter hours (sim.forecast.SLOT_SECONDS)
# How far the zone's queue may move the forecast's figures: beyond these the forecast no longer
# describes the hall (then it is also about to be recomputed).
POSITION_BOUNDS = (0.5, 2.0)

_INSERT = Fast(table(TicketEstimate).insert())


@dataclass(frozen=True, slots=True)
class ForecastSlot:
    at: float  # epoch of the slot's start
    waiting_p50: float | None  # people waiting in the zone at the slot's start (median)
    p50_minutes: float | None  # the wait of a person joining in the slot (median, 90th pct)
    p90_minutes: float | None


@dataclass(frozen=True, slots=True)
class ForecastTable:
    """One forecast's per-zone quarter hours, as the lookup needs them."""

    computed_at: float
    zones: Mapping[str, Sequence[ForecastSlot]]

    @classmethod
    def of(cls, computed_at: float, body: Mapping[str, Any]) -> ForecastTable:
        """From a forecast's JSON (hall.operations.forecast.rules.forecast_json)."""
        zones: dict[str, tuple[ForecastSlot, ...]] = {}
        for z in body.get("zones") or ():
            zones[str(z["zone"])] = tuple(
                ForecastSlot(float(s["at"]), (s.get("waiting") or {}).get("p50"),
                             s.get("person_p50_minutes"), s.get("person_p90_minutes"))
                for s in z.get("slots") or ())
        return cls(computed_at, zones)

    def slot(self, zone: str, at: float) -> ForecastSlot | None:
        for s in self.zones.get(zone, ()):
            if s.at <= at < s.at + SLOT_SECONDS:
                return s
        return None


class ForecastSource(Protocol):
    """Where issuing finds the hall's latest forecast: None when there is none or it is stale."""

    def table(self, hall: HallInfo, now: float) -> ForecastTable | None: ...


@dataclass(frozen=True, slots=True)
class Given:
    """The estimate given: the analytic one's `ahead` and `state`, the source's figures."""

    ahead: int
    p50_minutes: float | None
    p90_minutes: float | None
    state: str
    source: str
    forecast_at: float | None = None
    next_open_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ahead": self.ahead, "p50_minutes": self.p50_minutes,
                               "p90_minutes": self.p90_minutes, "state": self.state,
                               "source": self.source}
        if self.next_open_at is not None:
            out["next_open_at"] = self.next_open_at
        return out


def _analytic(est: WaitEstimate) -> Given:
    return Given(est.ahead, est.p50_minutes, est.p90_minutes, est.state, SOURCE_ANALYTIC,
                 None, est.next_open_at)


def position_factor(zone_waiting: int, forecast_waiting: float | None) -> float:
    """How much longer (or shorter) the zone's queue is than the forecast's median, bounded."""
    if forecast_waiting is None or not math.isfinite(forecast_waiting):
        return 1.0
    ratio = (zone_waiting + 1.0) / (forecast_waiting + 1.0)
    return min(max(ratio, POSITION_BOUNDS[0]), POSITION_BOUNDS[1])


def given_estimate(est: WaitEstimate, zone: str, now: float, zone_waiting: int,
                   forecast: ForecastTable | None) -> Given:
    """The forecast's figures for a person joining `zone` at `now` (scaled by the zone's queue:
    `zone_waiting` people waiting there, this ticket included), else the analytic estimate. A
    ticket no open window serves keeps the analytic answer (`no_window`): the forecast cannot
    say when someone signs in."""
    if forecast is None or est.state != "ok":
        return _analytic(est)
    s = forecast.slot(zone, now)
    if s is None or s.p50_minutes is None or s.p90_minutes is None:
        return _analytic(est)
    # the slot's start may lie before `now`; its waiting band is the queue at that start, which
    # the slot's joiners found (a median over replications: what this ticket is compared with)
    k = position_factor(max(0, zone_waiting - 1), s.waiting_p50)
    p50 = round(float(s.p50_minutes) * k, 1)
    p90 = round(max(float(s.p90_minutes) * k, p50), 1)
    return Given(est.ahead, p50, p90, est.state, SOURCE_FORECAST, forecast.computed_at)


def give_at_issue(conn: Connection, hall: HallInfo, ticket_id: int, day: str, category: str,
                  now: float, est: WaitEstimate, forecasts: ForecastSource | None) -> Given:
    """The estimate a ticket just issued is given, kept with it (one insert in the issuing
    transaction; the zone's waiting count is read only when there is a forecast to scale)."""
    table_ = forecasts.table(hall, now) if forecasts is not None else None
    zone = hall.zone_of(category)
    zone_waiting = 0
    if table_ is not None:
        zone_waiting = sum(n for (c, _), n in waiting_counts(conn, hall.id).items()
                           if hall.zone_of(c) == zone)
    given = given_estimate(est, zone, now, zone_waiting, table_)
    _INSERT.run(conn, {"ticket_id": ticket_id, "hall_id": hall.id, "day": day, "category": category,
                       "issued_at": now, "p50_minutes": given.p50_minutes,
                       "p90_minutes": given.p90_minutes, "source": given.source,
                       "forecast_at": given.forecast_at})
    return given
