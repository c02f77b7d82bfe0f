"""Day statistics and the 好差评 export read from the database, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from typing import Any

from hall.operations.cases.store import decide_rating_appeal, file_rating_appeal
from hall.operations.stats.exports import PROVINCIAL_FIELDS, rows_to_csv
from hall.operations.stats.store import day_rows, link_ticket, provincial_export
from tests.operations.conftest import World
from tests.operations.test_stats_day import T0


def served(world: World, category: str, issued: float, called: float, started: float, finished: float,
           window: int, staff: str) -> int:
    tid = world.ticket(category, T0 + issued, status="finished", window=window, finished_at=T0 + finished)
    with world.db.write() as conn:
        world.emit(conn, "ticket.called", T0 + called, {"id": tid, "window": window}, tid, window, staff)
        world.emit(conn, "ticket.started", T0 + started, {"id": tid, "window": window}, tid, window, staff)
        world.emit(conn, "ticket.finished", T0 + finished, {"id": tid, "window": window}, tid, window, staff)
    return tid


def by_key(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["dimension"], r["key"]): r for r in rows}


def test_day_rows_from_database_match_hand_values(world: World) -> None:
    t1 = served(world, "A", 0, 300, 360, 960, 1, "s1")
    t2 = served(world, "B", 60, 960, 1000, 1600, 2, "s2")
    world.rate(t1, 5, T0 + 1000, window=1, staff="s1")
    world.rate(t2, 2, T0 + 1700, reasons=["慢"], window=2, staff="s2")
    with world.db.read() as conn:
        rows = by_key(day_rows(conn, world.hall, "2026-03-03", 900))
    day = rows[("day", "2026-03-03")]
    assert day["tickets"] == 2 and day["wait_mean"] == 600.0 and day["wait_max"] == 900.0
    assert day["service_mean"] == 600.0 and day["service_level"] == 1.0 and day["satisfaction"] == 0.5
    assert rows[("staff", "张三")]["satisfaction"] == 1.0 and rows[("staff", "李四")]["bad_ratings"] == 1
    assert rows[("window", "2")]["wait_mean"] == 900.0
    # An upheld appeal takes the bad rating out of the figures.
    with world.db.write() as conn:
        appeal = file_rating_appeal(conn, world.hall_id, t2, "user:李四", "误评", T0 + 2000)
        assert appeal is not None
        decide_rating_appeal(conn, world.hall_id, appeal, "user:王经理", "manager", True, "核实为误评", T0 + 3000)
    with world.db.read() as conn:
        day = by_key(day_rows(conn, world.hall, "2026-03-03", 900))[("day", "2026-03-03")]
    assert (day["ratings"], day["satisfaction"]) == (1, 1.0)


def test_provincial_export_carries_links(world: World) -> None:
    t1 = served(world, "A", 0, 300, 360, 960, 1, "s1")
    world.rate(t1, 1, T0 + 1000, channel="keypad", pending=True, window=1, staff="s1")
    with world.db.write() as conn:
        assert link_ticket(conn, world.hall_id, t1, "330123-2026-000123", "M-TEST-1", "user:张三", T0 + 970,
                           matter_name="营业执照", department="市场监管")
        assert not link_ticket(conn, world.hall_id, 999_999, "x", "y", "user:张三", T0)
    with world.db.read() as conn:
        (record,) = provincial_export(conn, world.hall, "330123101", "2026-03-03", "2026-03-03")
    assert record["case_number"] == "330123-2026-000123" and record["matter_code"] == "M-TEST-1"
    assert record["channel"] == "评价器" and record["rated_person"] == "张三" and record["level"] == 1
    assert record["region_code"] == "330123101"
    text = rows_to_csv([record], list(PROVINCIAL_FIELDS), PROVINCIAL_FIELDS).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))[1][0] == "330123-2026-000123"


def test_range_of_days_gives_a_day_row_each_and_totals_over_the_range(world: World) -> None:
    served(world, "A", 0, 300, 360, 960, 1, "s1")
    t2 = world.ticket("B", T0 + 86_400, status="finished", window=2, finished_at=T0 + 86_400 + 900, day="2026-03-04")
    with world.db.write() as conn:
        for kind, at in (("ticket.called", 600), ("ticket.started", 600), ("ticket.finished", 900)):
            world.emit(conn, kind, T0 + 86_400 + at, {"id": t2, "window": 2}, t2, 2, "s2")
    with world.db.read() as conn:
        rows = by_key(day_rows(conn, world.hall, "2026-03-03", 900, day_to="2026-03-04"))
    assert rows[("day", "2026-03-03")]["wait_mean"] == 300.0 and rows[("day", "2026-03-04")]["wait_mean"] == 600.0
    assert rows[("category", "A")]["tickets"] == 1 and rows[("category", "B")]["tickets"] == 1
    assert rows[("hour", "09")]["tickets"] == 2 and rows[("hour", "09")]["wait_mean"] == 450.0
