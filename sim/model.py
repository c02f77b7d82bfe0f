"""The SimPy model of a hall day, with `queueing`'s real dispatch policy choosing every call.

Time is SimPy's clock in epoch seconds (the day starts at the hall-local midnight of the
profile's date, so hours mean what they say); `queueing.hallqueue.HallQueue` holds the waiting
tickets and `policy.decide` (`choose` without the explanation, which the model never reads)
picks each window's next one, exactly as the server does.

Why it is fast: a person costs two SimPy events — their arrival and the end of their service
(plus one for a no-show's calling time). There is no process per person and none per window:
arrivals are one chain of timeouts over the pre-drawn population, and each window is driven by
callbacks on its service-end timeout and on its staffing boundaries. Reneging is handled lazily
and exactly: a waiting person whose patience ran out is taken out when they reach a queue's
head, before the window chooses, and recorded as leaving at the moment their patience ended.

A no-show holds the window for the profile's calling time; one who comes back re-checks in a
few places from the head (`queueing.lifecycle.recheckin_key`, `rules.recheckin_places_back`).

The hall's own flows (`sim.flows`): a transferred person (转办) waits again with their arrival's
queue key, in the target category or the named window's own queue, for a second service; a
suspended one (挂起) holds the window for part of their service, comes back later (an event) to
the head of that window's named queue and is served the rest; a window's short pause shuts it
at once when idle, after the current person when busy. Each costs events only when it happens.

Staffing: a window opens and closes on its `[[staff]]` periods; one whose period ends while
serving finishes that person first (a break starts late, never cuts a service). At the hall's
closing time windows keep serving those still waiting (overtime), as halls do.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from heapq import heappop, heappush
from types import MappingProxyType
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import simpy

from queueing.hallqueue import HallQueue
from queueing.layout import HallLayout
from queueing.lifecycle import recheckin_key
from queueing.policy import Head, WindowView
from queueing.tickets import QueueClass, queue_class
from sim.demand import Demand
from sim.population import Person, Population
from sim.servicetime import window_factors

__all__ = ["DayRecord", "Segment", "simulate_day", "day_epoch", "OUTCOME_SERVED", "OUTCOME_NO_SHOW",
           "OUTCOME_ABANDONED", "OUTCOME_UNSERVED", "OUTCOME_BALKED", "OUTCOME_REFUSED"]

OUTCOME_SERVED = 1
OUTCOME_NO_SHOW = 2
OUTCOME_ABANDONED = 3
OUTCOME_UNSERVED = 0  # still waiting when the run ended (no window ever came for them)
OUTCOME_BALKED = 4  # saw the queue on arrival and left at once, without a ticket
OUTCOME_REFUSED = 5  # a walk-in past the category's daily cap (layout `daily_cap`): no ticket


class Segment(NamedTuple):
    """An earlier service of a person who was transferred (转办) or suspended (挂起) and then
    waited again; seconds after the day's epoch."""

    kind: str  # "transferred" or "suspended"
    called: float
    end: float  # service ended by the transfer or the suspension
    window: int
    back: float  # when their next wait began (the transfer; the return of the suspended)
    to_category: str | None = None
    to_window: int | None = None


@dataclass(slots=True)
class DayRecord:
    """What happened to each person (lists indexed like the population) and to each window.

    Times are seconds after the day's epoch (local midnight; run start when stationary).
    """

    wait_start: list[float]
    called: list[float]  # nan if never called
    left: list[float]  # abandonment time, nan otherwise
    outcome: list[int]
    window: list[int]  # window number, 0 if none
    service_end: list[float]
    busy: dict[int, float]  # seconds each window spent serving or calling absent people
    staffed: dict[int, float]  # seconds each window was staffed (including overtime)
    last_end: float  # when the last window finished
    close: float  # the hall's closing time (overtime counts from here)
    categories: list[str]
    # no-shows who came back (过号重排): their first call, its no-show mark and the re-check-in
    # (then wait_start/called/outcome describe the second wait); empty dict when none did
    rechecked: dict[int, tuple[float, float, int]] = field(default_factory=dict)
    # transfers and suspensions (sim.flows): each person's earlier services, the waits they
    # completed before the current one (waits add up, as queueing.metrics counts them), the
    # suspended who did not come back (their last service ended in 挂起), each window's pauses
    segments: dict[int, list[Segment]] = field(default_factory=dict)
    earlier_wait: dict[int, float] = field(default_factory=dict)
    not_back: set[int] = field(default_factory=set)
    pauses: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    matters: list[int] = field(default_factory=list)  # matters per ticket (empty: one each)


