"""差评整改 cases from the events table, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hall.operations.cases.appeals import AppealError
from hall.operations.cases.rules import CaseError
from hall.operations.cases.store import (
    apply_step,
    decide_rating_appeal,
    file_rating_appeal,
    list_cases,
    sync_cases,
)
from hall.operations.config import OpsConfig
from tests.operations.conftest import World

TZ = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 10) -> float:
    return datetime(y, m, d, hh, tzinfo=TZ).timestamp()


def cfg(world: World, days: int = 5) -> OpsConfig:
    return OpsConfig.build(world.hall.layout, {"operations": {"case_working_days": days, "case_manager": "boss"}})


def test_bad_ratings_open_cases_once_across_restarts(world: World) -> None:
    t_good = world.ticket("A", at(2026, 9, 29, 9), status="finished", finished_at=at(2026, 9, 29, 9) + 600)
    t_bad = world.ticket("A", at(2026, 9, 29, 9), status="finished", finished_at=at(2026, 9, 29, 9) + 900)
    world.rate(t_good, 5, at(2026, 9, 29))
    world.rate(t_bad, 1, at(2026, 9, 29), channel="keypad", pending=True)
    c = cfg(world, 7)
    with world.db.write() as conn:
        opened = sync_cases(conn, world.hall_id, c, at(2026, 9, 29, 11))
    assert len(opened) == 1
    with world.db.write() as conn:  # a restart reads from the stored cursor: nothing again
        assert sync_cases(conn, world.hall_id, c, at(2026, 9, 29, 12)) == []
    t_bad2 = world.ticket("B", at(2026, 9, 29, 9), status="finished", finished_at=at(2026, 9, 29, 9) + 60)
    world.rate(t_bad2, 2, at(2026, 9, 29, 11), reasons=["等太久"], channel="qr")
    with world.db.write() as conn:
        assert len(sync_cases(conn, world.hall_id, c, at(2026, 9, 29, 12))) == 1
    with world.db.read() as conn:
        cases = list_cases(conn, world.hall_id, at(2026, 9, 29, 12))
    assert {x["ticket_id"] for x in cases} == {t_bad, t_bad2}
    first = next(x for x in cases if x["ticket_id"] == t_bad)
    # Opened Tue 29 Sep: 7 working days across 国庆 and the 调休 Saturday 10 Oct -> Wed 14 Oct.
    assert datetime.fromtimestamp(first["due_at"], TZ) == datetime(2026, 10, 15, 0, 0, tzinfo=TZ)
    assert first["reason_pending"] and first["assignee"] == "boss" and first["staff_name"] == "张三"
    assert not first["overdue"]
    with world.db.read() as conn:
        later = list_cases(conn, world.hall_id, at(2026, 10, 15, 9), status="open")
    assert all(x["overdue"] for x in later) and len(later) == 2


def test_case_steps_and_audit_trail_in_database(world: World) -> None:
    tid = world.ticket("A", at(2026, 3, 2, 9), status="finished", finished_at=at(2026, 3, 2, 9) + 600)
    world.rate(tid, 1, at(2026, 3, 2), channel="keypad", pending=True)
    with world.db.write() as conn:
        (case_id,) = sync_cases(conn, world.hall_id, cfg(world), at(2026, 3, 2, 11))
    with world.db.write() as conn:
        with pytest.raises(CaseError):
            apply_step(conn, world.hall_id, case_id, "close", "boss", {}, at(2026, 3, 3))
    for action, payload in (
        ("verify", {"note": "查看录像"}),
        ("rectify", {"note": "培训"}),
        ("follow_up", {"outcome": "认可整改", "reason": "态度生硬", "new_level": "4"}),
        ("close", {"note": ""}),
    ):
        with world.db.write() as conn:
            apply_step(conn, world.hall_id, case_id, action, "boss", payload, at(2026, 3, 4))
    with world.db.read() as conn:
        (case,) = list_cases(conn, world.hall_id, at(2026, 3, 20), case_id=case_id)
    assert case["status"] == "closed" and case["on_time"] and not case["overdue"]
    assert case["reason"] == "态度生硬" and case["new_level"] == 4
    assert [a["action"] for a in case["audit"]] == ["open", "verify", "rectify", "follow_up", "close"]


def test_upheld_appeal_withdraws_the_case(world: World) -> None:
    tid = world.ticket("A", at(2026, 3, 2, 9), status="finished", finished_at=at(2026, 3, 2, 9) + 600)
    world.rate(tid, 2, at(2026, 3, 2), reasons=["乱评"])
    with world.db.write() as conn:
        sync_cases(conn, world.hall_id, cfg(world), at(2026, 3, 2, 11))
        appeal_id = file_rating_appeal(conn, world.hall_id, tid, "user:张三", "未办理业务却给差评", at(2026, 3, 2, 12))
    assert appeal_id is not None
    with world.db.write() as conn, pytest.raises(AppealError):
        decide_rating_appeal(conn, world.hall_id, appeal_id, "user:李四", "staff", True, "ok", at(2026, 3, 3))
    with world.db.write() as conn:
        decided = decide_rating_appeal(conn, world.hall_id, appeal_id, "user:王经理", "manager", True, "录像核实", at(2026, 3, 3))
    assert decided is not None and decided.status == "upheld"
    with world.db.read() as conn:
        (case,) = list_cases(conn, world.hall_id, at(2026, 3, 20))
    assert case["status"] == "withdrawn" and not case["overdue"]
