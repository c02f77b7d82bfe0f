"""Fitting the hall's own flows (`sim.flows`) and its bookings from the exported event log.

Per category (tickets as issued), among tickets whose service started at least once:

- **transfer**: the share with a `ticket.transferred`, its most common target (category or
  named window) and a lognormal law by moments of the service after the transfer;
- **multi_matter**: the share with two or more `ticket.matter_started`, and their usual count;
- **suspend**: the share with a `ticket.suspended`; of those, the share that came back
  (`ticket.resumed`), their return delay (exponential, by its mean) and how far through the
  service the suspension came (the first part over the whole, for those who came back and
  finished).

A person's **own service** (what the category's law describes) is the service before any
transfer, over the ticket's matters, so a 一事联办 ticket does not inflate the per-matter law.

Hall-wide **pauses** (`window.paused` / `window.resumed`): their count over the windows' staffed
exposure — each window-day from its first call to its last end, inside the hall's opening
periods, less the pauses themselves — and their mean length (exponential).

**Bookings**: appointment tickets give the punctuality (slot − check-in, mean and sd) and, per
category, the slot length (the smallest gap between slot times), the capacity (the most
tickets seen for one slot) and the share of places that turned into tickets. The ticket log
cannot tell a place nobody booked from a booking nobody kept: with `bookings` (the appointment
records: category, start, status) `no_show` is the share of kept-or-missed bookings marked
`no_show` and `fill` the share of places booked; without them `fill` is places shown and
`no_show` is 0, and the output says which.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from queueing.layout import HallLayout
from queueing.tickets import TicketEventType as E
from sim.eventlog import TicketLog

__all__ = ["service_parts", "own_service", "fit_category_flows", "fit_pauses", "fit_booking",
           "punctuality", "MIN_FLOW_SAMPLES"]

MIN_FLOW_SAMPLES = 5  # fewer cases than this: the law is left to the defaults
_ENDS = (E.FINISHED, E.TRANSFERRED, E.SUSPENDED, E.NO_SHOW, E.CLOSED, E.CANCELLED)


def service_parts(t: TicketLog) -> list[tuple[float, str]]:
    """(seconds, how it ended) of each period the ticket was served, in order."""
    out: list[tuple[float, str]] = []
    start: float | None = None
    for kind, at, _ in t.events:
        if kind == E.STARTED:
            start = at
        elif kind in _ENDS and start is not None:
            out.append((max(0.0, at - start), str(kind)))
            start = None
    return out


def _matters(t: TicketLog) -> int:
    return max(1, sum(1 for kind, _, _ in t.events if kind == E.MATTER_STARTED))


def own_service(t: TicketLog) -> float | None:
    """Seconds of the person's own service per matter (before any transfer); None if never
    served."""
    parts = service_parts(t)
    if not parts:
        return None
    total = 0.0
    for secs, end in parts:
        total += secs
        if end == E.TRANSFERRED:
            break
    return total / _matters(t)


def _lognormal(values: Sequence[float]) -> dict[str, Any]:
    mean = sum(values) / len(values)
    var = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return {"dist": "lognormal", "mean_minutes": round(mean / 60, 3),
            "cv": round(max(math.sqrt(var) / mean, 0.05), 3)}


def fit_category_flows(ts: Sequence[TicketLog]) -> dict[str, Any]:
    """The category's `transfer`, `multi_matter` and `suspend` tables (only those seen)."""
    served = [t for t in ts if service_parts(t)]
    if not served:
        return {}
    out: dict[str, Any] = {}
    moved, targets, after = 0, Counter[tuple[str, Any]](), []
    for t in served:
        parts = service_parts(t)
        for j, (_, end) in enumerate(parts):
            if end == E.TRANSFERRED:
                moved += 1
                data = next(d for k, _, d in t.events if k == E.TRANSFERRED)
                if data.get("to_window") is not None:
                    targets[("to_window", int(data["to_window"]))] += 1
                elif data.get("to_category") is not None:
                    targets[("to_category", str(data["to_category"]))] += 1
                rest = sum(s for s, _ in parts[j + 1:])
                if parts[j + 1:] and rest > 0:
                    after.append(rest)
                break
    if moved and targets:
        (key, value), _ = targets.most_common(1)[0]
        table: dict[str, Any] = {"share": round(moved / len(served), 4), key: value}
        if len(after) >= MIN_FLOW_SAMPLES:
            table["service"] = _lognormal(after)
        out["transfer"] = table
    multi = [k for t in served if (k := _matters(t)) > 1]
    if multi:
        out["multi_matter"] = {"share": round(len(multi) / len(served), 4),
                               "matters": max(2, round(sum(multi) / len(multi)))}
    set_aside, back, delays, fractions = 0, 0, [], []
    for t in served:
        kinds = [k for k, _, _ in t.events]
        if E.SUSPENDED not in kinds:
            continue
        set_aside += 1
        at_s = next(a for k, a, _ in t.events if k == E.SUSPENDED)
        resumed = [a for k, a, _ in t.events if k == E.RESUMED and a >= at_s]
        if resumed:
            back += 1
            delays.append(resumed[0] - at_s)
            parts = service_parts(t)
            whole = sum(s for s, end in parts)
            if parts[-1][1] == E.FINISHED and whole > 0 and len(parts) >= 2:
                fractions.append(parts[0][0] / whole)
    if set_aside:
        table = {"share": round(set_aside / len(served), 4),
                 "returns": round(back / set_aside, 4)}
        if delays:
            table["return_delay"] = {"dist": "exponential",
                                     "mean_minutes": round(sum(delays) / len(delays) / 60, 3)}
        if fractions:
            table["at"] = round(min(0.95, max(0.05, sum(fractions) / len(fractions))), 3)
        out["suspend"] = table
    return out