def day_epoch(demand: Demand, layout: HallLayout) -> float:
    """Epoch seconds of the hall-local midnight starting the simulated day."""
    midnight = dt.datetime.combine(demand.date, dt.time(0, 0), tzinfo=ZoneInfo(layout.timezone))
    return midnight.timestamp()


class _Window:
    __slots__ = ("number", "view", "categories", "state", "busy", "staffed", "opened_at",
                 "periods", "final_end", "current", "factor", "on_duty", "pause_due", "ending",
                 "paused_at")

    def __init__(self, number: int, weights: Mapping[str, float],
                 periods: Sequence[tuple[float, float]]) -> None:
        self.number = number
        self.view = WindowView(number, MappingProxyType(dict(weights)))
        self.categories = frozenset(weights)
        # 0 off, 1 idle, 2 busy, 3 busy and closing (goes off after this person), 4 paused
        self.state = 0
        self.on_duty = False  # inside a staffed period (a pause ending then reopens the window)
        self.pause_due = 0.0  # a pause that fell during a service: its length, taken after it
        self.ending = 0  # how the current service ends: 0 finished, 1 suspended (挂起)
        self.paused_at = 0.0
        self.busy = 0.0
        self.staffed = 0.0
        self.opened_at = 0.0
        self.periods = tuple(periods)
        self.final_end = max((b for _, b in periods), default=0.0)
        self.current = -1
        self.factor: Mapping[str, float] | None = None  # service-time factor per category


