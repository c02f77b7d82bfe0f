"""The hall's next hours, simulated from its exact state with `queueing`'s real policy.

A forecast starts from what the server knows now — who waits (queue key, class, category, since
when), who is at which window and since when, which windows are open — and runs the rest of the
day through `sim.model.simulate_day`, the planner's own model, many times. Each replication `r`
draws its people from `Streams(seed, r)`, so two forecasts of the same state that differ only in
the windows (one more window open) see the same people: common random numbers, and their
difference is the windows', not the noise's.

How the state enters the unchanged model, without a second model:
- people waiting now are people who arrived in the past with their queue key as arrival (the
  policy orders by it); they are admitted the moment the first window opens at `now`;
- a window serving someone opens at `now + residual`, the residual drawn from the category's
  service time given the time already spent (so a clerk 20 minutes into a 12-minute matter is
  not expected to finish at once);
- windows closed or paused now stay closed for the rest of the day (a scheduled return is not
  known to the server yet);
- arrivals for the rest of the day come from the demand profile, every interval before `now`
  emptied, scaled by today's arrivals so far against the profile's (shrunk towards 1 while the
  morning is young, so ten early people do not double the afternoon).

Times are seconds after the hall-local midnight, as in `sim.model`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from queueing import metrics
from queueing.layout import HallLayout
from queueing.tickets import PriorityClass
from sim.demand import Demand, parse_demand
from sim.model import OUTCOME_ABANDONED, OUTCOME_NO_SHOW, OUTCOME_SERVED, DayRecord, simulate_day
from sim.population import Person, Population, generate_people
from sim.streams import Streams

__all__ = ["WaitingTicket", "AtWindow", "HallState", "Band", "Slot", "Forecast", "forecast",
           "arrival_scale", "flat_demand", "SLOT_SECONDS", "busy_until", "window_periods",
           "wait_end", "counts_toward", "rest_of_day", "people_of", "band_of", "Present"]

SLOT_SECONDS = 900.0  # the manager reads the hall in quarters of an hour
# Pseudo-arrivals that pull the scale towards 1: with fewer real arrivals than this the profile
# still speaks louder than the morning.
SCALE_PRIOR = 30.0
SCALE_BOUNDS = (0.2, 5.0)
STATE_SOURCE = "forecast-state"  # streams of the people and services already in the hall
_PERSON_DEFAULTS = {f.name: f.default for f in fields(Person)}


@dataclass(frozen=True, slots=True)
class WaitingTicket:
    category: str
    queue_key: float  # the policy's order (seconds after midnight)
    since: float  # when the wait started
    priority: PriorityClass = PriorityClass.NORMAL
    appointment: float | None = None  # the booked slot's start, for an appointment ticket


@dataclass(frozen=True, slots=True)
class AtWindow:
    window: int
    category: str
    since: float  # when the window called this ticket


@dataclass(frozen=True, slots=True)
class HallState:
    now: float
    waiting: tuple[WaitingTicket, ...]
    serving: tuple[AtWindow, ...]
    open_windows: frozenset[int]  # open and not paused
    arrived: Mapping[str, int]  # tickets issued today so far, per category
    served_so_far: tuple[int, int] = (0, 0)  # today's (called within the target, counted)
    paused: frozenset[int] = frozenset()  # a clerk is there, paused: a resume opens the window


@dataclass(frozen=True, slots=True)
class Band:
    p10: float
    p50: float
    p90: float

    def contains(self, x: float) -> bool:
        return self.p10 <= x <= self.p90


@dataclass(frozen=True, slots=True)
class Slot:
    start: float  # seconds after midnight
    zone: str
    waiting: Band  # people waiting at the slot's start, across replications
    wait_minutes: Band  # mean wait of those joining in the slot, across replications (nan: none)
    person_p50: float  # a person joining in the slot: their wait's median, pooled (minutes)
    person_p90: float


@dataclass(frozen=True, slots=True)
class Forecast:
    now: float
    until: float
    replications: int
    scale: float
    service_level: Band  # the day's share called within the target, counting today so far
    target: float
    within_minutes: float
    at_risk: tuple[int, ...]  # clock hours whose joiners' forecast service level misses target
    hour_service_level: Mapping[int, float]  # median across replications
    slots: tuple[Slot, ...]
    zones: tuple[str, ...]

    def slot(self, zone: str, start: float) -> Slot:
        for s in self.slots:
            if s.zone == zone and s.start == start:
                return s
        raise KeyError((zone, start))


def band_of(xs: Sequence[float]) -> Band:
    vals = [x for x in xs if not math.isnan(x)]
    if not vals:
        return Band(math.nan, math.nan, math.nan)
    return Band(*(float(metrics.percentile(vals, p) or 0.0) for p in (10, 50, 90)))


def _expected_before(demand: Demand, now: float) -> dict[str, float]:
    """The profile's expected arrivals per category before `now` (partial interval pro rata)."""
    out: dict[str, float] = {}
    for c in demand.categories:
        total = 0.0
        for i, count in enumerate(c.arrivals):
            lo = demand.start + i * demand.interval
            hi = min(lo + demand.interval, demand.cutoff)
            if hi <= lo or lo >= now:
                continue
            total += count * (min(now, hi) - lo) / (hi - lo)
        out[c.code] = total
    return out


