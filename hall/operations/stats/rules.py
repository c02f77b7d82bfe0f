"""Statistics of a hall day, pure: per day, hour, category, zone, window and staff member.

Every figure uses `queueing.metrics` (the one set of definitions the simulator also reports with):
waits and service times from each ticket's events, type-7 percentiles, and the service level
that counts abandonments after the limit. Attribution:

- `hour`, `category`, `zone`: of the ticket as issued (hall-local hour of issue);
- `window`, `staff`: the window and user of the ticket's last `started` event (who served it);
  tickets never served appear under no window or staff;
- ratings set aside by an upheld appeal are left out; 满意率 = ratings 基本满意 and above over
  ratings; a case is *on time* when closed by its deadline.

Seconds everywhere (rows are the export's columns; pages show minutes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hall.core.events import EventType
from hall.operations.ratings.rules import is_bad, satisfaction_rate
from queueing.metrics import (
    abandoned_wait_seconds,
    percentile,
    service_level,
    service_seconds,
    wait_seconds,
)

__all__ = ["StatEvent", "CaseFact", "TicketTrace", "traces", "compute", "COLUMNS", "DIMENSIONS"]

DIMENSIONS = ("day", "hour", "category", "zone", "window", "staff")

COLUMNS = (
    "dimension",
    "key",
    "tickets",
    "served",
    "wait_mean",
    "wait_p90",
    "wait_max",
    "service_mean",
    "service_p90",
    "service_level",
    "no_shows",
    "transfers",
    "suspensions",
    "ratings",
    "bad_ratings",
    "satisfaction",
    "cases",
    "cases_on_time",
)


@dataclass(frozen=True)
class StatEvent:
    ticket_id: int
    type: str
    at: float
    data: Mapping[str, Any]
    window: int | None = None
    user: str | None = None


@dataclass(frozen=True)
class CaseFact:
    ticket_id: int
    closed_on_time: bool
    withdrawn: bool = False


@dataclass
class TicketTrace:
    ticket_id: int
    category: str = ""
    zone: str = ""
    issued_at: float = 0.0
    window: int | None = None
    staff: str | None = None
    events: list[tuple[str, float, Mapping[str, Any]]] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for e in self.events if e[0] == kind)


def traces(events: Iterable[StatEvent], zones: Mapping[str, str]) -> dict[int, TicketTrace]:
    """Per-ticket event lists, in the order given (seq order)."""
    out: dict[int, TicketTrace] = {}
    for ev in events:
        t = out.setdefault(ev.ticket_id, TicketTrace(ev.ticket_id))
        if ev.type == EventType.TICKET_ISSUED:
            t.category = str(ev.data.get("category", ""))
            t.zone = str(ev.data.get("zone") or zones.get(t.category, ""))
            t.issued_at = ev.at
        elif ev.type == EventType.TICKET_STARTED:
            t.window = ev.window if ev.window is not None else ev.data.get("window")
            t.staff = ev.user
        t.events.append((ev.type, ev.at, ev.data))
    return out


def _row(
    dimension: str,
    key: str,
    group: Sequence[TicketTrace],
    ratings: Mapping[int, int],
    cases: Mapping[int, CaseFact],
    within: float,
) -> dict[str, Any]:
    waits: list[float] = []
    abandoned: list[float] = []
    services: list[float] = []
    for t in group:
        w = wait_seconds(t.events)
        if w is not None:
            waits.append(w)
        else:
            a = abandoned_wait_seconds(t.events)
            if a is not None:
                abandoned.append(a)
        s = service_seconds(t.events)
        if s is not None:
            services.append(s)
    levels = [ratings[t.ticket_id] for t in group if t.ticket_id in ratings]
    group_cases = [cases[t.ticket_id] for t in group if t.ticket_id in cases and not cases[t.ticket_id].withdrawn]
    return {
        "dimension": dimension,
        "key": key,
        "tickets": len(group),
        "served": sum(1 for t in group if t.count(EventType.TICKET_FINISHED)),
        "wait_mean": (sum(waits) / len(waits)) if waits else None,
        "wait_p90": percentile(waits, 90),
        "wait_max": max(waits) if waits else None,
        "service_mean": (sum(services) / len(services)) if services else None,
        "service_p90": percentile(services, 90),
        "service_level": service_level(waits, within, abandoned),
        "no_shows": sum(1 for t in group if t.count(EventType.TICKET_NO_SHOW)),
        "transfers": sum(t.count(EventType.TICKET_TRANSFERRED) for t in group),
        "suspensions": sum(t.count(EventType.TICKET_SUSPENDED) for t in group),
        "ratings": len(levels),
        "bad_ratings": sum(1 for lv in levels if is_bad(lv)),
        "satisfaction": satisfaction_rate(levels),
        "cases": len(group_cases),
        "cases_on_time": sum(1 for c in group_cases if c.closed_on_time),
    }


def compute(
    day: str,
    events: Iterable[StatEvent],
    tz: ZoneInfo,
    zones: Mapping[str, str],
    ratings: Mapping[int, int],
    cases: Iterable[CaseFact] = (),
    staff_names: Mapping[str, str] | None = None,
    within_seconds: float = 15 * 60.0,
    day_of: Mapping[int, str] | None = None,
) -> list[dict[str, Any]]:
    """Rows for every dimension (see COLUMNS), sorted by dimension order then key.

    `ratings` maps ticket id -> level (appeal-upheld ratings already left out); `staff_names`
    maps a staff key to the name shown in the `key` column. For a range of days, `day_of` maps
    ticket id -> its day: one `day` row per day, the other dimensions over the whole range.
    """
    by_ticket = traces(events, zones)
    case_map = {c.ticket_id: c for c in cases}
    names = staff_names or {}
    groups: dict[str, dict[str, list[TicketTrace]]] = {d: defaultdict(list) for d in DIMENSIONS}
    for t in by_ticket.values():
        if not t.category:
            continue  # events of a ticket issued on another day
        groups["day"][day_of.get(t.ticket_id, day) if day_of else day].append(t)
        groups["hour"][f"{datetime.fromtimestamp(t.issued_at, tz).hour:02d}"].append(t)
        groups["category"][t.category].append(t)
        groups["zone"][t.zone or "-"].append(t)
        if t.window is not None:
            groups["window"][str(t.window)].append(t)
        if t.staff is not None:
            groups["staff"][names.get(t.staff, t.staff)].append(t)
    rows: list[dict[str, Any]] = []
    for dim in DIMENSIONS:
        keys = groups[dim]
        order = sorted(keys, key=lambda k: (int(k) if k.isdigit() else 0, k))  # "2026-03-03" sorts as text
        for key in order:
            rows.append(_row(dim, key, keys[key], ratings, case_map, within_seconds))
    if not groups["day"]:
        rows.insert(0, _row("day", day, [], ratings, case_map, within_seconds))
    return rows
