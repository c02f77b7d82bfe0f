"""Device presence kept as state (hall.store.models.DevicePresence), changed only inside the
hall transaction; `device.status` events are its log, emitted whenever a device's state moves.

- `record_heartbeat` — POST …/devices/heartbeat: the sender is seen now; a bridge also reports
  every device it drives (each with `ok`), and one it no longer reports is forgotten; a page
  (kiosk, screen, pad) reports only itself.
- `mark_silent` — the silence watch: a device still marked online whose last report is older
  than the hall's `device_offline_seconds` is marked offline, once, with an event. Several
  server processes may run it: the change happens under the hall lock, so only one emits.

What counts as online *now* is read by one function, hall.core.queries.device_presence.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

import anyio
from sqlalchemy import delete, insert, select, update

from hall.core.events import EventType
from hall.core.queries import SILENT, offline_seconds
from hall.core.registry import HallInfo
from hall.core.tx import HallTx, run_write
from hall.errors import ApiError, forbidden
from hall.security.auth import Principal
from hall.store.database import Database
from hall.store.models import Device, DevicePresence, table

__all__ = ["record_heartbeat", "mark_silent", "presence_watch", "WATCH_SECONDS"]

log = logging.getLogger("hall.core.presence")
P = table(DevicePresence)
WATCH_SECONDS = 5.0  # how often the watch looks; a device is offline by the hall's setting


def _text(value: Any, size: int) -> str | None:
    return None if value is None else str(value)[:size]


def _window(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def record_heartbeat(tx: HallTx, sender: Principal, devices: Sequence[dict[str, Any]]) -> int:
    """Record one heartbeat (`devices`: [{id, kind, window?, ok, detail?}], already checked to
    be a list of objects with an id) from a device token; returns how many devices changed
    state. A bridge names only the devices behind it: ApiError 403 `not_your_device`, and
    nothing recorded, when it names a registered device (a kiosk, a pad: they report
    themselves) or one another sender reports."""
    now = tx.now
    reports: list[dict[str, Any]] = []
    if sender.kind != "device":
        raise forbidden("heartbeats come from devices")
    via = sender.name
    if sender.role == "bridge":
        reports.append({"code": sender.name, "kind": "bridge", "window": sender.window, "online": True, "detail": None})
        for d in (d for d in devices if str(d["id"]) != sender.name):
            reports.append({
                "code": str(d["id"])[:64], "kind": _text(d.get("kind"), 16) or "", "window": _window(d.get("window")),
                "online": bool(d.get("ok", True)), "detail": _text(d.get("detail"), 200),
            })
    else:
        # A page reports itself, whatever id it made up: its device is the token's.
        ok = all(bool(d.get("ok", True)) for d in devices)
        detail = next((_text(d.get("detail"), 200) for d in devices if d.get("detail") is not None), None)
        reports.append({"code": sender.name, "kind": sender.role, "window": sender.window, "online": ok, "detail": detail})
    hall_id = tx.hall.id
    known = {r.code: r for r in tx.conn.execute(select(P).where(P.c.hall_id == hall_id))}
    if sender.role == "bridge":
        _check_bridge_owns(tx, sender.name, [r["code"] for r in reports[1:]], known)
    names = {}
    if any(r["code"] not in known for r in reports):
        names = dict(tx.conn.execute(select(Device.code, Device.name).where(Device.hall_id == hall_id)).all())
    changed = 0
    for r in reports:
        old = known.get(r["code"])
        if old is None:
            tx.conn.execute(insert(P).values(
                hall_id=hall_id, name=names.get(r["code"]) or r["code"], last_seen=now, changed_at=now, via=via, **r,
            ))
        else:
            moved = bool(old.online) != r["online"]
            tx.conn.execute(update(P).where(P.c.hall_id == hall_id, P.c.code == r["code"]).values(
                last_seen=now, via=via, changed_at=now if moved else old.changed_at, **r,
            ))
            if not moved:
                continue
        changed += 1
        tx.emit(EventType.DEVICE_STATUS, {"id": r["code"], "kind": r["kind"], "window": r["window"],
                                          "online": r["online"], "detail": r["detail"]}, window=r["window"])
    if sender.kind == "device" and sender.role == "bridge":
        # A bridge reports every device it drives: one it dropped is no longer there.
        reported = {r["code"] for r in reports}
        gone = [c for c, row in known.items() if row.via == sender.name and c not in reported]
        if gone:
            tx.conn.execute(delete(P).where(P.c.hall_id == hall_id, P.c.code.in_(gone)))
    return changed


def _check_bridge_owns(tx: HallTx, bridge: str, codes: Sequence[str], known: dict[str, Any]) -> None:
    """A device behind a bridge is registered to it by its first report and stays its own until
    the bridge stops listing it; registered devices (tokens of their own) report themselves."""
    named = {c for c in codes if c != bridge}
    taken = {c for c in named if c in known and known[c].via not in (None, bridge)}
    registered = set(tx.conn.execute(select(Device.code).where(Device.code.in_(named))).scalars()) if named else set()
    refused = sorted(taken | registered)
    if refused:
        raise ApiError(403, "not_your_device", f"not devices of this bridge: {', '.join(refused[:5])}")


def _stale(conn: Any, hall_id: int, cutoff: float) -> list[Any]:
    return list(conn.execute(
        select(P.c.code, P.c.kind, P.c.window)
        .where(P.c.hall_id == hall_id, P.c.online.is_(True), P.c.last_seen < cutoff)
        .order_by(P.c.code)
    ))


def mark_silent(db: Database, hall: HallInfo, now: float) -> list[dict[str, Any]]:
    """Mark offline (with a `device.status` event each) the hall's devices silent for its
    `device_offline_seconds`; returns the envelopes to publish. Blocking. Looks first in a read
    transaction, so a quiet hall costs no write."""
    cutoff = now - offline_seconds(hall.settings)
    with db.read() as conn:
        if not _stale(conn, hall.id, cutoff):
            return []

    def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
        rows = _stale(tx.conn, hall.id, cutoff)  # again, under the lock: another process may have
        for r in rows:
            tx.conn.execute(update(P).where(P.c.hall_id == hall.id, P.c.code == r.code).values(
                online=False, changed_at=tx.now, detail=SILENT,
            ))
            tx.emit(EventType.DEVICE_STATUS, {"id": r.code, "kind": r.kind, "window": r.window, "online": False,
                                              "detail": SILENT}, window=r.window)
        return 200, {"marked": len(rows)}

    return run_write(db, hall, None, work, now=now).envelopes


async def presence_watch(state: Any, every: float = WATCH_SECONDS) -> None:
    """The silence watch of one server process, every `every` seconds on the state's clock."""
    while True:
        await asyncio.sleep(every)
        for hall in state.registry.all():
            try:
                envs = await anyio.to_thread.run_sync(partial(mark_silent, state.db, hall, state.clock.now()))
                await state.publish(envs)
            except Exception:  # noqa: BLE001 - try again next round
                log.exception("presence check of %s failed", hall.code)
