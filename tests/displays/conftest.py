"""Fixtures of the displays tests: a hall on SQLite with tickets, events, users and devices."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from hall.core.halls import import_layout
from hall.security.accounts import add_device, add_user
from hall.security.auth import issue_token, token_hash
from hall.store.database import Database
from hall.store.migrate import upgrade
from hall.store.models import Device, DevicePresence, EventRow, TicketRow, WaitingCount, WindowRow
from queueing.layout import parse_layout
from tests.e2e.pages_harness import HALL, LAYOUT, PASSWORD


@dataclass
class Hall:
    db: Database
    hall_id: int
    now: float
    staff: str
    manager: str
    pad: str


def _ticket(conn: Any, hall_id: int, number: str, status: str, waited: float, now: float, **extra: Any) -> int:
    values = dict(
        hall_id=hall_id, day="2026-11-21", number=number, category=number[0], priority="normal",
        queue_class="normal", channel="kiosk", status=status, queue_key=now - waited,
        issued_at=now - waited, progress_token=token_hash(f"tok-{number}"), extra={}, wait_origin=now - waited,
    )
    values.update(extra)
    return int(conn.execute(insert(TicketRow).values(**values).returning(TicketRow.id)).scalar_one())


def _event(conn: Any, hall_id: int, seq: int, kind: str, at: float, window: int | None,
           ticket: int | None, data: dict[str, Any]) -> None:
    conn.execute(insert(EventRow).values(hall_id=hall_id, seq=seq, type=kind, at=at, ticket_id=ticket,
                                         window=window, data=data))


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hall]:
    """One hall for the module: every test only reads."""
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('pagedata') / 'hall.db'}")
    upgrade(db)
    # Midday in the hall's zone: "today" never straddles midnight, whenever the tests run.
    now = datetime(2026, 11, 21, 12, 0, tzinfo=timezone(timedelta(hours=8))).timestamp()
    with db.write() as conn:
        hall_id = import_layout(conn, parse_layout(tomllib.loads(LAYOUT)), now=now)
        staff_id = add_user(conn, "clerk", PASSWORD, role="staff", halls=[HALL])
        manager_id = add_user(conn, "boss", PASSWORD, role="manager", halls=[HALL])
        staff = issue_token(conn, user_id=staff_id, hours=1)
        manager = issue_token(conn, user_id=manager_id, hours=1)
        _, pad = add_device(conn, "pad", HALL, window=1)
        pad_code = conn.execute(select(Device.code)).scalar_one()
        add_device(conn, "screen", HALL, name="大厅综合屏")  # never reported: offline
        a1 = _ticket(conn, hall_id, "A001", "waiting", 600, now)
        _ticket(conn, hall_id, "A002", "waiting", 300, now)
        _ticket(conn, hall_id, "F001", "waiting", 900, now)  # window 1 does not serve F
        _ticket(conn, hall_id, "B001", "waiting", 1200, now, target_window=2)  # sent to window 2
        _ticket(conn, hall_id, "B002", "waiting", 60, now, target_window=1)  # sent to window 1
        _ticket(conn, hall_id, "A003", "suspended", 2000, now, window=1, extra={"suspend_kind": "holding"})
        a4 = _ticket(conn, hall_id, "A004", "called", 1500, now, window=1, called_at=now - 100)
        a5 = _ticket(conn, hall_id, "A005", "finished", 3000, now, window=1, called_at=now - 2000)  # 1000 s
        f2 = _ticket(conn, hall_id, "F002", "no_show", 4000, now, window=8, called_at=now - 3000)
        conn.execute(update(WindowRow).where(WindowRow.hall_id == hall_id, WindowRow.number == 1)
                     .values(current_ticket_id=a4))
        # What the server keeps beside the tickets: the waiting counts, each device's presence.
        for category, n in (("A", 2), ("B", 2), ("F", 1)):
            conn.execute(insert(WaitingCount).values(hall_id=hall_id, category=category, queue_class="normal", n=n))
        for code, kind, window, online, seen in ((pad_code, "pad", 1, True, now), ("led-8", "led", 8, False, now - 40),
                                                 ("led-1", "led", 1, True, now - 20)):
            conn.execute(insert(DevicePresence).values(hall_id=hall_id, code=code, kind=kind, name=code, window=window,
                                                       online=online, last_seen=seen, changed_at=seen))
        # Every ticket's issue first (seq order is each ticket's story), then what happened.
        for seq, (tid, issued) in enumerate(conn.execute(select(TicketRow.id, TicketRow.issued_at).order_by(TicketRow.id)), 1):
            _event(conn, hall_id, seq, "ticket.issued", issued, None, tid, {"id": tid})
        reason = {"rule": "queue_key", "detail": {"waited_minutes": 23.3}}
        _event(conn, hall_id, 10, "ticket.called", now - 3000, 8, f2, {"id": f2})
        _event(conn, hall_id, 11, "ticket.called", now - 2000, 1, a5, {"id": a5})
        _event(conn, hall_id, 12, "ticket.finished", now - 1800, 1, a5, {"id": a5})
        _event(conn, hall_id, 13, "ticket.no_show", now - 500, 1, a1, {"id": a1})
        _event(conn, hall_id, 14, "ticket.called", now - 100, 1, a4, {"id": a4, "reason": reason})
        _event(conn, hall_id, 15, "window.paused", now - 50, 2, None, {"window": 2, "reason": "午休"})
        _event(conn, hall_id, 16, "device.status", now - 40, 8, None, {"id": "led-8", "kind": "led", "online": False})
        _event(conn, hall_id, 17, "device.status", now - 30, 1, None, {"id": "led-1", "kind": "led", "online": False})
        _event(conn, hall_id, 18, "device.status", now - 20, 1, None, {"id": "led-1", "kind": "led", "online": True})
    yield Hall(db, hall_id, now, staff, manager, pad)
    db.dispose()
