"""Races: bookings for the last places of a slot, and two case readers at once (SQLite and
PostgreSQL). Threads stand in for two server processes: each has its own connection."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from hall.errors import ApiError
from hall.operations.appointments.store import book, create_slots
from hall.operations.cases.store import sync_cases
from hall.operations.config import OpsConfig
from hall.security.crypto import PersonalData
from hall.store.operation_models import AppointmentRow, CaseRow, SlotRow
from tests.operations.conftest import World

TZ = ZoneInfo("Asia/Shanghai")
CRYPTO = PersonalData("race-secret")


def test_racing_bookings_never_overfill_a_slot(world: World) -> None:
    cfg = OpsConfig.build(world.hall.layout, {})
    with world.db.write() as conn:
        (slot,) = create_slots(conn, world.hall, cfg, "A", date(2026, 3, 4), [("09:00", "09:30")], 2)
    now = datetime(2026, 3, 3, 10, tzinfo=TZ).timestamp()

    def attempt(i: int) -> str:
        try:
            with world.db.write() as conn:
                book(conn, world.hall, cfg, CRYPTO, slot, f"人{i}", None, f"1380000{i:04d}", now)
            return "ok"
        except ApiError as e:
            return e.code

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(attempt, range(12)))
    assert results.count("ok") == 2 and set(results) == {"ok", "slot_full"}
    with world.db.read() as conn:
        assert conn.execute(select(SlotRow.booked).where(SlotRow.id == slot)).scalar() == 2
        assert conn.execute(select(func.count()).select_from(AppointmentRow)).scalar() == 2


def test_two_case_readers_at_once_open_each_case_once(world: World) -> None:
    cfg = OpsConfig.build(world.hall.layout, {})
    tickets = [world.ticket("A", 1000.0 + i, status="finished", finished_at=2000.0) for i in range(30)]
    for i, tid in enumerate(tickets):
        world.rate(tid, 1 if i % 3 == 0 else 5, 3000.0 + i, reasons=["慢"])

    def reader(_: int) -> int:
        opened = 0
        for _round in range(3):
            with world.db.write() as conn:
                opened += len(sync_cases(conn, world.hall_id, cfg, 4000.0))
        return opened

    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = list(pool.map(reader, range(2)))
    assert sum(counts) == 10
    with world.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(CaseRow)).scalar() == 10
