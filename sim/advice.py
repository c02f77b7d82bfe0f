"""潮汐 advice: for an hour at risk, the smallest change to the hall that keeps the target.

Every candidate move is simulated from the same state as the forecast, on the same replications'
people (common random numbers): replication `r` of "open window 9" and of "no change" see the
same arrivals, services and patience, so the difference between them is the window's, and a few
dozen replications tell moves apart that independent runs would need hundreds for.

The moves, from the smallest to the largest change:

- `delay_lunch` — a clerk whose break starts within the hour takes it an hour later (the same
  staffed time, moved);
- `move` — an open window leaves the zone doing best and serves the zone doing worst (潮汐窗口:
  no one more at work);
- `open` — a window that is closed or paused opens now (a paused one has its clerk there: a
  resume; a closed one needs someone sent to it);
- `open_many` — when no single move keeps the target, the fewest closed or paused windows
  (paused first) that do, found by doubling and then halving their number;
- `stop_issuing` — a category stops taking numbers from the hour's start (people refused: the
  last resort).

A move keeps the target when the hour's median service level with it, across replications, is
at least the target. The advice for an hour is the cheapest move that keeps it; when none does,
the move that helps most (by at least `MIN_GAIN`), marked as not enough. Each comes with the hour's service level with
and without (10th, 50th, 90th percentile across replications) and the paired gain.

Only people who join before the hour ends (plus the wait target) are simulated: later arrivals
cannot change whether the hour's joiners were called in time, except by jumping the queue on a
priority, which every candidate sees alike. Pure: no I/O; times in seconds after midnight.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from queueing.layout import HallLayout, Skill
from sim.demand import Demand
from sim.forecast import (
    Band,
    HallState,
    Present,
    arrival_scale,
    band_of,
    busy_until,
    counts_toward,
    people_of,
    rest_of_day,
    wait_end,
    window_periods,
)
from sim.model import simulate_day
from sim.population import Population
from sim.streams import Streams

__all__ = ["Move", "Advice", "advise", "candidates", "COST"]

# How big a change each kind of move is: the advice is the cheapest that keeps the target.
COST: Mapping[str, int] = {"delay_lunch": 1, "move": 2, "open": 3, "open_many": 4, "stop_issuing": 5}
LUNCH_DELAY = 3600.0
MAX_MOVES = 4  # zone pairs tried for a move (worst zones × best zones)
# A move that does not keep the target is advised only if it helps at least this much (the
# hour's median service level, paired): a point or two is noise dressed up as advice.
MIN_GAIN = 0.05

Periods = dict[int, tuple[tuple[float, float], ...]]


@dataclass(frozen=True, slots=True)
class Move:
    kind: str  # a key of COST
    window: int | None = None
    from_zone: str | None = None
    to_zone: str | None = None
    categories: tuple[str, ...] = ()  # a move: the window's new categories
    category: str | None = None  # stop_issuing: the category refused
    at: float = 0.0  # when the move takes effect
    paused: bool = False  # open: the window is paused now (its clerk is there)
    windows: tuple[int, ...] = ()  # open_many: the windows opened (paused ones first)
    paused_windows: tuple[int, ...] = ()  # open_many: those of them paused now


@dataclass(frozen=True, slots=True)
class Advice:
    hour: int
    move: Move
    keeps_target: bool
    without: Band  # the hour's service level of joiners, without the move
    with_move: Band
    gain: Band  # per replication, with minus without (paired on common random numbers)
    replications: int


def _zone_of_window(layout: HallLayout, number: int) -> str | None:
    w = layout.window(number)
    if w.zone is not None:
        return w.zone
    zones = {layout.category(c).zone for c in w.categories}
    return zones.pop() if len(zones) == 1 else None  # a comprehensive window belongs to none


def _lunch_moves(demand: Demand, state: HallState, lo: float, hi: float) -> list[Move]:
    """Open windows whose break starts while the hour's joiners may still wait (up to the wait
    target past the hour): the first two by window number."""
    reach = hi + demand.service_level_minutes * 60.0
    out = []
    for number, periods in sorted(demand.window_periods().items()):
        if number not in state.open_windows:
            continue
        for (_, b), (a2, _) in zip(periods, periods[1:], strict=False):
            if max(lo, state.now) < b <= reach and a2 > b:
                out.append(Move("delay_lunch", window=number, at=b))
                break
    return out[:2]


def candidates(layout: HallLayout, demand: Demand, state: HallState, hour: int,
               zone_levels: Mapping[str, float]) -> list[Move]:
    """The moves worth simulating for `hour`: one per distinct closed window (by what it serves,
    a paused one first), moves from the best zones to the worst, delayed lunches, and stopping
    the busiest category. `zone_levels`: each zone's service level in the hour without a move."""
    lo, hi = hour * 3600.0, (hour + 1) * 3600.0
    now = state.now
    demanded = {c.code for c in demand.categories}
    moves: list[Move] = []
    seen: set[frozenset[str]] = set()
    closed = [w for w in layout.windows if w.number not in state.open_windows]
    closed.sort(key=lambda w: (w.number not in state.paused, w.number))
    for w in closed:
        if not (w.categories & demanded) or w.categories in seen:
            continue
        seen.add(w.categories)
        moves.append(Move("open", window=w.number, at=now, paused=w.number in state.paused))
    ranked = sorted((v, z) for z, v in zone_levels.items() if not math.isnan(v))
    worst = [z for v, z in ranked if v < 1.0][:2]
    best = [z for _, z in reversed(ranked)][:2]
    pairs = [(x, y) for y in worst for x in best if x != y][:MAX_MOVES]
    for x, y in pairs:
        # a window of zone X that X can spare (X keeps at least one open)
        of_x = [n for n in sorted(state.open_windows)
                if n in {w.number for w in layout.windows} and _zone_of_window(layout, n) == x]
        if len(of_x) < 2:
            continue
        cats = tuple(c.code for c in layout.categories if c.zone == y)
        if cats:
            moves.append(Move("move", window=of_x[-1], from_zone=x, to_zone=y, categories=cats,
                              at=now))
    moves.extend(_lunch_moves(demand, state, lo, hi))
    arriving = {c.code: sum(n for i, n in enumerate(c.arrivals)
                            if lo <= demand.start + i * demand.interval < hi)
                for c in demand.categories}
    busiest = max(arriving.items(), key=lambda kv: kv[1], default=None)
    if busiest is not None and busiest[1] > 0:
        moves.append(Move("stop_issuing", category=busiest[0], at=max(lo, now)))
    return moves


