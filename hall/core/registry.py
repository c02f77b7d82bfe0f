"""Halls known to this process: their parsed layouts (with their 潮汐 overrides), cached, reloaded
when the table changes.

`hall halls import` may run in another process while the server runs, so a miss reloads from
the database, and `refresh()` is called by the hub's poller when `halls.updated_at` moves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hall.core.halls import effective_layout
from hall.errors import not_found
from hall.store.database import Database
from hall.store.models import Hall
from queueing.layout import HallLayout, Window

__all__ = ["HallInfo", "HallRegistry"]


@dataclass(frozen=True, slots=True)
class HallInfo:
    id: int
    code: str
    name: str
    layout: HallLayout
    settings: Mapping[str, Any]
    updated_at: float
    tz: ZoneInfo = field(init=False)
    # Lookups derived from the (immutable) layout, each worked out once: they walk every
    # window, and issuing a ticket asked for them some 60 times.
    _memo: dict[tuple[str, str], Any] = field(init=False, default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tz", ZoneInfo(self.layout.timezone))

    @property
    def timezone(self) -> str:
        return self.layout.timezone

    def window(self, number: int) -> Window:
        """Raises ApiError 404 for a window the layout does not have."""
        try:
            return self.layout.window(number)
        except KeyError:
            raise not_found("window", number) from None

    def zone_of(self, category: str) -> str:
        try:
            return self.layout.category(category).zone
        except KeyError:
            return ""

    def has_category(self, code: str) -> bool:
        return any(c.code == code for c in self.layout.categories)

    def competing_categories(self, category: str) -> list[str]:
        """queueing.estimate.competing_categories, sorted."""
        key = ("competing", category)
        got = self._memo.get(key)
        if got is None:
            from queueing.estimate import competing_categories

            got = self._memo[key] = sorted(competing_categories(self.layout, category))
        return list(got)

    def windows_serving(self, category: str) -> list[int]:
        """The numbers of the layout's windows that serve `category`."""
        key = ("serving", category)
        got = self._memo.get(key)
        if got is None:
            got = self._memo[key] = [w.number for w in self.layout.windows_serving(category)]
        return list(got)

    @property
    def public_snapshot(self) -> bool:
        """Whether screens may read the snapshot and public stream without a token."""
        return bool(self.settings.get("public_snapshot", True))


class HallRegistry:
    """Code → HallInfo, loaded lazily from the `halls` table."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._halls: dict[str, HallInfo] = {}

    def get(self, code: str) -> HallInfo:
        """The hall, loading it if needed; raises ApiError 404 for an unknown code. Blocking."""
        info = self._halls.get(code)
        if info is None:
            self.refresh()
            info = self._halls.get(code)
            if info is None:
                raise not_found("hall", code)
        return info

    def cached(self, code: str) -> HallInfo | None:
        return self._halls.get(code)

    def by_id(self, hall_id: int) -> HallInfo | None:
        for info in self._halls.values():
            if info.id == hall_id:
                return info
        return None

    def all(self) -> list[HallInfo]:
        return list(self._halls.values())

    def refresh(self) -> bool:
        """Reload halls whose row changed; True when anything changed. Blocking."""
        with self.db.read() as conn:
            stamps = conn.execute(select(Hall.id, Hall.code, Hall.updated_at)).all()
            stale = [r.id for r in stamps if (old := self._halls.get(r.code)) is None or old.updated_at != r.updated_at]
            rows = (
                conn.execute(
                    select(Hall.id, Hall.code, Hall.name, Hall.layout, Hall.settings, Hall.updated_at).where(Hall.id.in_(stale))
                ).all()
                if stale
                else []
            )
            # The layout a hall runs on is the imported one with its 潮汐 overrides.
            layouts = {row.id: effective_layout(conn, row.id, row.layout) for row in rows}
        changed = bool(rows)
        seen = {r.code for r in stamps}
        for row in rows:
            self._halls[row.code] = HallInfo(
                row.id, row.code, row.name, layouts[row.id], dict(row.settings or {}), row.updated_at
            )
        for code in set(self._halls) - seen:
            del self._halls[code]
            changed = True
        return changed
