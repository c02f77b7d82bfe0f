"""Staffing in a demand profile: `[[staff]]` groups of windows and their periods, and the
check that tickets are never issued for a category while no window serving it is staffed.

Errors are `DemandError(field, why)` like the rest of the profile.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from queueing.layout import HallLayout

if TYPE_CHECKING:
    from sim.demand import Demand

__all__ = ["DemandError", "StaffGroup", "parse_staff", "parse_periods", "check_coverage",
           "clock_seconds"]

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


class DemandError(ValueError):
    """A demand profile is wrong; `field` names the place and `why` says what is wrong."""

    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"{field}: {why}")
        self.field = field
        self.why = why


@dataclass(frozen=True, slots=True)
class StaffGroup:
    """Windows that open and close together; periods are seconds after local midnight."""

    windows: tuple[int, ...]
    periods: tuple[tuple[float, float], ...]


def parse_staff(raw: Any, layout: HallLayout) -> tuple[StaffGroup, ...]:
    default_periods = tuple((60.0 * p.start, 60.0 * p.end) for p in layout.hours.periods)
    numbers = [w.number for w in layout.windows]
    if raw is None:
        return (StaffGroup(tuple(numbers), default_periods),)
    if not isinstance(raw, list):
        raise DemandError("staff", "must be a list of [[staff]] tables")
    groups = []
    assigned: dict[int, str] = {}
    rest_index: int | None = None
    for i, g in enumerate(raw):
        where = f"staff[{i}]"
        if not isinstance(g, Mapping):
            raise DemandError(where, "must be a table")
        wins_raw = g.get("windows", "rest")
        if wins_raw == "rest":
            if rest_index is not None:
                raise DemandError(f"{where}.windows", "only one group can take the rest")
            rest_index = i
            wins: list[int] = []
        elif wins_raw == "*":
            wins = list(numbers)
        elif isinstance(wins_raw, list):
            wins = []
            for j, w in enumerate(wins_raw):
                if w not in numbers:
                    raise DemandError(f"{where}.windows[{j}]", f"unknown window {w!r}")
                wins.append(int(w))
        else:
            raise DemandError(f"{where}.windows", "must be a list of window numbers, \"*\" or \"rest\"")
        for w in wins:
            if w in assigned:
                raise DemandError(f"{where}.windows", f"window {w} is already in {assigned[w]}")
            assigned[w] = where
        periods = parse_periods(g.get("periods"), f"{where}.periods") if "periods" in g else default_periods
        groups.append(StaffGroup(tuple(wins), periods))
    rest = tuple(n for n in numbers if n not in assigned)
    if rest_index is not None:
        groups[rest_index] = StaffGroup(rest, groups[rest_index].periods)
    elif rest:
        groups.append(StaffGroup(rest, default_periods))
    return tuple(g for g in groups if g.windows)


def parse_periods(raw: Any, where: str) -> tuple[tuple[float, float], ...]:
    if not isinstance(raw, list) or not raw:
        raise DemandError(where, "must be a non-empty list of [\"HH:MM\", \"HH:MM\"] pairs")
    out: list[tuple[float, float]] = []
    for i, pr in enumerate(raw):
        here = f"{where}[{i}]"
        if not (isinstance(pr, list) and len(pr) == 2):
            raise DemandError(here, "must be a pair [\"HH:MM\", \"HH:MM\"]")
        a, b = clock_seconds(pr[0], here), clock_seconds(pr[1], here)
        if b <= a:
            raise DemandError(here, "must end after it starts")
        if out and a < out[-1][1]:
            raise DemandError(here, "periods must be in order and must not overlap")
        out.append((a, b))
    return tuple(out)


def check_coverage(demand: Demand, layout: HallLayout) -> None:
    """Raise DemandError if tickets of a category are issued while no window serving it is open.

    Checked over every stretch between consecutive rate, cut-off and staffing boundaries.
    """
    periods = demand.window_periods()
    for c in demand.categories:
        serving = [w.number for w in layout.windows if c.code in w.categories and w.number in periods]
        where = f"categories.{c.code}"
        if not serving:
            if (demand.stationary and c.rate_per_hour > 0) or any(a > 0 for a in c.arrivals):
                raise DemandError(where, "no staffed window serves this category")
            continue
        if demand.stationary:
            continue
        cuts = {demand.start, demand.cutoff}
        for i in range(len(c.arrivals) + 1):
            cuts.add(demand.start + i * demand.interval)
        for w in serving:
            for a, b in periods[w]:
                cuts.update((a, b))
        points = sorted(x for x in cuts if demand.start <= x <= demand.cutoff)
        for a, b in zip(points, points[1:], strict=False):
            mid = (a + b) / 2
            i = int((mid - demand.start) // demand.interval)
            if i >= len(c.arrivals) or c.arrivals[i] <= 0:
                continue
            if not any(p0 <= mid < p1 for w in serving for p0, p1 in periods[w]):
                raise DemandError(
                    where, f"tickets are issued {_hhmm(a)}-{_hhmm(b)} but no window serving it is "
                    "staffed then (check [[staff]] periods and lunch breaks)")


def _hhmm(seconds: float) -> str:
    m = int(seconds // 60)
    return f"{m // 60:02d}:{m % 60:02d}"


def clock_seconds(text: Any, where: str) -> float:
    if not isinstance(text, str) or not _TIME.match(text):
        raise DemandError(where, f"{text!r} is not a time HH:MM")
    h, m = text.split(":")
    return 3600.0 * int(h) + 60.0 * int(m)