def arrival_scale(demand: Demand, state: HallState) -> float:
    """Today's arrivals so far against the profile's, shrunk towards 1 by `SCALE_PRIOR`."""
    expected = sum(_expected_before(demand, state.now).values())
    arrived = float(sum(state.arrived.values()))
    scale = (arrived + SCALE_PRIOR) / (expected + SCALE_PRIOR)
    return min(max(scale, SCALE_BOUNDS[0]), SCALE_BOUNDS[1])


def rest_of_day(demand: Demand, now: float, scale: float) -> Demand:
    """The profile from the interval holding `now` on, scaled (earlier intervals emptied)."""
    cats = []
    for c in demand.categories:
        counts = []
        for i, count in enumerate(c.arrivals):
            hi = demand.start + (i + 1) * demand.interval
            counts.append(0.0 if hi <= now else count * scale)
        cats.append(replace(c, arrivals=tuple(counts)))
    return replace(demand, categories=tuple(cats))


def flat_demand(layout: HallLayout, date: dt.date, rates_per_hour: Mapping[str, float],
                service_minutes: Mapping[str, float], *, cutoff_minutes: float = 30.0) -> Demand:
    """A profile for a hall without one: each category's recent rate, flat over opening hours,
    with its recent mean service time (exponential: the least one may assume)."""
    interval = 15
    opens, closes = layout.hours.opens, layout.hours.closes
    n = (closes - opens) // interval
    cats: dict[str, object] = {}
    for c in layout.categories:
        rate = max(0.0, float(rates_per_hour.get(c.code, 0.0)))
        counts = [rate * interval / 60.0 if layout.hours.is_open(opens + k * interval) else 0.0
                  for k in range(n)]
        minutes = float(service_minutes.get(c.code) or c.service_minutes)
        cats[c.code] = {"arrivals": counts,
                        "service": {"dist": "exponential", "mean_minutes": minutes}}
    raw = {"profile": {"name": "recent", "date": date.isoformat(),
                       "start": f"{opens // 60:02d}:{opens % 60:02d}",
                       "interval_minutes": interval, "cutoff_minutes": cutoff_minutes},
           "categories": cats}
    return parse_demand(raw, layout)


def _residual(demand: Demand, category: str, elapsed: float, streams: Streams) -> float:
    """Remaining service of someone `elapsed` seconds in: a draw of the category's service
    given it is longer than `elapsed` (rejection; past the tail, a minute)."""
    rng = streams.get(STATE_SOURCE, "residual")
    try:
        dist = demand.category(category).service
    except KeyError:
        return 60.0
    for _ in range(20):
        s = dist.sample(rng)
        if s > elapsed:
            return s - elapsed
    return 60.0


def busy_until(demand: Demand, state: HallState, streams: Streams) -> dict[int, float]:
    """When each window serving someone now is expected to be free (its residual service)."""
    return {s.window: state.now + _residual(demand, s.category, state.now - s.since, streams)
            for s in state.serving}


def window_periods(layout: HallLayout, demand: Demand, now: float, open_windows: frozenset[int],
                   busy_from: Mapping[int, float]) -> dict[int, tuple[tuple[float, float], ...]]:
    """Each window's staffed periods from `now`: the open ones from when they are free, the
    others closed for the rest of the day."""
    staffed = demand.window_periods()
    hall = tuple((60.0 * p.start, 60.0 * p.end) for p in layout.hours.periods)
    out: dict[int, tuple[tuple[float, float], ...]] = {}
    for w in layout.windows:
        if w.number not in open_windows:
            out[w.number] = ()
            continue
        start = busy_from.get(w.number, now)
        ahead = [(a, b) for a, b in staffed.get(w.number, hall) if b > now]
        if not ahead:  # open past its plan: finishes its person, then goes off
            out[w.number] = ((start, start + 1.0),)
            continue
        # open now even in what the plan calls a break: the clerk is there until it ends
        first = (start, max(ahead[0][1], start + 1.0))
        out[w.number] = (first, *((max(a, start), b) for a, b in ahead[1:] if b > start))
    return out


