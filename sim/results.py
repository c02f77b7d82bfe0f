"""From what happened on each simulated day to the figures a planner reads, with intervals.

Waits, service level and percentiles use `queueing.metrics` — the server's own definitions:
a wait runs from the moment a ticket starts waiting (issue; for an appointment the later of
check-in and slot) to its first call; the service level counts called tickets plus those that
left after waiting longer than the limit. Every per-day figure is then averaged across days
with a 95% t interval (`sim.stats`), days being independent replications, clipped to what
the quantity can be (a share to [0, 1], a time or count to at least 0).

Two mean waits, both named, because they answer different questions: `mean_served` over those
called (what `queueing.metrics.summary` reports for the server's tickets; also kept as `mean`)
and `mean_all_arrivals` over everyone who came, a person who gave up counting the time they
waited before leaving (Erlang A's Little's-law mean). Leaving out those who gave up flatters a
hall exactly when it is short of windows. Beside the service level (metrics' definition) stands
`share_called_within`: people called within the limit over all arrivals, the share a hall
manager can quote without a definition.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from typing import Any

from queueing import metrics
from sim.demand import Demand
from sim.model import (
    OUTCOME_ABANDONED,
    OUTCOME_BALKED,
    OUTCOME_NO_SHOW,
    OUTCOME_REFUSED,
    OUTCOME_SERVED,
    DayRecord,
)
from sim.population import Person, Population
from sim.stats import estimate

__all__ = ["summarise_day", "aggregate", "SCALARS", "GRID_MINUTES"]

GRID_MINUTES = 15  # queue length is sampled on this grid through the day

# per-day scalar figures (name -> JSON path is decided in `aggregate`)
SCALARS = ("mean", "mean_served", "mean_all_arrivals", "share_called_within", "balking_rate",
           "p50", "p90", "p95", "service_level", "abandonment_rate", "no_show_rate",
           "utilisation", "overtime_minutes", "arrivals", "served", "unserved", "max_waiting")


def _nan_if_none(x: float | None) -> float:
    return math.nan if x is None else x


def summarise_day(record: DayRecord, people: Sequence[Person], demand: Demand) -> dict[str, Any]:
    """One day's figures (plain floats, minutes for times); NaN where undefined."""
    within = demand.service_level_minutes * 60.0
    first = demand.warmup if demand.stationary else -math.inf
    waits: list[float] = []
    abandoned_waits: list[float] = []
    counted = served = no_show = abandoned = unserved = called_within = balked = refused = 0
    hourly: dict[int, tuple[list[float], list[float]]] = {}
    day = not demand.stationary
    called, wait_start, left, outcome = record.called, record.wait_start, record.left, record.outcome
    arrivals = Population.of(people).arrival
    earlier = record.earlier_wait  # waits before a transfer or a suspension add up (metrics)
    for i, arrival in enumerate(arrivals):
        if arrival < first:
            continue
        o = outcome[i]
        if o == OUTCOME_BALKED:  # left without a ticket: outside the server's statistics
            balked += 1
            continue
        if o == OUTCOME_REFUSED:  # past the daily cap: no ticket either
            refused += 1
            continue
        counted += 1
        bucket = None
        if day:
            bucket = hourly.setdefault(int(arrival // 3600), ([], []))
        if o == OUTCOME_SERVED or o == OUTCOME_NO_SHOW:
            w = called[i] - wait_start[i]
            w = w if w > 0 else 0.0
            if earlier:
                w += earlier.get(i, 0.0)
            waits.append(w)
            if w <= within:
                called_within += 1
            if bucket is not None:
                bucket[0].append(w)
            if o == OUTCOME_SERVED:
                served += 1
            else:
                no_show += 1
        elif o == OUTCOME_ABANDONED:
            abandoned += 1
            a = left[i] - wait_start[i]
            abandoned_waits.append(a if a > 0 else 0.0)
            if bucket is not None:
                bucket[1].append(abandoned_waits[-1])
        else:
            unserved += 1
    staffed = sum(record.staffed.values())
    busy = sum(record.busy.values())
    mean_served = (sum(waits) / len(waits) / 60.0) if waits else math.nan
    # everyone whose wait ended (called or gave up); `unserved` people were still waiting when
    # a stationary run stopped and have no finished wait to count
    finished = len(waits) + len(abandoned_waits)
    mean_all = ((sum(waits) + sum(abandoned_waits)) / finished / 60.0) if finished else math.nan
    out: dict[str, Any] = {
        "arrivals": float(counted),
        "served": float(served),
        "unserved": float(unserved),
        "mean": mean_served,
        "mean_served": mean_served,
        "mean_all_arrivals": mean_all,
        "share_called_within": called_within / counted if counted else math.nan,
        "p50": _nan_if_none(metrics.percentile(waits, 50)) / 60.0,
        "p90": _nan_if_none(metrics.percentile(waits, 90)) / 60.0,
        "p95": _nan_if_none(metrics.percentile(waits, 95)) / 60.0,
        "service_level": _nan_if_none(metrics.service_level(waits, within, abandoned_waits)),
        "abandonment_rate": abandoned / counted if counted else math.nan,
        "balking_rate": balked / (counted + balked) if counted + balked else math.nan,
        "refused": float(refused),
        "no_show_rate": no_show / counted if counted else math.nan,
        "utilisation": busy / staffed if staffed > 0 else math.nan,
        "overtime_minutes": max(0.0, record.last_end - record.close) / 60.0 if day else 0.0,
        "by_window": {str(k): (record.busy[k] / v if v > 0 else math.nan)
                      for k, v in record.staffed.items()},
        "by_hour": {str(h): _nan_if_none(metrics.service_level(ws, within, ab))
                    for h, (ws, ab) in sorted(hourly.items())},
    }
    grid, waiting, in_hall = _occupancy(record, people, demand)
    out["grid"] = grid
    out["waiting"] = waiting
    out["in_hall"] = in_hall
    out["max_waiting"] = float(max(waiting)) if waiting else 0.0
    return out


def _occupancy(record: DayRecord, people: Sequence[Person],
               demand: Demand) -> tuple[list[float], list[float], list[float]]:
    """People waiting and people in the hall (waiting or at a window) on the grid (day mode)."""
    if demand.stationary or not people:
        return [], [], []
    arrivals = sorted(Population.of(people).arrival)
    leave_queue = []
    leave_hall = []
    for i in range(len(people)):
        c, lft, end = record.called[i], record.left[i], record.service_end[i]
        if not math.isnan(c):
            leave_queue.append(c)
            leave_hall.append(end if not math.isnan(end) else c)
        elif not math.isnan(lft):
            leave_queue.append(lft)
            leave_hall.append(lft)
    leave_queue.sort()
    leave_hall.sort()
    step = GRID_MINUTES * 60.0
    t = math.floor(demand.start / step) * step
    end = max(record.last_end, demand.close)
    grid, waiting, in_hall = [], [], []
    while t <= end:
        came = bisect.bisect_right(arrivals, t)
        grid.append(t)
        waiting.append(float(came - bisect.bisect_right(leave_queue, t)))
        in_hall.append(float(came - bisect.bisect_right(leave_hall, t)))
        t += step
    return grid, waiting, in_hall


def _hhmm(seconds: float) -> str:
    m = int(round(seconds / 60.0))
    return f"{m // 60:02d}:{m % 60:02d}"


def aggregate(days: Sequence[Mapping[str, Any]], demand: Demand) -> dict[str, Any]:
    """The JSON result of one configuration over its days (see the module docstring)."""
    def col(name: str) -> list[float]:
        return [d[name] for d in days]

    def share(values: Sequence[float]) -> dict[str, object]:
        return estimate(values, lo=0.0, hi=1.0)

    def positive(values: Sequence[float]) -> dict[str, object]:
        return estimate(values, lo=0.0)

    out: dict[str, Any] = {
        "days": len(days),
        "wait_minutes": {k: positive([d.get(k, d["mean"]) for d in days])
                         for k in ("mean", "mean_served", "mean_all_arrivals",
                                   "p50", "p90", "p95")},
        "service_level": {"within_minutes": demand.service_level_minutes,
                          **share(col("service_level")),
                          "share_called_within": share(
                              [d.get("share_called_within", math.nan) for d in days])},
        "abandonment_rate": share(col("abandonment_rate")),
        "balking_rate": share([d.get("balking_rate", math.nan) for d in days]),
        "refused_at_cap": positive([d.get("refused", 0.0) for d in days]),
        "no_show_rate": share(col("no_show_rate")),
        "utilisation": share(col("utilisation")),
        "overtime_minutes": positive(col("overtime_minutes")),
        "arrivals": positive(col("arrivals")),
        "served": positive(col("served")),
        "unserved": positive(col("unserved")),
        "max_waiting": positive(col("max_waiting")),
    }
    windows = sorted({k for d in days for k in d["by_window"]}, key=int)
    out["utilisation"]["by_window"] = {
        k: share([d["by_window"].get(k, math.nan) for d in days]) for k in windows}
    hours = sorted({int(h) for d in days for h in d["by_hour"]})
    out["service_level"]["by_hour"] = [
        {"hour": _hhmm(h * 3600), **share([d["by_hour"].get(str(h), math.nan) for d in days])}
        for h in hours]
    longest = max(days, key=lambda d: len(d["grid"])) if days else None
    if longest is not None and longest["grid"]:
        grid = longest["grid"]

        def series(name: str) -> list[dict[str, Any]]:
            rows = []
            for j, t in enumerate(grid):
                # a day that ended earlier had nobody left at this time
                vals = [d[name][j] if j < len(d[name]) else 0.0 for d in days]
                rows.append({"time": _hhmm(t), **positive(vals)})
            return rows

        out["queue_length"] = {"waiting": series("waiting"), "in_hall": series("in_hall")}
    else:
        out["queue_length"] = {"waiting": [], "in_hall": []}
    return out
