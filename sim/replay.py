"""`hall sim replay`: recorded days' own people run again under another layout (what-if).

Each recorded ticket becomes a person with its real issue time, category, priority,
appointment slot and the time a window was held for them (call to finish). People who were never served keep what is known:
a no-show stays absent when called, for as long as the window called them, and comes back
(re-checks in) as long after as they did; someone who left after waiting w minutes has patience w
(they would leave again after as long); a person without a recorded service time gets the mean
of their category's recorded services that day (else the layout's typical time). Everyone who
did not leave was patient for at least as long as they waited, and no longer is known: their
patience is drawn from the law fitted to the whole log (`sim.survival`, censored MLE) given that
it exceeded their wait — with fewer windows they would wait longer, and some would go. Only a log
where nobody left keeps everyone patient. The result is the same JSON as `hall sim run`, with
recorded figures and the patience law beside it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from queueing import metrics
from queueing.layout import HallLayout, parse_layout
from queueing.tickets import PriorityClass
from sim.demand import Demand, parse_demand
from sim.eventlog import TicketLog, iter_days, tickets_from_events
from sim.model import simulate_day
from sim.population import Person
from sim.results import aggregate, summarise_day
from sim.stats import estimate
from sim.survival import PatienceFit, fit_patience, patience_data

__all__ = ["replay", "people_of_day", "turnarounds", "activity_periods"]


def people_of_day(tickets: Sequence[TicketLog], layout: HallLayout, midnight: float,
                  patience_law: PatienceFit | None = None) -> list[Person]:
    """The recorded day's people, times in seconds after local midnight."""
    by_cat: dict[str, list[float]] = {}
    for t in tickets:
        s = t.service
        if s is not None and s > 0:
            by_cat.setdefault(t.category, []).append(s)
    typical = {c.code: 60.0 * c.service_minutes for c in layout.categories}
    turnaround = turnarounds(tickets)
    people = []
    for t in tickets:
        # what a window spends on the person: call to finish, so calling and walking up count,
        # plus the window's turnaround before the call when the person was already waiting
        s = _window_time(t) or t.service
        if s is not None and s > 0:
            s += turnaround.get(t.id, 0.0)
        if s is None or s <= 0:
            seen = by_cat.get(t.category)
            s = sum(seen) / len(seen) if seen else typical.get(t.category, 600.0)
        left = _left_after(t)
        if left is not None:
            patience = left
        elif patience_law is not None:
            # seeded by the ticket, so every what-if sees the same patience for the same person
            waited = _waited(t)
            patience = patience_law.conditional_sample(
                waited, random.Random(f"replay-patience|{t.id}"))
        else:
            patience = math.inf
        try:
            priority = PriorityClass(t.priority)
        except ValueError:
            priority = PriorityClass.NORMAL
        slot = None if t.appointment_start is None else t.appointment_start - midnight
        back = t.came_back_after
        absent = t.no_show or back is not None
        people.append(Person(t.issued - midnight, t.category, s, patience, absent, priority,
                             slot, absent_call=t.absent_call if absent else None,
                             recheck_after=back))
    people.sort(key=lambda p: p.arrival)
    return people


def _window_time(t: TicketLog) -> float | None:
    """Seconds windows were held for the ticket: each call to the end of what followed it
    (finish, transfer, suspension), summed — a transferred or suspended ticket's earlier
    services count, which replay gives to one window in one go (its later waits are not
    replayed); None if never finished after a call. A no-show's calling time is not in it."""
    total, called, finished = 0.0, None, False
    for kind, at, _ in t.events:
        if kind == "ticket.called":
            called = at
        elif called is not None and kind in ("ticket.finished", "ticket.transferred",
                                             "ticket.suspended"):
            total += max(0.0, at - called)
            called = None
            finished = finished or kind == "ticket.finished"
    return total if finished else None


def _left_after(t: TicketLog) -> float | None:
    """Seconds from issue to leaving (the model's patience runs from arrival)."""
    for kind, at, _ in t.events:
        if kind == "ticket.cancelled":
            return at - t.issued
        if kind == "ticket.called":
            return None
    return None


def _waited(t: TicketLog) -> float:
    """Seconds from issue to the first call (or the last event: still waiting then)."""
    for kind, at, _ in t.events:
        if kind == "ticket.called":
            return at - t.issued
    return max(0.0, t.events[-1][1] - t.issued) if t.events else 0.0


# a window is free again after any of these (a transfer or a suspension releases it too)
_RELEASES = ("ticket.finished", "ticket.no_show", "ticket.transferred", "ticket.suspended")


