"""预约 in the database: booking rules, check-in ordering within the slot, late walk-ins,
no-shows (SQLite and PostgreSQL), through the server's issue and call paths."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hall.core.calling import call_next
from hall.core.tx import run_write
from hall.errors import ApiError
from hall.operations.appointments.store import book, cancel, check_in, create_slots, sweep_no_shows
from hall.operations.config import OpsConfig
from hall.security.crypto import PersonalData
from hall.store.operation_models import AppointmentRow
from tests.operations.conftest import World

TZ = ZoneInfo("Asia/Shanghai")
CRYPTO = PersonalData("test-secret-for-operations")
IDS = ["110101199001011234", "110101199002021234", "110101199003031234", "110101199004041234"]


def at(d: int, hh: int, mm: int = 0) -> float:
    return datetime(2026, 3, d, hh, mm, tzinfo=TZ).timestamp()


def setup(world: World) -> tuple[OpsConfig, list[int]]:
    cfg = OpsConfig.build(world.hall.layout, {})
    with world.db.write() as conn:
        slots = create_slots(conn, world.hall, cfg, "A", date(2026, 3, 4), [("09:00", "09:30"), ("09:30", "10:00")], 2)
    return cfg, slots


def do_book(world: World, cfg: OpsConfig, slot: int, who: int, now: float = at(3, 10)) -> dict[str, Any]:
    with world.db.write() as conn:
        return book(conn, world.hall, cfg, CRYPTO, slot, f"办事人{who}", IDS[who], None, now)


def test_booking_rules_in_database(world: World) -> None:
    cfg, (s9, s930) = setup(world)
    first = do_book(world, cfg, s930, 0)
    with pytest.raises(ApiError) as info:
        do_book(world, cfg, s9, 0)  # same person, same day
    assert info.value.code == "one_per_day"
    do_book(world, cfg, s9, 1)
    do_book(world, cfg, s9, 2)
    with pytest.raises(ApiError) as info:
        do_book(world, cfg, s9, 3)
    assert info.value.code == "slot_full"
    with pytest.raises(ApiError) as info:
        do_book(world, cfg, s9, 3, now=at(4, 8))  # the same day: less than 1 working day ahead
    assert info.value.code == "too_soon"
    with world.db.write() as conn, pytest.raises(ApiError) as info:
        cancel(conn, world.hall, cfg, first["code"], at(4, 7, 31))
    assert info.value.code == "too_late_to_cancel"
    with world.db.write() as conn:
        cancel(conn, world.hall, cfg, first["code"], at(4, 7, 30))
    do_book(world, cfg, s930, 0)  # cancelled: the person may book again
    with world.db.read() as conn:
        rows = conn.execute(select(AppointmentRow).order_by(AppointmentRow.id)).all()
    assert all(IDS[0] not in (r.id_enc or "") and "办事人" not in r.name_enc for r in rows)
    assert CRYPTO.decrypt(rows[0].id_enc, "id") == IDS[0]


def issue(world: World, cfg: OpsConfig, now: float, code: str | None = None, id_number: str | None = None) -> dict[str, Any]:
    result = run_write(world.db, world.hall, None, lambda tx: check_in(tx, cfg, CRYPTO, code, id_number), now=now)
    assert result.status == 201, result.body
    return result.body


def test_check_in_orders_by_slot_late_becomes_walk_in_and_no_shows(world: World) -> None:
    cfg, (s9, s930) = setup(world)
    later = do_book(world, cfg, s930, 0)
    earlier = do_book(world, cfg, s9, 1)
    late = do_book(world, cfg, s9, 2)
    absent = do_book(world, cfg, s930, 3)
    with pytest.raises(ApiError) as info:
        run_write(world.db, world.hall, None, lambda tx: check_in(tx, cfg, CRYPTO, later["code"], None), now=at(4, 8, 55))
    assert info.value.code == "too_early"
    # The 9:30 person checks in first, the 9:00 person (by ID card) after.
    t_later = issue(world, cfg, at(4, 9, 5), code=later["code"])
    t_earlier = issue(world, cfg, at(4, 9, 10), id_number=IDS[1])
    assert t_later["check_in"] == t_earlier["check_in"] == "on_time"
    first = run_write(world.db, world.hall, None, lambda tx: call_next(tx, 1), now=at(4, 9, 12)).body
    second = run_write(world.db, world.hall, None, lambda tx: call_next(tx, 2), now=at(4, 9, 12)).body
    assert first["ticket"]["id"] == t_earlier["id"] and second["ticket"]["id"] == t_later["id"]
    # 20 minutes after the 9:00 slot began (tolerance 15): a walk-in.
    walk_in = issue(world, cfg, at(4, 9, 20), code=late["code"])
    assert walk_in["check_in"] == "late" and not walk_in["number"].startswith("Y")
    with world.db.write() as conn:
        assert sweep_no_shows(conn, world.hall_id, cfg, at(4, 9, 46)) == 1
    with world.db.read() as conn:
        status = dict(conn.execute(select(AppointmentRow.code, AppointmentRow.status)).all())
    assert status[absent["code"]] == "no_show" and status[late["code"]] == "late"
    assert status[later["code"]] == status[earlier["code"]] == "checked_in"
