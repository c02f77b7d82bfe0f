"""Adding or updating a hall from its layout file (`hall halls import`, `hall serve LAYOUT`), and
the hall's layout as it runs: the imported one with its 潮汐 overrides applied.

Zones and categories are replaced; windows are updated in place by number (a window dropped from
the layout is marked inactive, so its history keeps its row); the matter catalogue is mapped onto
the hall's categories. Tickets and events are never touched. 潮汐 overrides (window_overrides,
written by hall.operations.live through the hall transaction) outlive an import: those that still
make a valid layout are kept, the others are dropped, and `ImportResult` names both.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from pypinyin import Style, lazy_pinyin
from sqlalchemy import Connection, delete, insert, select, update

from hall.store.models import (
    CategoryRow,
    Hall,
    HallCounter,
    Matter,
    WindowOverride,
    WindowRow,
    Zone,
)
from queueing.layout import HallLayout, LayoutError, parse_layout

__all__ = [
    "import_layout",
    "import_hall",
    "ImportResult",
    "catalogue",
    "matter_category",
    "pinyin_keys",
    "overrides_of",
    "with_overrides",
    "effective_layout",
]


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did: the hall's id and the 潮汐 overrides it kept and dropped (window numbers)."""

    hall_id: int
    kept: tuple[int, ...] = ()
    dropped: tuple[int, ...] = ()
    layout: HallLayout | None = field(default=None, compare=False)


def overrides_of(conn: Connection, hall_id: int) -> dict[int, dict[str, Any]]:
    """The hall's 潮汐 overrides: window number → {serves, name, kind}."""
    rows = conn.execute(
        select(WindowOverride.number, WindowOverride.serves, WindowOverride.name, WindowOverride.kind)
        .where(WindowOverride.hall_id == hall_id)
        .order_by(WindowOverride.number)
    )
    return {r.number: {"serves": list(r.serves), "name": r.name, "kind": r.kind} for r in rows}