def _apply_layout(layout: HallLayout, move: Move) -> HallLayout:
    if move.kind != "move" or move.window is None:
        return layout
    windows = tuple(
        replace(w, skills=tuple(Skill(c, 1.0) for c in move.categories), zone=move.to_zone)
        if w.number == move.window else w for w in layout.windows)
    return replace(layout, windows=windows)


def _delay(periods: tuple[tuple[float, float], ...], at: float) -> tuple[tuple[float, float], ...]:
    """The break starting at `at` moved an hour later (the afternoon ends as planned)."""
    out: list[tuple[float, float]] = []
    shifted = False
    for a, b in periods:
        if not shifted and abs(b - at) < 1.0:
            out.append((a, b + LUNCH_DELAY))
            shifted = True
        elif shifted and a >= at:
            if a + LUNCH_DELAY < b:
                out.append((a + LUNCH_DELAY, b))
        else:
            out.append((a, b))
    return tuple(out)


@dataclass(slots=True)
class _Rep:
    people: Population
    since: list[float]
    busy_from: dict[int, float]
    present: int  # the first `present` people were waiting at `now`


def _level(layout: HallLayout, demand: Demand, rep: _Rep, periods: Periods, people: Population,
           since: Sequence[float], lo: float, hi: float, now: float, within: float,
           zone_of: Mapping[str, str]) -> tuple[float, dict[str, float]]:
    """The hour's service level of its joiners, hall-wide and per zone."""
    record = simulate_day(layout, demand, people, periods=periods)
    met = counted = 0
    by_zone: dict[str, list[int]] = {}
    for i, cat in enumerate(people.category):
        start = since[i]
        if not (lo <= start < hi) or start < now:
            continue
        c, ok = counts_toward(record.outcome[i], max(0.0, wait_end(record, i) - start), within)
        if c:
            counted += 1
            met += ok
            tally = by_zone.setdefault(zone_of.get(cat, ""), [0, 0])
            tally[0] += ok
            tally[1] += 1
    return (met / counted if counted else math.nan), {z: m / n for z, (m, n) in by_zone.items()}


def _run(layout: HallLayout, rest: Demand, state: HallState, rep: _Rep, move: Move | None,
         lo: float, hi: float, within: float, zone_of: Mapping[str, str]
         ) -> tuple[float, dict[str, float]]:
    open_windows = state.open_windows
    if move is not None and move.kind == "open" and move.window is not None:
        open_windows = open_windows | {move.window}
    if move is not None and move.kind == "open_many":
        open_windows = open_windows | set(move.windows)
    periods = window_periods(layout, rest, state.now, open_windows, rep.busy_from)
    people, since = rep.people, rep.since
    if move is not None and move.kind == "delay_lunch" and move.window is not None:
        periods[move.window] = _delay(periods[move.window], move.at)
    if move is not None and move.kind == "stop_issuing":
        keep = [i for i in range(len(people))
                if i < rep.present or not (people.category[i] == move.category
                                           and people.arrival[i] >= move.at)]
        people = _columns(people, keep)
        since = [since[i] for i in keep]
    return _level(_apply_layout(layout, move) if move else layout, rest, rep, periods, people,
                  since, lo, hi, state.now, within, zone_of)