def turnarounds(tickets: Sequence[TicketLog]) -> dict[Any, float]:
    """Per ticket, the gap between its window's previous finish and its call, when it was
    already waiting at that finish and the gap is shorter than its own occupancy (longer gaps
    are pauses, not turnaround). Staff take that time between people; the model calls at once,
    so replay adds it to the person's window time."""
    finishes: dict[int, list[tuple[float, float]]] = {}  # window -> [(call, finish)]
    for t in tickets:
        called = None
        for kind, at, data in t.events:
            if kind == "ticket.called":
                called = at
            elif kind in _RELEASES and called is not None:
                w = data.get("window", t.window)
                if w is not None:
                    finishes.setdefault(int(w), []).append((called, at))
                called = None
    out: dict[Any, float] = {}
    for t in tickets:
        occupancy = t.occupancy
        if occupancy is None:
            continue
        last_call = max(at for kind, at, _ in t.events if kind == "ticket.called")
        waiting_since = max(at for kind, at, _ in t.events
                            if kind in ("ticket.issued", "ticket.rechecked_in",
                                        "ticket.transferred", "ticket.resumed"))
        prior = [f for c, f in finishes.get(t.window or -1, []) if f <= last_call]
        if prior:
            gap = last_call - max(prior)
            # a gap of 0 counts: with no turnaround the few long gaps (pauses) must not be
            # all that is left for calibrate's median
            if max(prior) >= waiting_since and 0 <= gap <= occupancy:
                out[t.id] = gap
    return out


def _demand_for(layout: HallLayout, day: dt.date) -> Demand:
    # The model needs the day's calendar, hours and limits; arrivals come from the log.
    return parse_demand({
        "profile": {"date": day.isoformat(), "cutoff_minutes": 0},
        "categories": {c.code: {"arrivals": [0.0]} for c in layout.categories},
    }, layout)


def activity_periods(tickets: Sequence[TicketLog], midnight: float,
                     gap: float = 1800.0) -> list[tuple[float, float]]:
    """When the hall's windows were working, read from the log: from the first to the last
    window event (call, start, finish, no-show), split where no window did anything for more than
    `gap` seconds (a lunch break). People leaving or issues during lunch do not open it.
    Seconds after midnight."""
    window_events = ("ticket.called", "ticket.started", "ticket.finished", "ticket.no_show")
    times = sorted(at - midnight for t in tickets for kind, at, _ in t.events
                   if kind in window_events)
    if not times:
        times = sorted(at - midnight for t in tickets for _, at, _ in t.events)
    if not times:
        return []
    periods = []
    lo = prev = times[0]
    for x in times[1:]:
        if x - prev > gap:
            periods.append((lo, prev))
            lo = x
        prev = x
    periods.append((lo, prev))
    return periods


def replay(envelopes: Sequence[dict[str, Any]], layout_raw: Mapping[str, Any],
           hours: str = "activity") -> dict[str, Any]:
    """Re-run every recorded day under `layout_raw`; raises ValueError for an empty log or a
    category the layout lacks.

    hours "activity": every window works while the recorded hall did (see `activity_periods`;
    right for days recorded at another pace, e.g. by `hall sim live`); "layout": the layout's
    opening hours.
    """
    if hours not in ("activity", "layout"):
        raise ValueError("hours must be 'activity' or 'layout'")
    layout = parse_layout(layout_raw)
    tickets = tickets_from_events(envelopes)
    if not tickets:
        raise ValueError("the event log holds no issued tickets")
    codes = {c.code for c in layout.categories}
    missing = sorted({t.category for t in tickets} - codes)
    if missing:
        raise ValueError(f"categories {', '.join(missing)} are in the log but not in the layout")
    zone = ZoneInfo(layout.timezone)
    law = fit_patience(*patience_data(tickets))
    per_day = []
    recorded_means = []
    recorded_sl = []
    demand = None
    for day, ts in iter_days(tickets, layout.timezone):
        midnight = dt.datetime.combine(day, dt.time(0, 0), tzinfo=zone).timestamp()
        demand = _demand_for(layout, day)
        people = people_of_day(ts, layout, midnight, law)
        periods = None
        if hours == "activity":
            spans = activity_periods(ts, midnight)
            periods = {w.number: spans for w in layout.windows}
            demand = dataclasses.replace(demand, start=spans[0][0], close=spans[-1][1],
                                         cutoff=spans[-1][1])
        record = simulate_day(layout, demand, people, periods=periods)
        per_day.append(summarise_day(record, people, demand))
        waits = [w for t in ts if (w := t.wait) is not None]
        left = [a for t in ts if (a := t.abandoned_after) is not None]
        recorded_means.append(sum(waits) / len(waits) / 60 if waits else math.nan)
        sl = metrics.service_level(waits, demand.service_level_minutes * 60, left)
        recorded_sl.append(math.nan if sl is None else sl)
    assert demand is not None
    out = {"hall": layout.code, "windows": len(layout.windows), "replayed_tickets": len(tickets),
           **aggregate(per_day, demand)}
    out["recorded"] = {"wait_minutes": {"mean": estimate(recorded_means)},
                       "service_level": estimate(recorded_sl)}
    out["patience"] = ({"law": "none fitted (nobody left): everyone patient"} if law is None
                       else {"criterion": "AIC", "events": law.events, "censored": law.censored,
                             **law.to_profile()})
    return out
