"""The people of one simulated day, drawn before the day runs.

Drawing everyone up front (arrival, category, priority, appointment, service time, patience,
no-show, matter) from the per-source streams of `sim.streams` means every configuration run on
the same seed and day sees exactly the same people, whatever the layout does with them: common
random numbers by construction. It also lets a planner reuse one population for many layouts,
and lets `replay` feed a recorded day's people through the same model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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


def generate_people(demand: Demand, streams: Streams) -> list[Person]:
    """Everyone who comes on this day, sorted by arrival. Each person draws a fixed number of
    values from each source's stream, in arrival order, so streams stay aligned."""
    arrivals: list[tuple[float, CategoryDemand]] = []
    for c in demand.categories:
        arrivals.extend((t, c) for t in _arrival_times(c, demand, streams))
    arrivals.sort(key=lambda x: x[0])
    svc_rng = streams.get(Source.SERVICE)
    pat_rng = streams.get(Source.PATIENCE)
    ns_rng = streams.get(Source.NO_SHOW)
    pr_rng = streams.get(Source.PRIORITY)
    pu_rng = streams.get(Source.PUNCTUALITY)
    mt_rng = streams.get(Source.MATTER)
    people: list[Person] = []
    inf = math.inf
    normal = PriorityClass.NORMAL
    for t, c in arrivals:
        # A source is drawn only when the profile gives it a role for this category, so the
        # draws per person are fixed by the profile alone (not by the layout): CRN holds.
        dist = c.service
        matter = None
        if c.matters:
            u_matter = mt_rng.random()
            acc = 0.0
            for m in c.matters:
                acc += m.share
                if u_matter < acc:
                    matter = m.code
                    dist = m.service or c.service
                    break
            else:
                matter = c.matters[-1].code
        service = dist.sample(svc_rng)
        patience = c.patience.sample(pat_rng) if c.patience is not None else inf
        absent = ns_rng.random() < c.no_show if c.no_show > 0 else False
        priority = normal
        appointment = None
        if c.appointment_share > 0 or c.priority_shares:
            u_class = pr_rng.random()
            if u_class < c.appointment_share:
                early = (pu_rng.gauss(demand.punctuality_mean, demand.punctuality_sd)
                         if demand.punctuality_sd > 0 else demand.punctuality_mean)
                appointment = t + early  # the booked slot: they come `early` seconds before it
            else:
                acc = c.appointment_share
                for klass, share in c.priority_shares:
                    acc += share
                    if u_class < acc:
                        priority = klass
                        break
        people.append(Person(t, c.code, service, patience, absent, priority, appointment, matter))
    return people
