"""The people of one simulated day, drawn before the day runs.

Drawing everyone up front (arrival, category, priority, appointment, service time, patience,
no-show, matter) from the per-source streams of `sim.streams` means every configuration run on
the same seed and day sees exactly the same people, whatever the layout does with them: common
random numbers by construction. It also lets a planner reuse one population for many layouts,
and lets `replay` feed a recorded day's people through the same model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from queueing.tickets import PriorityClass
from sim.demand import CategoryDemand, Demand
from sim.flows import draw_flows
from sim.streams import Source, Streams

__all__ = ["Person", "Population", "generate_people", "booking_draws"]


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
    recheck_after: float | None = None  # a no-show who comes back this long after the no-show
    balk_u: float = 1.0  # uniform draw: balks if below the profile's balking chance (1: never)
    matters_n: int = 1  # matters on the ticket (一事联办: more than 1; `service` covers them all)
    transfer_service: float = math.nan  # 2nd service after a transfer (转办); nan: not transferred
    suspend_at: float = math.nan  # share of the service done when suspended (挂起); nan: never
    back_after: float = math.nan  # a suspended person comes back this much later (inf: not today)


class Population(Sequence[Person]):
    """A day's people as columns (what the model reads), sorted by arrival; indexing or
    iterating gives `Person` records. Columns avoid building an object per person, which is a
    large share of drawing a day."""

    __slots__ = ("arrival", "category", "service", "patience", "no_show", "priority",
                 "appointment_start", "matter", "absent_call", "recheck_after", "balk_u",
                 "matters_n", "transfer_service", "suspend_at", "back_after")

    def __init__(self, arrival: list[float], category: list[str], service: list[float],
                 patience: list[float], no_show: list[bool], priority: list[PriorityClass],
                 appointment_start: list[float | None], matter: list[str | None],
                 absent_call: list[float | None], recheck_after: list[float | None],
                 balk_u: list[float] | None = None, matters_n: list[int] | None = None,
                 transfer_service: list[float] | None = None,
                 suspend_at: list[float] | None = None,
                 back_after: list[float] | None = None) -> None:
        self.arrival = arrival
        self.category = category
        self.service = service
        self.patience = patience
        self.no_show = no_show
        self.priority = priority
        self.appointment_start = appointment_start
        self.matter = matter
        self.absent_call = absent_call
        self.recheck_after = recheck_after
        n = len(arrival)
        self.balk_u = balk_u if balk_u is not None else [1.0] * n
        self.matters_n = matters_n if matters_n is not None else [1] * n
        nan = math.nan
        self.transfer_service = transfer_service if transfer_service is not None else [nan] * n
        self.suspend_at = suspend_at if suspend_at is not None else [nan] * n
        self.back_after = back_after if back_after is not None else [nan] * n

    @classmethod
    def of(cls, people: Iterable[Person]) -> Population:
        """Columns of `people` (already a Population: itself); they must be in arrival order."""
        if isinstance(people, Population):
            return people
        ps = list(people)
        return cls([p.arrival for p in ps], [p.category for p in ps], [p.service for p in ps],
                   [p.patience for p in ps], [p.no_show for p in ps], [p.priority for p in ps],
                   [p.appointment_start for p in ps], [p.matter for p in ps],
                   [p.absent_call for p in ps], [p.recheck_after for p in ps],
                   [p.balk_u for p in ps], [p.matters_n for p in ps],
                   [p.transfer_service for p in ps], [p.suspend_at for p in ps],
                   [p.back_after for p in ps])

    def __len__(self) -> int:
        return len(self.arrival)

    @overload
    def __getitem__(self, i: int) -> Person: ...

    @overload
    def __getitem__(self, i: slice) -> list[Person]: ...

    def __getitem__(self, i: int | slice) -> Person | list[Person]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return Person(self.arrival[i], self.category[i], self.service[i], self.patience[i],
                      self.no_show[i], self.priority[i], self.appointment_start[i], self.matter[i],
                      self.absent_call[i], self.recheck_after[i], self.balk_u[i],
                      self.matters_n[i], self.transfer_service[i], self.suspend_at[i],
                      self.back_after[i])

    def __iter__(self) -> Iterator[Person]:
        for i in range(len(self)):
            yield self[i]


def _arrival_times(c: CategoryDemand, demand: Demand, streams: Streams,
                   volume: float = 1.0) -> list[float]:
    """Non-homogeneous Poisson arrivals with piecewise-constant rates, exact by restarting the
    exponential clock at each interval boundary (memorylessness). `volume` scales the day's
    rates (the day's draw from `sim.variation`: calendar × gamma, a gamma–Poisson day)."""
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
        rate = count * volume / demand.interval
        if rate <= 0:
            continue
        t = lo + rng.expovariate(rate)
        while t < hi:
            out.append(t)
            t += rng.expovariate(rate)
    return out


def _category_people(c: CategoryDemand, demand: Demand, streams: Streams,
                     volume: float = 1.0) -> Population:
    """One category's people in arrival order. Each source has its own stream per category and
    is drawn once per person, in arrival order, only when the profile gives it a role — so the
    draws depend on the profile alone, never on the layout (common random numbers), and adding
    a category leaves the others' people unchanged."""
    times = _arrival_times(c, demand, streams, volume)
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
    if demand.service_factor != 1.0:
        f = demand.service_factor
        services = [s * f for s in services]
    patience = (c.patience.sample_many(streams.get(Source.PATIENCE, code), n)
                if c.patience is not None else [math.inf] * n)
    if c.no_show > 0:
        ns = streams.get(Source.NO_SHOW, code).random
        p_ns = c.no_show
        absent = [ns() < p_ns for _ in range(n)]
    else:
        absent = [False] * n
    recheck: list[float | None] = [None] * n
    if c.no_show > 0 and c.recheck_in > 0 and c.recheck_delay is not None:
        rc = streams.get(Source.RECHECK, code)
        share, delay = c.recheck_in, c.recheck_delay
        for i in range(n):
            u = rc.random()  # one pair of draws per person, absent or not: streams stay aligned
            d = delay.sample(rc)
            if absent[i] and u < share:
                recheck[i] = d
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
    balk = None
    if demand.balking is not None:
        balk_draw = streams.get(Source.BALK, code).random  # looked up once, not per person
        balk = [balk_draw() for _ in range(n)]
    n_matters, transfer, suspend_at, back = _flows(c, demand, streams, code, services)
    return Population(times, [code] * n, services, patience, absent, priority, appointment,
                      matters, [None] * n, recheck, balk, n_matters, transfer, suspend_at, back)


def _flows(c: CategoryDemand, demand: Demand, streams: Streams, key: str, services: list[float]
           ) -> tuple[list[int] | None, list[float] | None, list[float] | None,
                      list[float] | None]:
    """The category's flows for `len(services)` people drawn on streams keyed `key` (walk-ins:
    the category's code; the booked: `CODE|booked`); a 一事联办 ticket's further matters are
    added to `services` in place. Returns draw_flows' columns."""
    n = len(services)
    n_matters, transfer, suspend_at, back = draw_flows(n, streams, key, c.transfer,
                                                       c.multi_matter, c.suspend)
    if transfer is not None and demand.service_factor != 1.0:
        transfer = [s * demand.service_factor for s in transfer]
    if n_matters is not None:
        # the further matters of a 一事联办 ticket, each its own service at the same window
        extra = streams.get(Source.MULTI, f"{key}|service")
        f = demand.service_factor
        for i, k in enumerate(n_matters):
            if k > 1:
                services[i] += sum(c.service.sample(extra) for _ in range(k - 1)) * f
    return n_matters, transfer, suspend_at, back


def booking_draws(c: CategoryDemand, demand: Demand, streams: Streams) -> list[tuple[float, str]]:
    """The day's bookings of one category: (slot start, seconds after midnight; "checked_in" or
    "no_show"), as the booking system would hold them. Places nobody booked are not listed."""
    b = c.booking
    if b is None:
        return []
    book = streams.get(Source.PRIORITY, f"{c.code}|booked").random
    out: list[tuple[float, str]] = []
    for i, count in enumerate(c.arrivals):
        if count <= 0:
            continue
        lo = demand.start + i * demand.interval
        hi = min(lo + demand.interval, demand.cutoff)
        t = lo
        while t < hi:
            for _ in range(b.capacity):
                if book() < b.fill:
                    out.append((t, "checked_in" if book() >= b.no_show else "no_show"))
            t += b.slot
    return out


def _booked_people(c: CategoryDemand, demand: Demand, streams: Streams) -> Population:
    """One category's booked appointments: slots over the intervals with walk-ins, each place
    booked with chance `fill`, the booked coming (1 − booking no-show) around their slot. Own
    streams (keys `CODE|booked`), so bookings never shift the walk-ins' draws."""
    key = f"{c.code}|booked"
    pu = streams.get(Source.PUNCTUALITY, key)
    slots = [t for t, status in booking_draws(c, demand, streams) if status == "checked_in"]
    people = []
    for slot in slots:
        early = (pu.gauss(demand.punctuality_mean, demand.punctuality_sd)
                 if demand.punctuality_sd > 0 else demand.punctuality_mean)
        people.append((slot - early, slot))
    people.sort()
    n = len(people)
    services = c.service.sample_many(streams.get(Source.SERVICE, key), n)
    if demand.service_factor != 1.0:
        services = [s * demand.service_factor for s in services]
    patience = (c.patience.sample_many(streams.get(Source.PATIENCE, key), n)
                if c.patience is not None else [math.inf] * n)
    ns = streams.get(Source.NO_SHOW, key).random
    absent = [ns() < c.no_show for _ in range(n)]
    balk = [1.0] * n  # a booked person comes for their slot whatever the queue
    # the booked go through the hall's flows like walk-ins (transfers, 一事联办, 挂起), on
    # streams of their own so bookings never shift the walk-ins' draws
    n_matters, transfer, suspend_at, back = _flows(c, demand, streams, key, services)
    return Population([a for a, _ in people], [c.code] * n, services, patience, absent,
                      [PriorityClass.NORMAL] * n, [s for _, s in people], [None] * n,
                      [None] * n, [None] * n, balk, n_matters, transfer, suspend_at, back)


def generate_people(demand: Demand, streams: Streams) -> Population:
    """Everyone who comes on this day, sorted by arrival."""
    volume = (demand.variation.day_factor(streams.day, streams.get(Source.VOLUME))
              if demand.variation is not None else 1.0)
    groups = [g for g in (_category_people(c, demand, streams, volume)
                          for c in demand.categories) if g]
    groups += [g for g in (_booked_people(c, demand, streams) for c in demand.categories
                           if c.booking is not None) if g]
    if not groups:
        return Population([], [], [], [], [], [], [], [], [], [], [])
    if len(groups) == 1:
        return groups[0]
    columns = Population.__slots__
    merged = {name: [x for g in groups for x in getattr(g, name)] for name in columns}
    arrival = merged["arrival"]
    order = sorted(range(len(arrival)), key=arrival.__getitem__)
    return Population(*([col[i] for i in order] for col in (merged[n] for n in columns)))