def simulate_day(
    layout: HallLayout,
    demand: Demand,
    people: Sequence[Person],
    *,
    periods: Mapping[int, Sequence[tuple[float, float]]] | None = None,
    speeds: Mapping[int, float] | None = None,
    off_today: frozenset[int] = frozenset(),
    pauses: Mapping[int, Sequence[tuple[float, float]]] | None = None,
) -> DayRecord:
    """Run one day (or one stationary run) and return what happened to everyone.

    `periods` overrides the staffed periods per window number (seconds after midnight); windows
    missing from both it and the profile's `[[staff]]` work the hall's hours. `speeds` are the
    clerks' speed multipliers per window number (`sim.servicetime.staff_speeds`); windows in
    `off_today` are not staffed today (`sim.servicetime.absent_windows`). `pauses` are each
    window's short pauses as (instant, seconds) after midnight (`sim.flows.draw_pauses`).
    """
    epoch = day_epoch(demand, layout)
    env = simpy.Environment(initial_time=epoch)
    hq = HallQueue(layout.rules)
    staff: dict[int, Sequence[tuple[float, float]]] = dict(demand.window_periods())
    if periods is not None:
        staff.update(periods)
    hall_periods = tuple((60.0 * p.start, 60.0 * p.end) for p in layout.hours.periods)
    windows: list[_Window] = []
    for w in layout.windows:
        wp = staff.get(w.number, hall_periods if not demand.stationary else ((0.0, math.inf),))
        if w.number in off_today:
            wp = ()
        windows.append(_Window(w.number, {s.category: s.weight for s in w.skills}, wp))
    factors = window_factors(demand.service_factors, layout, speeds)
    for sw in windows:
        f = factors.get(sw.number)
        if f and any(x != 1.0 for x in f.values()):
            sw.factor = f

    n = len(people)
    nan = math.nan
    wait_start = [0.0] * n
    called = [nan] * n
    left = [nan] * n
    outcome = [OUTCOME_UNSERVED] * n
    window_of = [0] * n
    service_end = [nan] * n
    deadline = [math.inf] * n
    pop = Population.of(people)
    service = list(pop.service)  # copied: a suspension leaves the rest of it for later
    absent = list(pop.no_show)  # copied: a no-show who re-checks in is present the second time
    no_show_time = demand.no_show_call_seconds
    walk_up = demand.walk_up_seconds  # the window is held while the called person walks up
    # turnaround: the window is held after each person before its next call; folded into the
    # same timeout (no extra event) and taken off the recorded end of that person's service
    turn = demand.turnaround_seconds
    absent_call = pop.absent_call
    patience_of = pop.patience
    slot_of = pop.appointment_start
    priority_of = pop.priority
    close = epoch + demand.close
    any_patience = any(math.isfinite(x) for x in patience_of)
    expiring: list[tuple[float, int]] = []  # (deadline, person) of the admitted, a heap
    idle: list[_Window] = []  # open windows with nothing they can serve, longest idle first
    timeout = env.timeout
    call = hq.call_id  # the ticket only: the model never reads the policy's reasons
    hq_len = hq.count
    gone: list[int] = []  # who a call found out of patience at a head (refilled by each call)

    def serve_next(w: _Window, now: float) -> bool:
        """The window calls at `now` (the clock, passed in: SimPy's `now` is a property);
        True if it got someone (and is now busy)."""
        if not hq_len():  # nothing waits anywhere: skip the policy (the common case when quiet)
            return False
        if any_patience:
            # the earliest deadline of anyone still waiting: only when it has passed can a head
            # have run out of patience (saves walking the heads on most calls)
            while expiring:
                due, j = expiring[0]
                if outcome[j] == OUTCOME_UNSERVED and deadline[j] == due:
                    break
                heappop(expiring)
            if expiring and expiring[0][0] <= now:
                # heads whose patience has run out are taken out as the window reads its queues
                i = call(w.view, now, lambda j: deadline[j] <= now, gone)
                for j in gone:
                    left[j] = deadline[j] - epoch
                    outcome[j] = OUTCOME_ABANDONED
                gone.clear()
            else:
                i = call(w.view, now)
        else:
            i = call(w.view, now)
        if i is None:
            return False
        called[i] = now - epoch
        window_of[i] = w.number
        w.current = i
        if w.state != 3:
            w.state = 2
        if absent[i]:
            outcome[i] = OUTCOME_NO_SHOW
            d = absent_call[i]
            if d is None:
                d = no_show_time
            d += turn
        else:
            outcome[i] = OUTCOME_SERVED
            f = w.factor
            s = service[i] if f is None else service[i] * f.get(cat_now[i], 1.0)
            if has_suspend and suspend_at[i] == suspend_at[i] and i not in flow_done:
                s *= suspend_at[i]  # set aside part way through (挂起): the rest comes later
                w.ending = 1
            d = s + walk_up + turn
        w.busy += d
        ev = timeout(d, w)
        ev.callbacks.append(finished)
        return True

    recheck_after = pop.recheck_after
    rechecked: dict[int, tuple[float, float, int]] = {}
    places_back = layout.rules.recheckin_places_back

    def finished(ev: Any) -> None:
        w: _Window = ev.value
        now = env.now
        i = w.current
        service_end[i] = now - epoch - turn
        after = recheck_after[i]
        if absent[i] and after is not None and i not in rechecked:
            back = timeout(after, i)
            back.callbacks.append(recheck)
        if w.ending:
            w.ending = 0
            suspended(i, w, now)
        elif transfers and outcome[i] == OUTCOME_SERVED and i not in flow_done \
                and transfer_service[i] == transfer_service[i]:
            transferred(i, w, now)
        if nxt < n and arr[nxt] <= now:
            admit(now)
        if w.state == 3:
            w.pause_due = 0.0
            if not (_drains(w) and serve_next(w, now)):
                _go_off(w)
            return
        if w.pause_due:
            d, w.pause_due = w.pause_due, 0.0
            start_pause(w, d)
            return
        if not (hq_len() and serve_next(w, now)):  # the length test skips a call when none wait
            w.state = 1
            idle.append(w)
            if not pending:
                expect_arrival()

    def _drains(w: _Window) -> bool:
        """At the end of its last period, at or after closing, a window serves who is left."""
        return env.now >= close and env.now >= epoch + w.final_end and w.final_end >= demand.close

    def _go_off(w: _Window) -> None:
        w.state = 0
        w.staffed += env.now - w.opened_at
        w.opened_at = 0.0

    def open_window(ev: Any) -> None:
        w: _Window = ev.value
        w.on_duty = True
        if w.state == 4:  # paused: the pause's end opens it
            return
        if w.state == 3:  # still serving past a break that is already over: just carry on
            w.state = 2
            return
        now = env.now
        w.opened_at = now
        w.state = 1
        admit(now)
        if not serve_next(w, now):
            become_idle(w)

    def close_window(ev: Any) -> None:
        w: _Window = ev.value
        w.on_duty = False
        if w.state == 4:  # paused: stays shut when the pause ends
            return
        now = env.now
        admit(now)
        if w.state == 1:
            idle.remove(w)
            if _drains(w) and serve_next(w, now):
                w.state = 3
                return
            _go_off(w)
        elif w.state == 2:
            w.state = 3

    for sw in windows:
        for a, b in sw.periods:
            ev = timeout(max(0.0, a), sw)
            ev.callbacks.append(open_window)
            if math.isfinite(b):
                ev2 = timeout(b, sw)
                ev2.callbacks.append(close_window)

    # Arrivals are admitted lazily: while every window is busy nobody needs to react to an
    # arrival at its instant, so people are added (with their true arrival as queue key) when the
    # next window finishes. Only while some window is idle is the next arrival an event.
    normal = QueueClass.NORMAL
    appointment = QueueClass.APPOINTMENT
    arr = [a + epoch for a in pop.arrival]
    cats = pop.category
    nxt = 0
    pending = False
    add = hq.add

    balk_u = pop.balk_u
    balks = demand.balking is not None
    balk_chance = demand.balk_chance
    caps = {c.code: c.daily_cap for c in layout.categories if c.daily_cap is not None}
    issued: dict[str, int] = dict.fromkeys(caps, 0)

    def admit(now: float) -> None:
        nonlocal nxt
        i = nxt
        while i < n and arr[i] <= now:
            at = arr[i]
            # the queue they see: everyone admitted and not yet called (those whose patience
            # ran out are taken out lazily, so a crowded hall looks a little more crowded)
            if balks and balk_u[i] < balk_chance(hq_len()):
                outcome[i] = OUTCOME_BALKED
                wait_start[i] = left[i] = at - epoch
                i += 1
                continue
            if caps and slot_of[i] is None and cats[i] in caps:
                issued[cats[i]] += 1
                if issued[cats[i]] > caps[cats[i]]:  # the kiosk refuses: today's numbers are gone
                    outcome[i] = OUTCOME_REFUSED
                    wait_start[i] = left[i] = at - epoch
                    i += 1
                    continue
            slot = slot_of[i]
            if slot is not None:
                key = slot + epoch
                wait_start[i] = (at if at > key else key) - epoch
                add(Head(i, cats[i], appointment, key, key))
            else:
                wait_start[i] = at - epoch
                pri = priority_of[i]
                klass = normal if pri == "normal" else queue_class(pri, None)
                add(Head(i, cats[i], klass, at))
            due = deadline[i] = at + patience_of[i]
            if due < math.inf:
                heappush(expiring, (due, i))
            i += 1
        nxt = i

    def expect_arrival() -> None:
        nonlocal pending
        if not pending and nxt < n:
            pending = True
            ev = timeout(arr[nxt] - env.now)
            ev.callbacks.append(arrival)

    def arrival(ev: Any) -> None:
        nonlocal pending
        pending = False
        first = nxt
        now = env.now
        admit(now)
        for i in range(first, nxt):
            if not idle:
                return
            cat = cats[i]
            w = idle[0]
            if cat in w.categories:  # the longest idle window serves it (always, when pooled)
                del idle[0]
                if not serve_next(w, now):  # the policy may decline (nothing due): stay idle
                    idle.append(w)
                continue
            for w in idle:
                if cat in w.categories:
                    idle.remove(w)
                    if not serve_next(w, now):
                        idle.append(w)
                    break
        if idle:
            expect_arrival()

    def recheck(ev: Any) -> None:
        """A no-show comes back: a new wait, a few places from the head (rules)."""
        i = ev.value
        now = env.now
        rechecked[i] = (called[i], service_end[i], window_of[i])
        slot = slot_of[i]
        if slot is not None:
            klass = appointment
        else:
            pri = priority_of[i]
            klass = normal if pri == "normal" else queue_class(pri, None)
        keys = hq.queue_keys(cats[i], klass, places_back + 1)
        key = recheckin_key(now, keys, places_back)
        wait_start[i] = now - epoch
        called[i] = service_end[i] = math.nan
        window_of[i] = 0
        outcome[i] = OUTCOME_UNSERVED
        absent[i] = False  # they are here now
        deadline[i] = math.inf
        add(Head(i, cats[i], klass, key, None if slot is None else slot + epoch))
        for w in idle:
            if cats[i] in w.categories:
                idle.remove(w)
                if not serve_next(w, now):
                    idle.append(w)
                break

    def become_idle(w: _Window) -> None:
        w.state = 1
        idle.append(w)
        expect_arrival()

    # -- transfers (转办) and suspensions (挂起): the person waits again, keeping their place
    transfer_service = pop.transfer_service
    suspend_at = pop.suspend_at
    back_after = pop.back_after
    transfers = any(x == x for x in transfer_service)
    has_suspend = any(x == x for x in suspend_at)
    cat_now = list(cats)  # the category a ticket waits in now (a transfer changes it)
    flow_done: set[int] = set()  # transferred or suspended once already
    segments: dict[int, list[Segment]] = {}
    earlier_wait: dict[int, float] = {}
    not_back: set[int] = set()
    to_of = {c.code: (c.transfer.to_category, c.transfer.to_window) for c in demand.categories
             if c.transfer is not None}
    by_number = {sw.number: sw for sw in windows}

    def klass_of(i: int) -> QueueClass:
        if slot_of[i] is not None:
            return appointment
        pri = priority_of[i]
        return normal if pri == "normal" else queue_class(pri, None)

    def wait_again(i: int, now: float, target: int | None) -> None:
        """Back in the queue with their place in time; an idle window that can serve them
        calls them at once."""
        earlier_wait[i] = earlier_wait.get(i, 0.0) + max(0.0, called[i] - wait_start[i])
        wait_start[i] = now - epoch
        called[i] = service_end[i] = nan
        window_of[i] = 0
        outcome[i] = OUTCOME_UNSERVED
        deadline[i] = math.inf
        slot = slot_of[i]
        key = arr[i] if slot is None else slot + epoch
        add(Head(i, cat_now[i], klass_of(i), key, None if slot is None else slot + epoch,
                 target))
        for w in idle:
            if (w.number == target) if target is not None else (cat_now[i] in w.categories):
                idle.remove(w)
                if not serve_next(w, env.now):  # not `now`: a transfer's wait begins before it
                    idle.append(w)
                break

    def transferred(i: int, w: _Window, now: float) -> None:
        flow_done.add(i)
        to_cat, to_win = to_of[cats[i]]
        end = now - turn
        segments.setdefault(i, []).append(Segment("transferred", called[i], end - epoch,
                                                  w.number, end - epoch, to_cat, to_win))
        service[i] = transfer_service[i]
        if to_cat is not None:
            cat_now[i] = to_cat
        if to_win is not None and not by_number[to_win].periods:
            to_win = None  # that window's clerk is away today: the category's queue takes them
        wait_again(i, end, to_win)

    def suspended(i: int, w: _Window, now: float) -> None:
        flow_done.add(i)
        part = suspend_at[i]
        service[i] *= 1.0 - part  # what is left of it, served after the return
        after = back_after[i]
        end = now - turn
        if not after < math.inf or end + after >= close:  # not back today (or after closing)
            not_back.add(i)
            return
        segments.setdefault(i, []).append(Segment("suspended", called[i], end - epoch,
                                                  w.number, end + after - epoch))
        ev = timeout(now - end + after, (i, w.number))
        ev.callbacks.append(came_back)

    def came_back(ev: Any) -> None:
        i, number = ev.value
        sw = by_number[number]
        # to the head of the suspending window's own queue while it is open (idle, serving or on
        # a short pause), else the category's (shut, or closing after its current person)
        wait_again(i, env.now, number if sw.state in (1, 2, 4) else None)

    # -- short pauses (暂停服务): an idle window shuts at once, a busy one after its person
    pauses_rec: dict[int, list[tuple[float, float]]] = {}

    def pause_at(ev: Any) -> None:
        w, d = ev.value
        if w.state == 1:
            idle.remove(w)
            start_pause(w, d)
        elif w.state == 2 and not w.pause_due:
            w.pause_due = d

    def start_pause(w: _Window, d: float) -> None:
        w.state = 4
        w.staffed += env.now - w.opened_at
        w.paused_at = env.now
        ev = timeout(d, w)
        ev.callbacks.append(end_pause)

    def end_pause(ev: Any) -> None:
        w: _Window = ev.value
        now = env.now
        pauses_rec.setdefault(w.number, []).append((w.paused_at - epoch, now - epoch))
        if not w.on_duty:
            w.state = 0
            return
        w.opened_at = now
        w.state = 1
        admit(now)
        if not serve_next(w, now):
            become_idle(w)

    if pauses:
        for sw in windows:
            for at, d in pauses.get(sw.number, ()):
                ev = timeout(max(0.0, at), (sw, d))
                ev.callbacks.append(pause_at)

    env.run()

    end = env.now
    admit(math.inf)  # people who came after every window had closed for good
    for i in range(n):
        if outcome[i] == OUTCOME_UNSERVED and deadline[i] < math.inf:
            outcome[i] = OUTCOME_ABANDONED  # nobody called them before their patience ran out
            left[i] = deadline[i] - epoch
    for sw in windows:
        if sw.state not in (0, 4):
            sw.staffed += end - sw.opened_at
    return DayRecord(
        wait_start=wait_start,
        called=called,
        left=left,
        outcome=outcome,
        window=window_of,
        service_end=service_end,
        busy={w.number: w.busy for w in windows},
        staffed={w.number: w.staffed for w in windows},
        last_end=max((e for e in service_end if not math.isnan(e)), default=0.0),
        close=demand.close,
        categories=list(cats),
        rechecked=rechecked,
        segments=segments,
        earlier_wait=earlier_wait,
        not_back=not_back,
        pauses=pauses_rec,
        matters=pop.matters_n if any(k > 1 for k in pop.matters_n) else [],
    )
