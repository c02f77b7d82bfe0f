"""The hall snapshot (docs/CONTRACTS.md): what a screen or console shows, at one `seq`.

Read inside one consistent read transaction, so the snapshot is exactly the state after event
`seq`: a client applies only events with a larger seq on top of it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from hall.core.events import EventType, iso
from hall.core.registry import HallInfo
from hall.store.models import EventRow, HallCounter, TicketRow, WindowRow, table

__all__ = ["read_snapshot", "LATEST_CALLS"]

LATEST_CALLS = 10
T = table(TicketRow)
W = table(WindowRow)


def read_snapshot(conn: Connection, hall: HallInfo) -> dict[str, Any]:
    """The snapshot of `hall` as of this transaction. Holds no personal data."""
    seq = conn.execute(select(HallCounter.seq).where(HallCounter.hall_id == hall.id)).scalar_one()
    layout = hall.layout
    waiting = {c.code: 0 for c in layout.categories}
    for category, n in conn.execute(
        select(T.c.category, func.count()).where(T.c.hall_id == hall.id, T.c.status == "waiting").group_by(T.c.category)
    ):
        waiting[category] = int(n)
    by_zone = {z.code: 0 for z in layout.zones}
    for c in layout.categories:
        by_zone[c.zone] = by_zone.get(c.zone, 0) + waiting.get(c.code, 0)

    rows = {r.number: r for r in conn.execute(select(W).where(W.c.hall_id == hall.id))}
    ids = {r.current_ticket_id for r in rows.values() if r.current_ticket_id} | {
        r.last_finished_ticket_id for r in rows.values() if r.last_finished_ticket_id
    }
    tickets = {}
    if ids:
        for t in conn.execute(
            select(T.c.id, T.c.number, T.c.category, T.c.status, T.c.called_at).where(T.c.id.in_(ids))
        ):
            tickets[t.id] = t
    windows = []
    for w in layout.windows:
        r = rows.get(w.number)
        current = tickets.get(r.current_ticket_id) if r is not None and r.current_ticket_id else None
        last = tickets.get(r.last_finished_ticket_id) if r is not None and r.last_finished_ticket_id else None
        if r is None or not r.active:
            state = "closed"
        elif r.paused:
            state = "paused"
        elif current is not None:
            state = "serving" if current.status == "serving" else "called"
        else:
            state = "idle"
        windows.append(
            {
                "number": w.number, "name": w.name, "kind": w.kind.value, "zone": w.zone, "state": state,
                "categories": sorted(w.categories),
                "staff_name": r.staff_name if r is not None else None,
                "pause_reason": r.pause_reason if r is not None and r.paused else None,
                "current": (
                    {
                        "id": current.id, "number": current.number, "category": current.category,
                        "status": current.status, "called_at": iso(current.called_at, hall.tz) if current.called_at else None,
                    }
                    if current is not None
                    else None
                ),
                "last_finished": {"id": last.id, "number": last.number} if last is not None else None,
            }
        )

    calls = []
    for e in conn.execute(
        select(EventRow.data, EventRow.at)
        .where(EventRow.hall_id == hall.id, EventRow.type.in_((EventType.TICKET_CALLED, EventType.TICKET_RECALLED)))
        .order_by(EventRow.seq.desc())
        .limit(LATEST_CALLS)
    ):
        d = e.data
        calls.append(
            {
                "id": d.get("id"), "number": d.get("number"), "window": d.get("window"),
                "window_name": d.get("window_name"), "zone": d.get("zone"), "at": iso(e.at, hall.tz),
            }
        )
    return {
        "seq": int(seq),
        "hall": {"code": hall.code, "name": hall.name},
        "waiting": waiting,
        "waiting_by_zone": by_zone,
        "categories": [{"code": c.code, "name": c.name, "zone": c.zone} for c in layout.categories],
        "zones": [{"code": z.code, "name": z.name} for z in layout.zones],
        "windows": windows,
        "latest_calls": calls,
    }
