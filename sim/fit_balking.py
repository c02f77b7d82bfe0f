"""Balking by visible queue length, fitted from the event log (`profile.balking`).

A balker takes no ticket, so the log never shows one — but it shows what they saw: the hall's
waiting count is known at every instant (tickets waiting between their issue, re-check-in,
transfer or return and their next call, cancellation or closing). If a person seeing n waiting
leaves with chance b(n), tickets are issued at rate λ(t)·(1 − b(n(t))): the issue rate falls as
the queue grows, beyond what the time of day explains.

Estimator (stated): a Poisson-process likelihood with one free arrival rate λ per interval of
the day (the time-of-day profile, shared by the recorded days) and b the model's linear ramp (0
up to `start`, 1 from `all`). For a ramp, λ̂ = N / Σₙ E(n)(1 − b(n)) per interval (N tickets,
E(n) seconds with n waiting over the days), leaving the profile log-likelihood Σⱼ log(1 − b(nⱼ)) + Σ N log(N / S(b)) over
tickets j issued seeing nⱼ. `start` and `all` are found on a whole-number grid; balking is
reported only when it beats "nobody balks" by AIC (two parameters more: 2ΔlogL > 4).
`arrival_scale` then gives, per interval, the factor Σ N / Σ λ̂·E — the walk-in arrivals the
kiosk would have seen had nobody balked — so the fitted profile's arrivals are the people who
came, not only those who stayed.

Only walk-in tickets are at risk (a booked person comes for their slot whatever the queue,
as in the model); everyone waiting counts in what a newcomer sees. The model counts as waiting
those whose patience ran out until they reach a head, the log counts them until they leave, so
with much abandonment the fitted thresholds come out a little low.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from queueing.tickets import TicketEventType as E
from sim.eventlog import TicketLog

__all__ = ["BalkingFit", "fit_balking", "waiting_segments"]

_STARTS = (E.ISSUED, E.RECHECKED_IN, E.TRANSFERRED, E.RESUMED)
_ENDS = (E.CALLED, E.CANCELLED, E.CLOSED)
MIN_TICKETS = 200  # fewer walk-ins than this: too little to tell balking from the profile


@dataclass(frozen=True, slots=True)
class BalkingFit:
    start: int
    all: int
    gain: float  # 2 × log-likelihood over "nobody balks" (kept when above 4: AIC)
    scale: tuple[float, ...]  # per interval: arrivals had nobody balked / tickets issued

    def to_profile(self) -> dict[str, int]:
        return {"start": self.start, "all": self.all}


def waiting_segments(tickets: Sequence[TicketLog]) -> list[tuple[float, int]]:
    """(instant, +1 / −1) steps of the hall's waiting count, sorted; a leaving step sorts
    before a joining one at the same instant."""
    steps: list[tuple[float, int]] = []
    for t in tickets:
        since: float | None = None
        for kind, at, _ in t.events:
            if kind in _STARTS and since is None:
                since = at
            elif kind in _ENDS and since is not None:
                if at > since:  # called on arrival: never seen waiting by anyone
                    steps += ((since, 1), (at, -1))
                since = None
    steps.sort()
    return steps


def _keep(n: int, start: int, full: int) -> float:  # 1 − b(n) on the model's ramp
    return 1.0 if n <= start else 0.0 if n >= full else (full - n) / (full - start)


def fit_balking(days: Sequence[tuple[float, Sequence[TicketLog]]], interval: float,
                n_intervals: int, at_risk: Callable[[TicketLog], bool]) -> BalkingFit | None:
    """The balking ramp from recorded days (None: too few walk-ins, or nobody balks by AIC).
    `days`: (epoch of the day's first interval, its tickets); tickets are issued over
    `n_intervals` intervals of `interval` seconds from there; `at_risk` says which tickets
    could have balked (walk-ins)."""
    # one arrival rate per interval of the profile, shared by the days: a rate per (day,
    # interval) leaves ~20 tickets to each and its estimate soaks up the queue's growth within
    # the cell (incidental parameters: on 8 synthetic days it fitted start 0 against a true 6)
    exposure: list[list[float]] = [[] for _ in range(n_intervals)]  # seconds at each count
    cell_interval = list(range(n_intervals))
    seen: list[tuple[int, int]] = []  # (interval, count seen) per at-risk ticket
    for origin, ts in days:
        # one timeline: leaving steps, then newcomers' looks, then joining steps at an instant
        marks = [(at, 0 if step < 0 else 2, step) for at, step in waiting_segments(ts)]
        marks += [(t.issued, 1, 0) for t in ts if at_risk(t)]
        marks.sort()
        n, last = 0, origin
        end = origin + n_intervals * interval
        for at, what, step in marks:
            a, b = max(last, origin), min(at, end)
            while a < b:  # exposure at count n, cut at interval boundaries
                i = int((a - origin) // interval)
                hi = min(b, origin + (i + 1) * interval)
                row = exposure[i]
                if len(row) <= n:
                    row.extend([0.0] * (n + 1 - len(row)))
                row[n] += hi - a
                a = hi
            last = max(last, at)
            if what == 1:
                if origin <= at < end:
                    seen.append((int((at - origin) // interval), n))
            else:
                n += step
    if len(seen) < MIN_TICKETS:
        return None
    top = max(x for _, x in seen)
    width = max([top + 1] + [len(r) for r in exposure])
    totals = [0] * len(exposure)
    hist = [0] * (top + 1)
    for c, x in seen:
        totals[c] += 1
        hist[x] += 1
    cells = [c for c in range(len(exposure)) if totals[c]]
    # prefix sums of seconds and count × seconds per cell: S(b) of a ramp in O(1) per cell
    p0: dict[int, list[float]] = {}
    p1: dict[int, list[float]] = {}
    for c in cells:
        row = exposure[c] + [0.0] * (width - len(exposure[c]))
        a0, a1 = [0.0], [0.0]
        for k, sec in enumerate(row):
            a0.append(a0[-1] + sec)
            a1.append(a1[-1] + k * sec)
        p0[c], p1[c] = a0, a1

    def s_of(c: int, start: int, full: int) -> float:
        a0, a1 = p0[c], p1[c]
        lo, m = min(start + 1, width), min(full, width)
        ramp = (full * (a0[m] - a0[lo]) - (a1[m] - a1[lo])) / (full - start) if m > lo else 0.0
        return a0[lo] + ramp

    def loglik(start: int, full: int) -> float:
        ll = sum(h * math.log(_keep(x, start, full)) for x, h in enumerate(hist) if h)
        return ll + sum(totals[c] * math.log(totals[c] / s_of(c, start, full)) for c in cells)

    base = loglik(width, width + 1)  # nobody balks: every count below the ramp
    best = max(((loglik(s, f), s, f) for s in range(top + 1)
                for f in range(top + 1, 2 * top + 3)), key=lambda r: r[0])
    gain = 2 * (best[0] - base)
    if gain <= 4:
        return None
    _, start, full = best
    issued = [0.0] * n_intervals
    came = [0.0] * n_intervals
    for c in cells:
        i = cell_interval[c]
        lam = totals[c] / s_of(c, start, full)
        issued[i] += totals[c]
        came[i] += lam * p0[c][-1]
    scale = tuple(round(came[i] / issued[i], 4) if issued[i] else 1.0 for i in range(n_intervals))
    return BalkingFit(start, full, round(gain, 2), scale)
