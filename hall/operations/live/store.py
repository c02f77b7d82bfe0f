"""Live operations in the database (sync): alerts raised and cleared, and 潮汐窗口.

`check_alerts` builds the alert view of a hall (waiting tickets, open windows, the longest wait,
paused windows with the time of their pause, devices offline — each from hall.core.queries),
evaluates the hall's rules and stores only the changes: a new alert row when one
starts to hold, `cleared_at` when it stops. Serialized per hall through its cursor row, so two
server processes never raise the same alert twice.

`retarget_window` (潮汐窗口) changes the categories a window serves, or opens a spare window: a
hall write (hall.core.tx — the counter lock, a `window.retargeted` event with its seq that screens
and the bridge receive, the caller's idempotency key, audit). The change is stored as an override
beside the imported layout (window_overrides; `hall halls import` keeps it), validated by
`queueing.layout.parse_layout` on the layout with it, and `halls.updated_at` moves so every
process's registry reloads: the window's next call follows the new skills.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from hall.core.events import EventType
from hall.core.halls import overrides_of, with_overrides
from hall.core.queries import (
    DEFAULT_OFFLINE_SECONDS,
    device_presence,
    longest_waits,
    waiting_counts,
)
from hall.core.tx import HallTx
from hall.operations.config import OpsConfig
from hall.operations.cursors import read_cursor
from hall.operations.live.rules import Alert, HallView, WindowView, diff, evaluate
from hall.store.models import EventRow, Hall, WindowOverride, WindowRow
from hall.store.operation_models import AlertRow
from queueing.layout import HallLayout, LayoutError, parse_layout

__all__ = ["hall_view", "check_alerts", "open_alerts", "retarget_window"]


def hall_view(
    conn: Connection, hall_id: int, now: float, layout: HallLayout | None = None,
    offline_after: float = DEFAULT_OFFLINE_SECONDS,
) -> HallView:
    """The alert view of a hall; with its layout, waiting and open windows also per zone. The
    figures are hall.core.queries': waiting from the kept counts, the longest wait on
    `queueing.metrics`' definition, devices offline after `offline_after` seconds of silence."""
    counts = waiting_counts(conn, hall_id)
    windows = []
    for w in conn.execute(
        select(WindowRow.number, WindowRow.paused, WindowRow.staff_user_id).where(
            WindowRow.hall_id == hall_id, WindowRow.active.is_(True)
        )
    ):
        paused_since = None
        if w.paused:
            paused_since = conn.execute(
                select(func.max(EventRow.at)).where(
                    EventRow.hall_id == hall_id, EventRow.type == EventType.WINDOW_PAUSED, EventRow.window == w.number
                )
            ).scalar()
            paused_since = now if paused_since is None else paused_since
        windows.append(WindowView(w.number, w.staff_user_id is not None and not w.paused, paused_since))
    categories = [c.code for c in layout.categories] if layout is not None else sorted({c for c, _ in counts})
    longest = max((w.waited_seconds for w in longest_waits(conn, hall_id, categories, now).values()), default=None)
    offline = [d.code for d in device_presence(conn, hall_id, now, offline_after) if not d.online]
    by_zone: dict[str, tuple[int, int]] = {}
    if layout is not None:
        zone_of = {c.code: c.zone for c in layout.categories}
        waiting_z: dict[str, int] = {}
        for (category, _), n in counts.items():
            z = zone_of.get(category, "")
            waiting_z[z] = waiting_z.get(z, 0) + n
        open_z: dict[str, int] = {}
        numbers = {w.number for w in layout.windows}
        for view in windows:
            if view.open and view.number in numbers:
                for z in {zone_of.get(c, "") for c in layout.window(view.number).categories}:
                    open_z[z] = open_z.get(z, 0) + 1
        by_zone = {z: (waiting_z.get(z, 0), open_z.get(z, 0)) for z in set(waiting_z) | set(open_z)}
    names = {z.code: z.name for z in layout.zones} if layout is not None else {}
    return HallView(sum(counts.values()), windows, longest, offline, by_zone, names)


