"""Bridges that stop sending heartbeats are reported offline (`device.status`, online false).

A bridge reports its own devices in its heartbeats (POST …/devices/heartbeat); when the bridge
itself dies nobody reports, so this watch marks it offline once its last heartbeat is older
than `timeout`. Several server processes may run the watch: the check runs inside the hall's
write transaction and looks at the bridge's last `device.status` event, so only one emits.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

import anyio
from sqlalchemy import select

from hall.core.tx import HallTx, run_write
from hall.store.models import Device, EventRow

__all__ = ["mark_silent_bridges", "presence_watch"]

log = logging.getLogger("hall.core.presence")


def mark_silent_bridges(db: Any, hall: Any, now: float, timeout: float = 90.0) -> list[dict[str, Any]]:
    """Emit `device.status` offline for this hall's bridges silent for `timeout` s. Blocking."""

    def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
        bridges = tx.conn.execute(
            select(Device.code, Device.last_seen).where(
                Device.hall_id == hall.id, Device.kind == "bridge", Device.active.is_(True), Device.last_seen.is_not(None)
            )
        ).all()
        marked = 0
        for code, last_seen in bridges:
            if last_seen is None or now - last_seen < timeout:
                continue
            last = tx.conn.execute(
                select(EventRow.data)
                .where(EventRow.hall_id == hall.id, EventRow.type == "device.status")
                .order_by(EventRow.seq.desc())
                .limit(200)
            ).scalars()
            state = next((bool(d.get("online")) for d in last if d.get("id") == code), True)
            if state:
                tx.emit("device.status", {"id": code, "kind": "bridge", "window": None, "online": False, "detail": "no heartbeat"})
                marked += 1
        return 200, {"marked": marked}

    return run_write(db, hall, None, work, now=now).envelopes


async def presence_watch(state: Any, every: float = 30.0) -> None:
    while True:
        await asyncio.sleep(every)
        for hall in state.registry.all():
            try:
                envs = await anyio.to_thread.run_sync(partial(mark_silent_bridges, state.db, hall, state.clock.now()))
                await state.publish(envs)
            except Exception:  # noqa: BLE001 - try again next round
                log.exception("presence check of %s failed", hall.code)


