"""Replication rules (pure).

Up: the site ships its event log in seq order with the rows the events touched (tickets,
ratings, cases) and the hall's small live tables (windows, waiting counts, device presence). The
city applies a batch only where it continues the acknowledged seq, idempotently by (hall, seq):
a batch that starts at or before the acknowledged seq skips what it already has; one that leaves
a gap is refused with the acknowledged seq so that the site resumes from there.

Tickets are matched by their natural key (hall, day, number) — the site's and the city's ids
differ — and ratings and cases through their ticket.

Down: changes made at the city for a site's hall travel as requests with idempotency keys, which
the site applies through its own API in its own transaction. Only changes a city makes for a
hall travel: 潮汐 window skills, 差评整改 case steps and the hall's operations settings; any other
write to a site's hall at the city is refused (the site's windows and kiosks are at the site).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ROLE_CITY", "ROLE_SITE", "BatchGap", "Down", "down_route", "new_events", "remap_event_data", "BATCH_EVENTS",
]

ROLE_CITY = "city"  # this server holds a copy; the site is the hall's authority
ROLE_SITE = "site"  # this server is the authority and ships to the city
BATCH_EVENTS = 500


class BatchGap(ValueError):
    """A batch does not continue the acknowledged seq."""

    def __init__(self, acked: int, first: int) -> None:
        super().__init__(f"the city has seq {acked}; the batch starts at {first}")
        self.acked = acked
        self.first = first


def new_events(acked: int, events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The events of a batch the city does not have yet, checked to continue `acked` without a
    gap and in order; raises BatchGap otherwise."""
    fresh = [e for e in events if int(e["seq"]) > acked]
    expected = acked + 1
    for e in fresh:
        if int(e["seq"]) != expected:
            raise BatchGap(acked, int(e["seq"]))
        expected += 1
    return fresh


def remap_event_data(data: Mapping[str, Any], ids: Mapping[int, int]) -> dict[str, Any]:
    """The event payload with the site's ticket id (its `id`) replaced by the city's."""
    out = dict(data)
    if isinstance(out.get("id"), int) and out["id"] in ids:
        out["id"] = ids[out["id"]]
    return out


@dataclass(frozen=True, slots=True)
class Down:
    """A write at the city that travels to the site: `kind` names it; `case_id` when the path
    names a case (translated to the site's case through its ticket)."""

    kind: str
    case_id: int | None = None


_DOWN: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("window_skills", re.compile(r"^/api/halls/[^/]+/ops/windows/\d+/skills$")),
    ("case_step", re.compile(r"^/api/halls/[^/]+/ops/cases/(\d+)/[a-z_]+$")),
    ("settings", re.compile(r"^/api/halls/[^/]+/ops/settings$")),
)
_HALL_PATH = re.compile(r"^/api/halls/([^/]+)/")


def hall_of_path(path: str) -> str | None:
    m = _HALL_PATH.match(path)
    return m.group(1) if m else None


def down_route(method: str, path: str) -> Down | None:
    """Which travelling write this is, or None (then the city refuses it for a site's hall)."""
    if method not in ("POST", "PUT"):
        return None
    for kind, pattern in _DOWN:
        m = pattern.match(path)
        if m:
            return Down(kind, int(m.group(1)) if kind == "case_step" else None)
    return None
