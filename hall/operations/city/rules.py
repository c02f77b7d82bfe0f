"""The city view's figures per hall, their totals and their order (pure).

A row is one hall or station as its own manager view would show it now: the same definitions
(hall.core.queries), read for every hall at once by hall.operations.city.store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["HallFigures", "SORT_KEYS", "SortError", "sort_rows", "totals", "replication_view", "LINK_STALE_SECONDS"]

# A site reports every second or so; silent this long, its link counts as down.
LINK_STALE_SECONDS = 15.0


def replication_view(state: dict[str, Any] | None, now: float) -> dict[str, Any] | None:
    """What the city view says of a site's replication: how long since the site last reported
    and whether its link counts as down."""
    if state is None:
        return None
    last = state.get("last_batch_at")
    lag = None if last is None else max(0.0, now - float(last))
    return {**state, "lag_seconds": lag, "link_down": lag is None or lag > LINK_STALE_SECONDS}


@dataclass(frozen=True, slots=True)
class HallFigures:
    code: str
    name: str
    kind: str  # hall | township | station (queueing.layout.HALL_KINDS)
    waiting: int
    longest_wait_seconds: float | None  # None while nobody waits
    service_level: float | None  # today's share called within the hall's limit (None: nobody counted yet)
    service_level_called: int
    service_level_abandoned: int
    service_level_at: float | None  # when the background loop last computed it
    windows_open: int
    windows_total: int
    devices_offline: int
    ratings: int  # today's 好差评
    bad_ratings: int
    cases_open: int
    cases_overdue: int
    # A hall its own site server runs: how far its log has arrived here ({acked_seq, site_seq,
    # last_batch_at, lag_seconds}); None for a hall this server runs.
    replication: dict[str, Any] | None = None

    @property
    def bad_share(self) -> float | None:
        return self.bad_ratings / self.ratings if self.ratings else None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["bad_share"] = self.bad_share
        return out


class SortError(ValueError):
    """An unknown sort key."""


# Sort keys the page offers; missing figures (None) always sort last, whichever the direction.
SORT_KEYS: tuple[str, ...] = (
    "code", "name", "kind", "waiting", "longest_wait_seconds", "service_level", "windows_open", "devices_offline",
    "ratings", "bad_share", "cases_open", "cases_overdue",
)


def sort_rows(rows: Iterable[HallFigures], key: str = "code", descending: bool = False) -> list[HallFigures]:
    if key not in SORT_KEYS:
        raise SortError(f"sort must be one of {', '.join(SORT_KEYS)}")
    present = [r for r in rows if getattr(r, key) is not None]
    missing = [r for r in rows if getattr(r, key) is None]
    present.sort(key=lambda r: (getattr(r, key), r.code), reverse=descending)
    missing.sort(key=lambda r: r.code)
    return present + missing


def totals(rows: Sequence[HallFigures]) -> dict[str, Any]:
    """The city's own line: sums, the longest wait anywhere, and the service level of all halls
    together (called within the limit over all counted, each hall by its own limit)."""
    counted = sum(r.service_level_called + r.service_level_abandoned for r in rows if r.service_level is not None)
    met = sum(r.service_level * (r.service_level_called + r.service_level_abandoned)
              for r in rows if r.service_level is not None)
    ratings = sum(r.ratings for r in rows)
    bad = sum(r.bad_ratings for r in rows)
    waits = [r.longest_wait_seconds for r in rows if r.longest_wait_seconds is not None]
    return {
        "halls": len(rows),
        "waiting": sum(r.waiting for r in rows),
        "longest_wait_seconds": max(waits) if waits else None,
        "service_level": met / counted if counted else None,
        "windows_open": sum(r.windows_open for r in rows),
        "windows_total": sum(r.windows_total for r in rows),
        "devices_offline": sum(r.devices_offline for r in rows),
        "ratings": ratings,
        "bad_ratings": bad,
        "bad_share": bad / ratings if ratings else None,
        "cases_open": sum(r.cases_open for r in rows),
        "cases_overdue": sum(r.cases_overdue for r in rows),
    }
