"""The one set of definitions every part reports with (server statistics, simulator, estimates).

- **Wait**: from the moment a ticket starts waiting to the moment it is first called. A ticket
  starts waiting when issued; an appointment at the later of check-in and slot start. A
  transferred or resumed ticket waits again, and its waits add up. A no-show who re-checks in
  starts over: only the wait after the re-check-in counts. Recalls do not end or extend a wait.
- **Service time**: from `started` to `finished`, summed over every period the ticket was served
  (a period also ends at a transfer, a suspension or a no-show).
- **Service level** within N minutes: tickets whose wait ended by a call within N minutes, over
  tickets whose wait ended by a call plus those that abandoned (cancelled, reneged, closed while
  waiting) after waiting more than N minutes. Abandoning sooner than N counts on neither side —
  the usual contact-centre definition, so people who left early neither help nor hurt.
- **Percentile**: linear interpolation between closest ranks (Hyndman–Fan type 7, numpy's
  default): p-th percentile of sorted x[0..n-1] is at rank (n-1)·p/100.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from queueing.tickets import TicketEventType as E

__all__ = ["wait_seconds", "service_seconds", "abandoned_wait_seconds", "service_level", "percentile", "summary"]

TicketEvent = tuple[str, float, Mapping[str, Any]]

_END_SERVICE = {E.FINISHED, E.TRANSFERRED, E.SUSPENDED, E.NO_SHOW, E.CLOSED, E.CANCELLED}
_ABANDON = {E.CANCELLED, E.CLOSED}


def _waits(events: Iterable[TicketEvent], now: float | None) -> tuple[float, float | None, bool]:
    """(completed waiting seconds, start of an open wait or None, ever called)."""
    total = 0.0
    start: float | None = None
    called = False
    for kind, at, data in events:
        if kind == E.ISSUED:
            slot = data.get("appointment_start") if data else None
            start = max(at, slot) if slot is not None else at
            total = 0.0
        elif kind == E.RECHECKED_IN:
            total, start, called = 0.0, at, False
        elif kind in (E.TRANSFERRED, E.RESUMED):
            if start is None:
                start = at
        elif kind == E.CALLED:
            if start is not None:
                total += max(0.0, at - start)
                start = None
            called = True
    return total, start, called


def wait_seconds(events: Iterable[TicketEvent], now: float | None = None) -> float | None:
    """Total wait of one ticket from its events in order: (type, at, data).

    None when its wait never ended by a call, unless `now` is given: then an open wait counts
    up to `now` (the wait so far).
    """
    total, start, called = _waits(events, now)
    if start is not None:
        if now is None:
            return total if called else None
        return total + max(0.0, now - start)
    return total if called else None


def abandoned_wait_seconds(events: Sequence[TicketEvent]) -> float | None:
    """How long a ticket had waited when it left without being called (None if it did not)."""
    total, start, _ = _waits(events[:-1], None) if events else (0.0, None, False)
    if not events or events[-1][0] not in _ABANDON or start is None:
        return None
    return total + max(0.0, events[-1][1] - start)


def service_seconds(events: Iterable[TicketEvent]) -> float | None:
    """Total service time of one ticket; None if service never started."""
    total = 0.0
    start: float | None = None
    served = False
    for kind, at, _ in events:
        if kind == E.STARTED:
            start, served = at, True
        elif kind in _END_SERVICE and start is not None:
            total += max(0.0, at - start)
            start = None
    return total if served else None


def service_level(waits: Iterable[float], within_seconds: float, abandoned: Iterable[float] = ()) -> float | None:
    """Share served within the limit (see the module's definition); None with no one counted."""
    met = total = 0
    for w in waits:
        total += 1
        if w <= within_seconds:
            met += 1
    for a in abandoned:
        if a > within_seconds:
            total += 1
    return met / total if total else None


def percentile(values: Iterable[float], p: float) -> float | None:
    """Type-7 percentile, p in [0, 100]; None for no values."""
    if not 0 <= p <= 100:
        raise ValueError("p must be between 0 and 100")
    xs = sorted(values)
    if not xs:
        return None
    rank = (len(xs) - 1) * p / 100
    lo = math.floor(rank)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (rank - lo)


def summary(values: Sequence[float]) -> dict[str, float | int | None]:
    """count, mean, p50, p90, p95 and max of a sample, by the definitions above."""
    n = len(values)
    return {
        "count": n,
        "mean": (sum(values) / n) if n else None,
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p95": percentile(values, 95),
        "max": max(values) if n else None,
    }