def open_alerts(conn: Connection, hall_id: int) -> list[Any]:
    return list(conn.execute(
        select(AlertRow).where(AlertRow.hall_id == hall_id, AlertRow.cleared_at.is_(None)).order_by(AlertRow.raised_at)
    ))


def check_alerts(
    conn: Connection, hall_id: int, cfg: OpsConfig, now: float, layout: HallLayout | None = None
) -> tuple[list[Alert], list[Any]]:
    """Store what changed; returns (alerts raised, alert rows cleared). With the layout, the
    waiting-per-window limit holds per zone."""
    read_cursor(conn, hall_id, "alerts", lock=True)
    holding = evaluate(hall_view(conn, hall_id, now, layout, cfg.device_offline_seconds), cfg.alerts, now)
    active = {(r.kind, r.subject): r for r in open_alerts(conn, hall_id)}
    raised, cleared_keys = diff(active, holding)
    for a in raised:
        conn.execute(insert(AlertRow).values(
            hall_id=hall_id, kind=a.kind, subject=a.subject, value=a.value, limit=a.limit,
            message=a.message, raised_at=now,
        ))
    cleared = [active[k] for k in cleared_keys]
    for row in cleared:
        conn.execute(update(AlertRow).where(AlertRow.id == row.id).values(cleared_at=now))
    for key, a in holding.items():  # keep the shown value current
        if key in active:
            conn.execute(update(AlertRow).where(AlertRow.id == active[key].id).values(value=a.value, message=a.message))
    return raised, cleared


def retarget_window(
    tx: HallTx, number: int, categories: list[str], name: str | None = None, kind: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """Set the categories window `number` serves; adds the window when the layout lacks it
    (a spare window opened for the day). Raises LayoutError for a layout that would be invalid
    (unknown category, a category no window serves any more); nothing is written then."""
    conn, hall_id = tx.conn, tx.hall.id
    row = conn.execute(select(Hall.layout, Hall.updated_at).where(Hall.id == hall_id)).first()
    if row is None:
        raise LayoutError("hall", "unknown hall")
    overrides = overrides_of(conn, hall_id)
    old = overrides.get(number)
    imported = next((w for w in row.layout.get("windows", []) if w.get("number") == number), None)
    added = imported is None and old is None
    override = {
        "serves": list(categories),
        "name": name or (old or {}).get("name"),
        "kind": (old or {}).get("kind") or (kind or "comprehensive" if imported is None else None),
    }
    layout = parse_layout(with_overrides(row.layout, overrides | {number: override}))  # validates first
    w = layout.window(number)
    seq = tx.emit(
        EventType.WINDOW_RETARGETED,
        {"window": number, "serves": sorted(w.categories), "name": w.name, "kind": w.kind.value, "zone": w.zone,
         "added": added},
        window=number,
    )
    values = {"serves": override["serves"], "name": override["name"], "kind": override["kind"], "set_at": tx.now, "seq": seq}
    if old is None:
        conn.execute(insert(WindowOverride).values(hall_id=hall_id, number=number, **values))
    else:
        conn.execute(update(WindowOverride).where(WindowOverride.hall_id == hall_id, WindowOverride.number == number).values(**values))
    # updated_at must move even under a fixed test clock: the registries reload on a change.
    conn.execute(update(Hall).where(Hall.id == hall_id).values(updated_at=max(tx.now, float(row.updated_at) + 0.001)))
    window_values = {"name": w.name, "kind": w.kind.value, "zone": w.zone, "active": True}
    existing = conn.execute(select(WindowRow.id).where(WindowRow.hall_id == hall_id, WindowRow.number == number)).first()
    if existing is None:
        conn.execute(insert(WindowRow).values(hall_id=hall_id, number=number, paused=False, policy_state={}, **window_values))
    else:
        conn.execute(update(WindowRow).where(WindowRow.id == existing.id).values(**window_values))
    tx.audit("window.skills", str(number), {"categories": list(categories)})
    return 200, {"window": number, "serves": sorted(w.categories), "added": added, "seq": seq}