def _periods(layout: HallLayout, demand: Demand, state: HallState,
             streams: Streams) -> dict[int, tuple[tuple[float, float], ...]]:
    return window_periods(layout, demand, state.now, state.open_windows,
                          busy_until(demand, state, streams))


def wait_end(record: DayRecord, i: int) -> float:
    """When person `i`'s wait ended: called (served or absent), left, or never (inf)."""
    o = record.outcome[i]
    if o == OUTCOME_SERVED or o == OUTCOME_NO_SHOW:
        return record.called[i]
    if o == OUTCOME_ABANDONED:
        return record.left[i]
    return math.inf


def counts_toward(outcome: int, wait: float, within: float) -> tuple[bool, bool]:
    """(counted, met) in `queueing.metrics`' service level: one who left within the target is
    not counted; one called within it met it."""
    counted = not (outcome == OUTCOME_ABANDONED and wait <= within)
    met = (outcome == OUTCOME_SERVED or outcome == OUTCOME_NO_SHOW) and wait <= within
    return counted, met


@dataclass(frozen=True, slots=True)
class Present:
    """The people waiting now, prepared once per state (every replication draws only their
    services and patience): in the policy's order, with their profile's distributions."""

    draws: tuple[tuple[Any, Any], ...]  # per kept ticket in state order: (service, patience)
    order: tuple[int, ...]  # kept tickets sorted by arrival
    arrival: tuple[float, ...]  # in `order`
    category: tuple[str, ...]
    priority: tuple[PriorityClass, ...]
    appointment: tuple[float | None, ...]
    since: tuple[float, ...]

    @classmethod
    def of(cls, demand: Demand, state: HallState) -> Present:
        by_code = {c.code: c for c in demand.categories}
        kept = [t for t in state.waiting if t.category in by_code]  # unknown now: not simulated
        arrivals = [t.queue_key if t.appointment is None else min(t.since, state.now) for t in kept]
        order = tuple(sorted(range(len(kept)), key=arrivals.__getitem__))
        return cls(tuple((by_code[t.category].service, by_code[t.category].patience) for t in kept),
                   order, tuple(arrivals[i] for i in order),
                   tuple(kept[i].category for i in order), tuple(kept[i].priority for i in order),
                   tuple(kept[i].appointment for i in order), tuple(kept[i].since for i in order))


def people_of(demand: Demand, rest: Demand, state: HallState, streams: Streams,
              present: Present | None = None) -> tuple[Population, list[float]]:
    """Those waiting now, then the rest of the day's arrivals; and when each one's wait began.
    Built as columns: no object per person (a large share of a replication's setup)."""
    pre = present if present is not None else Present.of(demand, state)
    rng = streams.get(STATE_SOURCE, "waiting")
    now = state.now
    service: list[float] = []
    patience: list[float] = []
    for sdist, pdist in pre.draws:  # drawn in the state's order: the streams stay as they were
        service.append(sdist.sample(rng))
        patience.append(pdist.sample(rng) if pdist is not None else math.inf)
    n = len(pre.order)
    future = generate_people(rest, streams)
    k = bisect.bisect_right(future.arrival, now)  # sorted by arrival: those still to come
    # those waiting: what the state says and their draws; every other column (no-show, flows,
    # matters …) as a Person has it by default, whatever columns the population grows
    mine: dict[str, list[Any]] = {
        "arrival": [min(a, now) for a in pre.arrival], "category": list(pre.category),
        "service": [service[i] for i in pre.order],
        "patience": [now - a + patience[i] for a, i in zip(pre.arrival, pre.order, strict=True)],
        "no_show": [False] * n, "priority": list(pre.priority),
        "appointment_start": list(pre.appointment)}
    people = Population(*((mine[name] if name in mine else [_PERSON_DEFAULTS[name]] * n)
                          + getattr(future, name)[k:] for name in Population.__slots__))
    return people, list(pre.since) + future.arrival[k:]


