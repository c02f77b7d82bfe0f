"""The people of one simulated day, drawn before the day runs.

Drawing everyone up front (arrival, category, priority, appointment, service time, patience,
no-show, matter) from the per-source streams of `sim.streams` means every configuration run on
the same seed and day sees exactly the same people, whatever the layout does with them: common
random numbers by construction. It also lets a planner reuse one population for many layouts,
and lets `replay` feed a recorded day's people through the same model.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from operator import attrgetter

from queueing.tickets import PriorityClass
from sim.demand import CategoryDemand, Demand
from sim.streams import Source, Streams

__all__ = ["Person", "generate_people"]


@dataclass(slots=True)
class Person:
    """One visitor. Times are seconds after the simulated day's local midnight (day mode) or
    after the start of the run (stationary)."""

    arrival: float
    category: str
    service: float  # seconds at the window once served
    patience: float  # seconds they wait before leaving (inf: never)
    no_show: bool  # absent when called (过号)
    priority: PriorityClass = PriorityClass.NORMAL
    appointment_start: float | None = None
    matter: str | None = None
    absent_call: float | None = None  # a no-show's calling time at the window (None: profile's)


def _arrival_times(c: CategoryDemand, demand: Demand, streams: Streams) -> list[float]:
    """Non-homogeneous Poisson arrivals with piecewise-constant rates, exact by restarting the
    exponential clock at each interval boundary (memorylessness)."""
    rng = streams.get(Source.ARRIVALS, c.code)
    out: list[float] = []
    if demand.stationary:
        if c.rate_per_hour <= 0:
            return out
        rate = c.rate_per_hour / 3600.0
        t = rng.expovariate(rate)
        while t < demand.horizon:
            out.append(t)
            t += rng.expovariate(rate)
        return out
    for i, count in enumerate(c.arrivals):
        lo = demand.start + i * demand.interval
        hi = min(lo + demand.interval, demand.cutoff)
        if count <= 0 or hi <= lo:
            continue
        rate = count / demand.interval
        t = lo + rng.expovariate(rate)
        while t < hi:
            out.append(t)
            t += rng.expovariate(rate)
    return out


def _category_people(c: CategoryDemand, demand: Demand, streams: Streams) -> list[Person]:
    """One category's people in arrival order. Each source has its own stream per category and
    is drawn once per person, in arrival order, only when the profile gives it a role — so the
    draws depend on the profile alone, never on the layout (common random numbers), and adding
    a category leaves the others' people unchanged."""
    times = _arrival_times(c, demand, streams)
    n = len(times)
    code = c.code
    matters: list[str | None] = [None] * n
    if c.matters:
        mt = streams.get(Source.MATTER, code)
        svc = streams.get(Source.SERVICE, code)
        services = []
        for i in range(n):
            u, acc = mt.random(), 0.0
            chosen = c.matters[-1]
            for m in c.matters:
                acc += m.share
                if u < acc:
                    chosen = m
                    break
            matters[i] = chosen.code
            services.append((chosen.service or c.service).sample(svc))
    else:
        services = c.service.sample_many(streams.get(Source.SERVICE, code), n)
    patience = (c.patience.sample_many(streams.get(Source.PATIENCE, code), n)
                if c.patience is not None else [math.inf] * n)
    if c.no_show > 0:
        ns = streams.get(Source.NO_SHOW, code).random
        p_ns = c.no_show
        absent = [ns() < p_ns for _ in range(n)]
    else:
        absent = [False] * n
    priority: list[PriorityClass] = [PriorityClass.NORMAL] * n
    appointment: list[float | None] = [None] * n
    if c.appointment_share > 0 or c.priority_shares:
        pr = streams.get(Source.PRIORITY, code).random
        pu = streams.get(Source.PUNCTUALITY, code)
        for i in range(n):
            u = pr()
            if u < c.appointment_share:
                early = (pu.gauss(demand.punctuality_mean, demand.punctuality_sd)
                         if demand.punctuality_sd > 0 else demand.punctuality_mean)
                appointment[i] = times[i] + early  # the booked slot: they come `early` before it
                continue
            acc = c.appointment_share
            for klass, share in c.priority_shares:
                acc += share
                if u < acc:
                    priority[i] = klass
                    break
    return [Person(t, code, s, pa, a, pr_, ap, m) for t, s, pa, a, pr_, ap, m in
            zip(times, services, patience, absent, priority, appointment, matters, strict=True)]


def generate_people(demand: Demand, streams: Streams) -> list[Person]:
    """Everyone who comes on this day, sorted by arrival."""
    groups = [_category_people(c, demand, streams) for c in demand.categories]
    groups = [g for g in groups if g]
    if len(groups) == 1:
        return groups[0]
    return list(heapq.merge(*groups, key=attrgetter("arrival")))
