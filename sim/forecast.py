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

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from queueing import metrics
from queueing.layout import HallLayout
from queueing.tickets import PriorityClass
from sim.demand import Demand, parse_demand
from sim.model import OUTCOME_ABANDONED, OUTCOME_NO_SHOW, OUTCOME_SERVED, simulate_day
from sim.population import Person, Population, generate_people
from sim.streams import Streams

__all__ = ["WaitingTicket", "AtWindow", "HallState", "Band", "Slot", "Forecast", "forecast",
           "arrival_scale", "flat_demand", "SLOT_SECONDS"]

SLOT_SECONDS = 900.0  # the manager reads the hall in quarters of an hour
# Pseudo-arrivals that pull the scale towards 1: with fewer real arrivals than this the profile
# still speaks louder than the morning.
SCALE_PRIOR = 30.0
SCALE_BOUNDS = (0.2, 5.0)
STATE_SOURCE = "forecast-state"  # streams of the people and services already in the hall


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


def _band(xs: Sequence[float]) -> Band:
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


def _rest_of_day(demand: Demand, now: float, scale: float) -> Demand:
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


def _periods(layout: HallLayout, demand: Demand, state: HallState,
             streams: Streams) -> dict[int, tuple[tuple[float, float], ...]]:
    staffed = demand.window_periods()
    hall = tuple((60.0 * p.start, 60.0 * p.end) for p in layout.hours.periods)
    busy_from = {s.window: state.now + _residual(demand, s.category, state.now - s.since, streams)
                 for s in state.serving}
    out: dict[int, tuple[tuple[float, float], ...]] = {}
    for w in layout.windows:
        if w.number not in state.open_windows:
            out[w.number] = ()
            continue
        start = busy_from.get(w.number, state.now)
        ahead = [(a, b) for a, b in staffed.get(w.number, hall) if b > state.now]
        if not ahead:  # open past its plan: finishes its person, then goes off
            out[w.number] = ((start, start + 1.0),)
            continue
        # open now even in what the plan calls a break: the clerk is there until it ends
        first = (start, max(ahead[0][1], start + 1.0))
        out[w.number] = (first, *((max(a, start), b) for a, b in ahead[1:] if b > start))
    return out


def _people(demand: Demand, rest: Demand, state: HallState,
            streams: Streams) -> tuple[Population, list[float]]:
    """Those waiting now, then the rest of the day's arrivals; and when each one's wait began."""
    rng = streams.get(STATE_SOURCE, "waiting")
    now = state.now
    present: list[tuple[float, Person, float]] = []
    for t in state.waiting:
        try:
            c = demand.category(t.category)
        except KeyError:
            continue
        service = c.service.sample(rng)
        patience = c.patience.sample(rng) if c.patience is not None else math.inf
        arrival = t.queue_key if t.appointment is None else min(t.since, now)
        present.append((arrival, Person(arrival=min(arrival, now), category=t.category,
                                        service=service, patience=now - arrival + patience,
                                        no_show=False, priority=t.priority,
                                        appointment_start=t.appointment), t.since))
    present.sort(key=lambda x: x[0])
    future = [p for p in generate_people(rest, streams) if p.arrival > now]
    people = [p for _, p, _ in present] + future
    since = [s for _, _, s in present] + [p.arrival for p in future]
    return Population.of(people), since


def forecast(layout: HallLayout, demand: Demand, state: HallState, *, hours: float = 3.0,
             replications: int = 200, seed: int = 1, target: float = 0.8) -> Forecast:
    """Simulate the rest of the day `replications` times from `state`; figures per zone and
    15-minute slot for the next `hours`, the day's service level and the hours at risk."""
    scale = arrival_scale(demand, state)
    rest = _rest_of_day(demand, state.now, scale)
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
    for r in range(replications):
        streams = Streams(seed, r)
        people, since = _people(demand, rest, state, streams)
        record = simulate_day(layout, rest, people,
                              periods=_periods(layout, demand, state, streams))
        diff = [[0] * (n_slots + 1) for _ in zones]
        sums = [[0.0] * n_slots for _ in zones]
        counts = [[0] * n_slots for _ in zones]
        met, total = met0, total0
        hours_met: dict[int, list[int]] = {}
        for i, cat in enumerate(people.category):
            z = zi.get(zone_of.get(cat, ""), -1)
            o = record.outcome[i]
            if o == OUTCOME_SERVED or o == OUTCOME_NO_SHOW:
                end = record.called[i]
            elif o == OUTCOME_ABANDONED:
                end = record.left[i]
            else:
                end = math.inf
            start = since[i]
            wait = max(0.0, end - start)
            # queueing.metrics' definition: one who left within the target is not counted
            counted = not (o == OUTCOME_ABANDONED and wait <= within)
            ok = o in (OUTCOME_SERVED, OUTCOME_NO_SHOW) and wait <= within
            if counted:
                total += 1
                met += ok
                if start >= state.now:
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
            if start >= state.now and o != OUTCOME_ABANDONED:
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
                start=t0 + k * SLOT_SECONDS, zone=zone, waiting=_band(waiting_runs[z][k]),
                wait_minutes=_band(wait_runs[z][k]),
                person_p50=(metrics.percentile(ws, 50) or 0.0) / 60.0 if ws else math.nan,
                person_p90=(metrics.percentile(ws, 90) or 0.0) / 60.0 if ws else math.nan))
    hour_med = {h: _band(v).p50 for h, v in sorted(hour_sl.items())}
    horizon_hours = {int(t // 3600) for t in (t0 + k * SLOT_SECONDS for k in range(n_slots))}
    at_risk = tuple(h for h, v in hour_med.items()
                    if h in horizon_hours and not math.isnan(v) and v < target)
    return Forecast(now=state.now, until=until, replications=replications, scale=scale,
                    service_level=_band(day_sl), target=target,
                    within_minutes=demand.service_level_minutes, at_risk=at_risk,
                    hour_service_level=hour_med, slots=tuple(slots), zones=zones)