def forecast(layout: HallLayout, demand: Demand, state: HallState, *, hours: float = 3.0,
             replications: int = 200, seed: int = 1, target: float = 0.8) -> Forecast:
    """Simulate the rest of the day `replications` times from `state`; figures per zone and
    15-minute slot for the next `hours`, the day's service level and the hours at risk."""
    scale = arrival_scale(demand, state)
    rest = rest_of_day(demand, state.now, scale)
    within = demand.service_level_minutes * 60.0
    t0 = math.floor(state.now / SLOT_SECONDS) * SLOT_SECONDS
    until = min(state.now + hours * 3600.0, max(demand.close, state.now))
    n_slots = max(1, math.ceil((until - t0) / SLOT_SECONDS))
    zone_of = {c.code: c.zone for c in layout.categories}
    zones = tuple(dict.fromkeys(zone_of[c.code] for c in demand.categories))
    zi = {z: k for k, z in enumerate(zones)}
    waiting_runs: list[list[list[float]]] = [[[] for _ in range(n_slots)] for _ in zones]
    wait_runs: list[list[list[float]]] = [[[] for _ in range(n_slots)] for _ in zones]
    pooled: list[list[list[float]]] = [[[] for _ in range(n_slots)] for _ in zones]
    day_sl: list[float] = []
    hour_sl: dict[int, list[float]] = {}
    met0, total0 = state.served_so_far
    present = Present.of(demand, state)
    zone_index = {c: zi.get(z, -1) for c, z in zone_of.items()}
    now = state.now
    for r in range(replications):
        streams = Streams(seed, r)
        people, since = people_of(demand, rest, state, streams, present)
        record = simulate_day(layout, rest, people,
                              periods=_periods(layout, demand, state, streams))
        diff = [[0] * (n_slots + 1) for _ in zones]
        sums = [[0.0] * n_slots for _ in zones]
        counts = [[0] * n_slots for _ in zones]
        met, total = met0, total0
        hours_met: dict[int, list[int]] = {}
        outcome, called, left = record.outcome, record.called, record.left
        for i, cat in enumerate(people.category):
            z = zone_index.get(cat, -1)
            o = outcome[i]
            # wait_end, inlined: this loop runs for every person of every replication
            if o == OUTCOME_SERVED or o == OUTCOME_NO_SHOW:
                end = called[i]
            elif o == OUTCOME_ABANDONED:
                end = left[i]
            else:
                end = math.inf
            start = since[i]
            wait = end - start if end > start else 0.0
            counted, ok = counts_toward(o, wait, within)
            if counted:
                total += 1
                met += ok
                if start >= now:
                    tally = hours_met.setdefault(int(start // 3600), [0, 0])
                    tally[0] += ok
                    tally[1] += 1
            if z < 0:
                continue
            # waiting at a slot's start: since <= t < end
            a = max(0, math.ceil((start - t0) / SLOT_SECONDS))
            b = n_slots if not math.isfinite(end) else min(
                n_slots, math.ceil((end - t0) / SLOT_SECONDS))
            if a < b:
                diff[z][a] += 1
                diff[z][b] -= 1
            if start >= now and o != OUTCOME_ABANDONED:
                k = int((start - t0) // SLOT_SECONDS)
                if 0 <= k < n_slots:
                    w = wait if math.isfinite(wait) else until - start
                    sums[z][k] += w
                    counts[z][k] += 1
                    pooled[z][k].append(w)
        for z in range(len(zones)):
            level = 0
            for k in range(n_slots):
                level += diff[z][k]
                waiting_runs[z][k].append(float(level))
                wait_runs[z][k].append(sums[z][k] / counts[z][k] / 60.0 if counts[z][k]
                                       else math.nan)
        day_sl.append(met / total if total else math.nan)
        for hour, (m, n) in hours_met.items():
            hour_sl.setdefault(hour, []).append(m / n if n else math.nan)
    slots = []
    for z, zone in enumerate(zones):
        for k in range(n_slots):
            ws = pooled[z][k]
            slots.append(Slot(
                start=t0 + k * SLOT_SECONDS, zone=zone, waiting=band_of(waiting_runs[z][k]),
                wait_minutes=band_of(wait_runs[z][k]),
                person_p50=(metrics.percentile(ws, 50) or 0.0) / 60.0 if ws else math.nan,
                person_p90=(metrics.percentile(ws, 90) or 0.0) / 60.0 if ws else math.nan))
    hour_med = {h: band_of(v).p50 for h, v in sorted(hour_sl.items())}
    horizon_hours = {int(t // 3600) for t in (t0 + k * SLOT_SECONDS for k in range(n_slots))}
    at_risk = tuple(h for h, v in hour_med.items()
                    if h in horizon_hours and not math.isnan(v) and v < target)
    return Forecast(now=state.now, until=until, replications=replications, scale=scale,
                    service_level=band_of(day_sl), target=target,
                    within_minutes=demand.service_level_minutes, at_risk=at_risk,
                    hour_service_level=hour_med, slots=tuple(slots), zones=zones)