def _columns(pop: Population, keep: Sequence[int] | slice) -> Population:
    """The people at `keep` (indexes in arrival order, or a slice), as columns."""
    def pick(col: list[Any]) -> list[Any]:
        return col[keep] if isinstance(keep, slice) else [col[i] for i in keep]
    return Population(*(pick(getattr(pop, name)) for name in Population.__slots__))


def advise(layout: HallLayout, demand: Demand, state: HallState, hours: Sequence[int], *,
           replications: int = 40, seed: int = 1, target: float = 0.8) -> list[Advice]:
    """For each hour in `hours` (clock hours at risk), the cheapest move that keeps `target`
    (or the most helpful one, marked as not enough); an hour no move helps gets no advice.
    Replication `r` draws the same people as the forecast's replication `r` (same seed)."""
    rest = rest_of_day(demand, state.now, arrival_scale(demand, state))
    present = Present.of(demand, state)
    drawn = []
    for r in range(replications):
        streams = Streams(seed, r)
        people, since = people_of(demand, rest, state, streams, present)
        drawn.append((people, since, busy_until(demand, state, streams)))
    out = []
    for hour in hours:
        advice = _advise_hour(layout, demand, rest, state, drawn, len(present.order), hour,
                              target)
        if advice is not None:
            out.append(advice)
    return out


def _advise_hour(layout: HallLayout, demand: Demand, rest: Demand, state: HallState,
                 drawn: Sequence[tuple[Population, list[float], dict[int, float]]],
                 present: int, hour: int, target: float) -> Advice | None:
    within = demand.service_level_minutes * 60.0
    zone_of = {c.code: c.zone for c in layout.categories}
    lo, hi = max(hour * 3600.0, state.now), (hour + 1) * 3600.0
    reps = []
    for people, since, busy_from in drawn:
        k = bisect.bisect_left(people.arrival, hi + within)  # in arrival order: a prefix
        reps.append(_Rep(_columns(people, slice(0, k)), since[:k], busy_from, present))
    base = [_run(layout, rest, state, rep, None, lo, hi, within, zone_of) for rep in reps]
    without = [b[0] for b in base]
    zones: dict[str, list[float]] = {}
    for _, by_zone in base:
        for z, v in by_zone.items():
            zones.setdefault(z, []).append(v)
    zone_levels = {z: band_of(v).p50 for z, v in zones.items()}

    def trial(move: Move) -> Advice:
        with_move = [_run(layout, rest, state, rep, move, lo, hi, within, zone_of)[0]
                     for rep in reps]
        gain = [a - b for a, b in zip(with_move, without, strict=True)
                if not (math.isnan(a) or math.isnan(b))]
        band = band_of(with_move)
        return Advice(hour, move, band.p50 >= target, band_of(without), band, band_of(gain),
                      len(reps))

    tried = [trial(m) for m in candidates(layout, demand, state, hour, zone_levels)]
    keeping = [a for a in tried if a.keeps_target]
    if not keeping:
        many = _fewest_to_open(layout, demand, state, trial)
        if many is not None:
            tried.append(many)
            keeping = [many] if many.keeps_target else []
    if keeping:
        return min(keeping, key=lambda a: (COST[a.move.kind], -a.with_move.p50))
    helping = [a for a in tried if not math.isnan(a.gain.p50) and a.gain.p50 >= MIN_GAIN]
    return max(helping, key=lambda a: (a.gain.p50, -COST[a.move.kind])) if helping else None


def _fewest_to_open(layout: HallLayout, demand: Demand, state: HallState,
                    trial: Callable[[Move], Advice]) -> Advice | None:
    """The fewest closed or paused windows (paused first, then by number) whose opening keeps
    the target: 2, 4, 8 … until one keeps it, then halving back (more windows never serve the
    hour worse); with every one opened and still short, that, marked as not enough."""
    demanded = {c.code for c in demand.categories}
    closed = sorted((w.number for w in layout.windows
                     if w.number not in state.open_windows and w.categories & demanded),
                    key=lambda n: (n not in state.paused, n))
    if len(closed) < 2:
        return None

    def move(k: int) -> Move:
        chosen = tuple(closed[:k])
        return Move("open_many", at=state.now, windows=chosen,
                    paused_windows=tuple(n for n in chosen if n in state.paused))

    seen: dict[int, Advice] = {}
    k = 2
    while True:
        seen[k] = trial(move(k))
        if seen[k].keeps_target or k == len(closed):
            break
        k = min(2 * k, len(closed))
    if not seen[k].keeps_target:
        return seen[k]
    lo = max((j for j in seen if not seen[j].keeps_target), default=1)  # short with lo windows
    hi = k
    while hi - lo > 1:
        mid = (lo + hi) // 2
        seen[mid] = trial(move(mid))
        lo, hi = (lo, mid) if seen[mid].keeps_target else (mid, hi)
    return seen[hi]