def with_overrides(source: Mapping[str, Any], overrides: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    """The layout source with each override applied: the window serves the override's categories;
    a window the source lacks (a spare window opened) is added with the override's name and kind."""
    out = copy.deepcopy(dict(source))
    windows = out.setdefault("windows", [])
    for number, o in sorted(overrides.items()):
        target = next((w for w in windows if w.get("number") == number), None)
        if target is None:
            target = {"number": number, "name": o.get("name") or f"{number}号窗口", "kind": o.get("kind") or "comprehensive"}
            windows.append(target)
        elif o.get("name"):
            target["name"] = o["name"]
        target["serves"] = list(o["serves"])
    return out


def effective_layout(conn: Connection, hall_id: int, source: Mapping[str, Any]) -> HallLayout:
    """The layout the hall runs on: its imported `source` with its 潮汐 overrides. Raises
    LayoutError when they no longer fit together (import_layout drops such overrides)."""
    return parse_layout(with_overrides(source, overrides_of(conn, hall_id)))


@lru_cache(maxsize=1)
def catalogue() -> tuple[dict[str, Any], ...]:
    """The demo matter catalogue (hall/data/matters.json): code, name, category, zone, department."""
    text = resources.files("hall").joinpath("data/matters.json").read_text(encoding="utf-8")
    return tuple(json.loads(text)["matters"])


def pinyin_keys(name: str) -> tuple[str, str]:
    """(initials, full pinyin) of a matter name: 营业执照 → ("yyzz", "yingyezhizhao")."""
    syllables = lazy_pinyin(name, style=Style.NORMAL, errors="ignore")
    return "".join(s[0] for s in syllables if s), "".join(syllables)


def matter_category(layout: HallLayout, matter: dict[str, Any]) -> str:
    """The hall category a catalogue matter goes to: the same code and name, else a category of
    the same zone, else the hall's first category (its 综合受理)."""
    for c in layout.categories:
        if c.code == matter["category"] and c.name == matter.get("category_name"):
            return c.code
    for c in layout.categories:
        if c.zone == matter.get("zone"):
            return c.code
    return layout.categories[0].code


def import_layout(
    conn: Connection, layout: HallLayout, *, now: float, matters: Sequence[dict[str, Any]] | None = None
) -> int:
    """`import_hall`, answering the hall's id."""
    return import_hall(conn, layout, now=now, matters=matters).hall_id


def import_hall(
    conn: Connection, layout: HallLayout, *, now: float, matters: Sequence[dict[str, Any]] | None = None
) -> ImportResult:
    """Insert or update the hall described by `layout` inside `conn`'s transaction at the
    instant `now` (the caller's clock). Its 潮汐 overrides are kept where they still make a valid
    layout with the new file, and dropped (named in the result) where they do not."""
    source = json.loads(json.dumps(dict(layout.source), default=str))
    # An optional [server] table of the layout file holds server settings of the hall:
    # public_snapshot = false makes screens present a screen token.
    server = source.get("server") if isinstance(source.get("server"), dict) else {}
    settings = {"public_snapshot": bool(server.get("public_snapshot", True))}
    hall_id = conn.execute(select(Hall.id).where(Hall.code == layout.code)).scalar()
    if hall_id is None:
        hall_id = conn.execute(
            insert(Hall)
            .values(
                code=layout.code, name=layout.name, timezone=layout.timezone, layout=source,
                settings=settings, created_at=now, updated_at=now,
            )
            .returning(Hall.id)
        ).scalar_one()
        conn.execute(insert(HallCounter).values(hall_id=hall_id, seq=0))
    else:
        conn.execute(
            update(Hall)
            .where(Hall.id == hall_id)
            .values(name=layout.name, timezone=layout.timezone, layout=source, settings=settings, updated_at=now)
        )
    kept, dropped = _keep_fitting_overrides(conn, hall_id, source)
    layout = effective_layout(conn, hall_id, source)
    conn.execute(delete(Zone).where(Zone.hall_id == hall_id))
    if layout.zones:
        conn.execute(insert(Zone), [{"hall_id": hall_id, "code": z.code, "name": z.name} for z in layout.zones])
    conn.execute(delete(CategoryRow).where(CategoryRow.hall_id == hall_id))
    conn.execute(
        insert(CategoryRow),
        [
            {"hall_id": hall_id, "code": c.code, "name": c.name, "zone": c.zone, "service_minutes": c.service_minutes}
            for c in layout.categories
        ],
    )
    existing = {r.number: r.id for r in conn.execute(select(WindowRow.number, WindowRow.id).where(WindowRow.hall_id == hall_id))}
    for w in layout.windows:
        values = {"name": w.name, "kind": w.kind.value, "zone": w.zone, "active": True}
        if w.number in existing:
            conn.execute(update(WindowRow).where(WindowRow.id == existing[w.number]).values(**values))
        else:
            conn.execute(insert(WindowRow).values(hall_id=hall_id, number=w.number, paused=False, policy_state={}, **values))
    gone = set(existing) - {w.number for w in layout.windows}
    if gone:
        conn.execute(update(WindowRow).where(WindowRow.hall_id == hall_id, WindowRow.number.in_(gone)).values(active=False))
    items = catalogue() if matters is None else matters
    conn.execute(delete(Matter).where(Matter.hall_id == hall_id))
    rows = []
    for m in items:
        initials, full = pinyin_keys(m["name"])
        rows.append(
            {
                "hall_id": hall_id, "code": m["code"], "name": m["name"], "category": matter_category(layout, m),
                "department": m.get("department", ""), "initials": initials, "pinyin": full,
            }
        )
    if rows:
        conn.execute(insert(Matter), rows)
    return ImportResult(hall_id, kept, dropped, layout)


def _keep_fitting_overrides(conn: Connection, hall_id: int, source: Mapping[str, Any]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    # One at a time, in window order: an override is kept when the layout with it and the ones
    # kept before it still parses (its categories exist, every category keeps a window).
    kept: dict[int, dict[str, Any]] = {}
    dropped: list[int] = []
    for number, o in overrides_of(conn, hall_id).items():
        try:
            parse_layout(with_overrides(source, kept | {number: o}))
        except LayoutError:
            dropped.append(number)
            continue
        kept[number] = o
    if dropped:
        conn.execute(delete(WindowOverride).where(WindowOverride.hall_id == hall_id, WindowOverride.number.in_(dropped)))
    return tuple(kept), tuple(dropped)