def fit_pauses(envelopes: Iterable[Mapping[str, Any]], tickets: Sequence[TicketLog],
               layout: HallLayout) -> dict[str, Any] | None:
    """`profile.pauses` from the windows' pause events; None when the log has none."""
    zone = ZoneInfo(layout.timezone)
    opened: dict[int, float] = {}
    spans: list[tuple[int, float, float]] = []
    for env in envelopes:
        kind = env.get("type")
        if kind not in ("window.paused", "window.resumed"):
            continue
        w = env["data"].get("window")
        if not isinstance(w, int):
            continue
        if kind == "window.paused":
            opened[w] = env["at_epoch"]
        elif w in opened:
            spans.append((w, opened.pop(w), env["at_epoch"]))
    if not spans:
        return None

    def day_of(at: float) -> dt.date:
        return dt.datetime.fromtimestamp(at, zone).date()

    active: dict[tuple[int, dt.date], list[float]] = {}
    for t in tickets:
        for kind, at, data in t.events:
            w = data.get("window") if data else None
            if w is not None and kind in (E.CALLED, E.FINISHED, E.NO_SHOW):
                lo_hi = active.setdefault((int(w), day_of(at)), [at, at])
                lo_hi[0], lo_hi[1] = min(lo_hi[0], at), max(lo_hi[1], at)
    exposure = 0.0
    for (_, day), (lo, hi) in active.items():
        midnight = dt.datetime.combine(day, dt.time(0), tzinfo=zone).timestamp()
        for p in layout.hours.periods:
            a, b = midnight + 60 * p.start, midnight + 60 * p.end
            exposure += max(0.0, min(hi, b) - max(lo, a))
    paused = sum(b - a for _, a, b in spans)
    exposure -= paused
    if exposure <= 0:
        return None
    return {"per_hour": round(len(spans) / (exposure / 3600), 4),
            "minutes": {"dist": "exponential",
                        "mean_minutes": round(paused / len(spans) / 60, 3)}}


def fit_booking(ts: Sequence[TicketLog], ndays: int, zone: ZoneInfo,
                bookings: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any] | None:
    """One category's `booking` table from its appointment tickets (None: no appointments)."""
    appts = [t for t in ts if t.appointment_start is not None]
    if not appts or ndays <= 0:
        return None
    per_slot = Counter(t.appointment_start for t in appts if t.appointment_start is not None)
    times = sorted({dt.datetime.fromtimestamp(s, zone).time() for s in per_slot})
    secs = [x.hour * 3600 + x.minute * 60 + x.second for x in times]
    gaps = [b - a for a, b in zip(secs, secs[1:], strict=False) if b > a]
    slot = min(gaps) if gaps else 1800
    capacity = max(per_slot.values())
    places = capacity * len(times) * ndays
    shown = len(appts) / places
    out: dict[str, Any] = {"slot_minutes": round(slot / 60, 3), "capacity": capacity}
    if bookings:
        kept = [b for b in bookings if b.get("status") != "cancelled"]
        missed = sum(1 for b in kept if b.get("status") == "no_show")
        out["fill"] = round(min(1.0, len(kept) / places), 4)
        out["no_show"] = round(missed / len(kept), 4) if kept else 0.0
    else:
        out["fill"] = round(min(1.0, shown), 4)
        out["no_show"] = 0.0
    return out


def punctuality(tickets: Sequence[TicketLog]) -> dict[str, float] | None:
    """How early the booked check in (slot − issue), mean and sd in minutes; None: too few."""
    early = [(t.appointment_start - t.issued) / 60 for t in tickets
             if t.appointment_start is not None]
    if len(early) < MIN_FLOW_SAMPLES:
        return None
    mean = sum(early) / len(early)
    sd = math.sqrt(sum((e - mean) ** 2 for e in early) / (len(early) - 1))
    return {"early_mean_minutes": round(mean, 3), "sd_minutes": round(sd, 3)}
