"""Alerts raised and cleared; a window moved to other categories serves them on its next call."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import update

from hall.core.calling import call_next
from hall.core.tx import run_write
from hall.operations.config import OpsConfig
from hall.operations.live.store import check_alerts, open_alerts, retarget_window
from hall.store.models import WindowRow
from queueing.layout import LayoutError
from tests.operations.conftest import World


def test_waiting_per_window_alert_raised_then_cleared(world: World) -> None:
    cfg = OpsConfig.build(world.hall.layout, {"operations": {"alerts": {"waiting_per_window": 2, "longest_wait_minutes": 0}}})
    with world.db.write() as conn:
        conn.execute(update(WindowRow).where(WindowRow.hall_id == world.hall_id, WindowRow.number.in_([1, 2]))
                     .values(staff_user_id=world.users["s1"]))
    tickets = [world.ticket("A", 1000.0 + i) for i in range(5)]
    with world.db.write() as conn:
        raised, cleared = check_alerts(conn, world.hall_id, cfg, 2000.0)
    assert [(a.kind, a.value) for a in raised] == [("waiting_per_window", 2.5)] and cleared == []
    with world.db.write() as conn:
        raised, cleared = check_alerts(conn, world.hall_id, cfg, 2010.0)
    assert raised == [] and cleared == []  # still holding: not raised twice
    with world.db.write() as conn:
        world.set_status(conn, tickets[0], "finished")
    with world.db.write() as conn:
        raised, cleared = check_alerts(conn, world.hall_id, cfg, 2020.0)
        assert open_alerts(conn, world.hall_id) == []
    assert raised == [] and [r.kind for r in cleared] == ["waiting_per_window"]
    assert cleared[0].raised_at == 2000.0


def test_window_moved_to_other_categories_serves_them_next_call(world: World) -> None:
    b_ticket = world.ticket("B", time.time() - 60)
    first = run_write(world.db, world.hall, None, lambda tx: call_next(tx, 4), now=time.time()).body
    assert first["ticket"] is None  # window 4 serves D and A only
    def retarget(number: int, cats: list[str], at: float, **kw: str) -> dict:
        return run_write(world.db, world.hall, None, lambda tx: retarget_window(tx, number, cats, **kw), now=at).body

    with pytest.raises(LayoutError):
        retarget(4, ["B"], time.time())  # nobody would serve D
    moved = retarget(4, ["D", "B"], time.time() + 1)
    assert moved == {"window": 4, "serves": ["B", "D"], "added": False, "seq": moved["seq"]}
    assert world.registry.refresh()
    hall = world.registry.get("township")
    second = run_write(world.db, hall, None, lambda tx: call_next(tx, 4), now=time.time()).body
    assert second["ticket"]["id"] == b_ticket
    spare = retarget(9, ["A", "B"], time.time() + 2, name="潮汐窗口")  # a spare window for the afternoon
    assert spare["added"] and world.registry.refresh()
    assert world.registry.get("township").window(9).categories == {"A", "B"}


def test_alert_subject_is_the_zone_when_the_layout_is_given(world: World) -> None:
    cfg = OpsConfig.build(world.hall.layout, {"operations": {"alerts": {"waiting_per_window": 1}}})
    with world.db.write() as conn:
        conn.execute(update(WindowRow).where(WindowRow.hall_id == world.hall_id, WindowRow.number == 4)
                     .values(staff_user_id=world.users["s1"]))
    for i in range(3):
        world.ticket("B", 1000.0 + i)
    with world.db.write() as conn:
        raised, _ = check_alerts(conn, world.hall_id, cfg, 1100.0, world.hall.layout)
    # Window 4 serves D and A, both in zone "service" like B: 3 waiting per 1 open window.
    assert [(a.subject, a.value) for a in raised] == [("service", 3.0)]
    assert raised[0].message.startswith("便民服务区每个开放窗口等候3.0人")
