"""The wait estimate every surface gives a waiting ticket (issue, kiosk, progress page, staff
view): its p50/p90 looked up in the hall's latest live forecast, or the one analytic estimate
(hall.core.queries.estimate) when there is no fresh forecast.

The forecast is never run here: it is made every few minutes off the request path
(hall.operations.forecast); this only reads its quarter-hour table. The forecast's figures for a
slot are the waits of the people its replications had join the zone's queues in that quarter
hour, so they hold what the analytic estimate cannot see: people still to come with a higher
priority, windows going to lunch, the surge building. The ticket's position enters
as the people ahead of it against the queue the forecast's joiners found at that moment: a
ticket with twice as many ahead waits about twice as long (bounded, POSITION_BOUNDS). Without
it, the forecast's figures — pooled over every queue the quarter hour may hold — would tell a
ticket that found a long queue too little, and one near the head too much. It speaks only for a
ticket in a queue (`given_estimate` says why); near the head the analytic estimate does.

The estimate given at issue is stored (`ticket_estimates`) with its source, for the scoring of
estimates (hall.operations.accuracy).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection

from displays.messages import say
from hall.core.queries import WaitEstimate, estimate
from hall.core.registry import HallInfo
from hall.store.fastsql import Fast
from hall.store.models import TicketEstimate, table
from queueing.tickets import Ticket

__all__ = ["SOURCE_FORECAST", "SOURCE_ANALYTIC", "SLOT_SECONDS", "ForecastSlot", "ForecastTable",
           "ForecastSource", "Given", "given_estimate", "current_estimate", "estimate_words", "give_at_issue"]

SOURCE_FORECAST = "forecast"
SOURCE_ANALYTIC = "analytic"
SLOT_SECONDS = 900.0  # the forecast's quarter hours (sim.forecast.SLOT_SECONDS)
# How far the people ahead may move the forecast's figures: beyond these the forecast no
# longer describes the ticket's queue (and is about to be recomputed).
POSITION_BOUNDS = (0.2, 3.0)

_INSERT = Fast(table(TicketEstimate).insert().inline())  # inline: no RETURNING of the id (see hall.core.tx.run_tail)


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


def position_factor(ahead: int, expected: float | None) -> float:
    """How many more (or fewer) people are ahead of the ticket than the forecast's joiner
    found then, as a bounded ratio (the forecast's figures scale by it)."""
    if expected is None:
        return 1.0
    return min(max((ahead + 1.0) / (expected + 1.0), POSITION_BOUNDS[0]), POSITION_BOUNDS[1])


def expected_queue(forecast: ForecastTable, zones: Sequence[str], at: float) -> float | None:
    """The forecast's median waiting in `zones` at `at` (linear between slot starts): the queue
    its joiners found. A slot that began before the forecast was made undercounts (those
    called before it saw the hall are not in it): the next slot's start stands in for it."""
    total = 0.0
    for z in zones:
        slots = forecast.zones.get(z, ())
        k = next((i for i, s in enumerate(slots) if s.at <= at < s.at + SLOT_SECONDS), None)
        if k is None:
            return None
        if slots[k].at < forecast.computed_at:
            k = min(k + 1, len(slots) - 1)
            here = slots[k].waiting_p50
            if here is None:
                return None
            total += float(here)
            continue
        here, nxt = slots[k].waiting_p50, slots[k + 1].waiting_p50 if k + 1 < len(slots) else None
        if here is None:
            return None
        w = float(here)
        if nxt is not None:
            w += (float(nxt) - w) * (at - slots[k].at) / SLOT_SECONDS
        total += w
    return total


def given_estimate(est: WaitEstimate, zone: str, competing_zones: Sequence[str], windows: int,
                   now: float, forecast: ForecastTable | None) -> Given:
    """The forecast's figures for a person joining `zone` at `now`, scaled by the people ahead
    of the ticket against the queue the forecast's joiners found then (`expected_queue` over
    the zones of the categories competing for its windows); else the analytic estimate.

    The forecast speaks for a ticket in a real queue: at least one person ahead of it for each
    of the `windows` that serve it. Short of that, the next free window decides its wait, which
    the exact state (the analytic estimate) knows and the forecast's joiners, pooled over every
    state the quarter hour may be in, do not: most of them found a free window, so their median
    is near zero, and a ticket that found none would be told too little. A ticket no open
    window serves keeps the analytic answer (`no_window`): the forecast cannot say when someone
    signs in."""
    if forecast is None or est.state != "ok" or est.ahead < windows:
        return _analytic(est)
    s = forecast.slot(zone, now)
    if s is None or s.p50_minutes is None or s.p90_minutes is None:
        return _analytic(est)
    k = position_factor(est.ahead, expected_queue(forecast, competing_zones, now))
    p50 = round(float(s.p50_minutes) * k, 1)
    p90 = round(max(float(s.p90_minutes) * k, p50), 1)
    return Given(est.ahead, p50, p90, est.state, SOURCE_FORECAST, forecast.computed_at)


def current_estimate(conn: Connection, hall: HallInfo, ticket: Ticket, now: float,
                     forecasts: ForecastSource | None, est: WaitEstimate | None = None) -> Given | None:
    """The estimate of a waiting `ticket` now (None for one not waiting): what every surface
    shows. `est`: hall.core.queries.estimate's, when the caller read it already."""
    est = estimate(conn, hall, ticket, now) if est is None else est
    if est is None:
        return None
    table_ = forecasts.table(hall, now) if forecasts is not None else None
    if table_ is None:
        return _analytic(est)
    zones = sorted({hall.zone_of(c) for c in hall.competing_categories(ticket.category)})
    windows = 1 if ticket.target_window is not None else len(hall.windows_serving(ticket.category))
    return given_estimate(est, hall.zone_of(ticket.category), zones, windows, now, table_)


def estimate_words(given: Given) -> str | None:
    """The estimate as a person reads it (displays/static/js/live.js Hall.estimateText: whole
    minutes, halves up), with its source when the forecast gave it; None without figures."""
    if given.state != "ok" or given.p50_minutes is None or given.p90_minutes is None:
        return None
    lo, hi = math.floor(given.p50_minutes + 0.5), math.floor(given.p90_minutes + 0.5)
    if hi <= 0:
        text = say("estimate_soon")
    elif lo >= hi:
        text = say("estimate_about", minutes=hi)
    else:
        text = say("estimate_range", low=lo, high=hi)
    return f"{text}（{say('estimate.source.forecast')}）" if given.source == SOURCE_FORECAST else text


def give_at_issue(conn: Connection, hall: HallInfo, ticket: Ticket, day: str, now: float,
                  forecasts: ForecastSource | None, est: WaitEstimate | None = None,
                  later: Callable[[Fast, dict[str, Any]], None] | None = None) -> Given:
    """The estimate a ticket just issued is given, kept with it (one insert in the issuing
    transaction). `est`: as for current_estimate; `later`: runs the insert with the
    transaction's other result-less statements at its end (hall.core.tx.HallTx.later)."""
    given = current_estimate(conn, hall, ticket, now, forecasts, est)
    assert given is not None  # a new ticket waits
    row = {"ticket_id": ticket.id, "hall_id": hall.id, "day": day, "category": ticket.category, "issued_at": now,
           "p50_minutes": given.p50_minutes, "p90_minutes": given.p90_minutes,
           "source": given.source, "forecast_at": given.forecast_at}
    if later is not None:
        later(_INSERT, row)
    else:
        _INSERT.run(conn, row)
    return given
