"""The operations loop: alerts reach the managers through the notifier, people get "N ahead" and
"called" notices once each, and default ratings are recorded after the rating period."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio
from sqlalchemy import select, update

from hall.operations.background import OperationsLoop, person_notices, record_default_ratings
from hall.operations.config import OpsConfig
from hall.operations.notify import MemoryNotifier
from hall.security.crypto import PersonalData
from hall.store.models import EventRow, Rating, WindowRow
from queueing.clock import FixedClock
from tests.operations.conftest import World

CRYPTO = PersonalData("background-test-secret")
DAY = 86_400.0


@dataclass
class State:
    db: Any
    registry: Any
    crypto: PersonalData
    clock: FixedClock


def test_alert_raised_then_cleared_is_sent_to_managers(world: World) -> None:
    with world.db.write() as conn:
        conn.execute(update(WindowRow).where(WindowRow.hall_id == world.hall_id, WindowRow.number == 1)
                     .values(staff_user_id=world.users["s1"]))
    from hall.store.models import Hall

    with world.db.write() as conn:
        conn.execute(update(Hall).where(Hall.id == world.hall_id).values(
            settings={"operations": {"alerts": {"waiting_per_window": 1, "longest_wait_minutes": 0},
                                     "alert_contacts": ["13800000001"]}},
            updated_at=world.hall.updated_at + 1))
    world.registry.refresh()
    t1 = world.ticket("A", 100.0)
    world.ticket("A", 101.0)
    notifier = MemoryNotifier()
    loop = OperationsLoop(State(world.db, world.registry, CRYPTO, FixedClock(200.0)), notifier)
    anyio.run(loop.once)
    anyio.run(loop.once)  # still holding: no second message
    assert [(m.channel, m.to, m.kind) for m in notifier.sent] == [("manager", "13800000001", "alert")]
    assert "每个开放窗口等候2.0人" in notifier.sent[0].text

    with world.db.write() as conn:
        world.set_status(conn, t1, "finished")
    anyio.run(loop.once)
    assert [m.kind for m in notifier.sent] == ["alert", "alert_cleared"]


def test_person_notices_sent_once_each(world: World) -> None:
    cfg = OpsConfig.build(world.hall.layout, {"operations": {"notify_ahead": 1}})
    phone = "13912345678"
    first = world.ticket("A", 100.0)
    world.ticket("A", 101.0)
    mine = world.ticket("A", 102.0, phone_enc=CRYPTO.encrypt(phone, "phone"))
    with world.db.write() as conn:
        assert person_notices(conn, world.hall, cfg, CRYPTO, 150.0) == []  # nobody called yet

    with world.db.write() as conn:
        world.set_status(conn, first, "called")
        world.emit(conn, "ticket.called", 160.0, {"id": first, "window": 1}, first, 1)
    with world.db.write() as conn:
        sent = person_notices(conn, world.hall, cfg, CRYPTO, 161.0)
    assert sent == [(phone, f"您的A{mine - first + 1:03d}号前面还有1人，请回到大厅等候叫号。", "ahead")]
    with world.db.write() as conn:
        world.set_status(conn, mine, "called")
        world.emit(conn, "ticket.called", 170.0, {"id": mine, "window": 2}, mine, 2)
    with world.db.write() as conn:
        sent = person_notices(conn, world.hall, cfg, CRYPTO, 171.0)
        again = person_notices(conn, world.hall, cfg, CRYPTO, 172.0)
    assert [(s[0], s[2]) for s in sent] == [(phone, "called")] and "号窗口办理" in sent[0][1]
    assert again == []


def test_default_rating_recorded_after_the_period(world: World) -> None:
    cfg = OpsConfig.build(world.hall.layout, {"operations": {"rating": {"default_level": 3}}})
    done = world.ticket("A", 0.0, status="finished", finished_at=1000.0)
    rated = world.ticket("A", 0.0, status="finished", finished_at=1000.0)
    world.rate(rated, 5, 2000.0)
    assert record_default_ratings(world.db, world.hall, cfg, 1000.0 + 6 * DAY) == 0
    assert record_default_ratings(world.db, world.hall, cfg, 1000.0 + 7 * DAY + 1) == 1
    assert record_default_ratings(world.db, world.hall, cfg, 1000.0 + 8 * DAY) == 0
    with world.db.read() as conn:
        levels = dict(conn.execute(select(Rating.ticket_id, Rating.level)).all())
        channel = conn.execute(select(Rating.channel).where(Rating.ticket_id == done)).scalar()
        events = conn.execute(select(EventRow.type).where(EventRow.ticket_id == done)).scalars().all()
    assert levels == {rated: 5, done: 3} and channel == "default" and "ticket.rated" in events
    none_cfg = OpsConfig.build(world.hall.layout, {})
    assert record_default_ratings(world.db, world.hall, none_cfg, 1000.0 + 30 * DAY) == 0


def test_overdue_case_announced_to_managers_once(world: World) -> None:
    tid = world.ticket("A", 0.0, status="finished", finished_at=100.0)
    world.rate(tid, 1, 200.0, reasons=["慢"])
    notifier = MemoryNotifier()
    clock = FixedClock(300.0)
    loop = OperationsLoop(State(world.db, world.registry, CRYPTO, clock), notifier)
    anyio.run(loop.once)
    assert [m.kind for m in notifier.sent] == []  # opened, not overdue
    clock.set(200.0 + 30 * DAY)
    anyio.run(loop.once)
    anyio.run(loop.once)
    overdue = [m for m in notifier.sent if m.kind == "case_overdue"]
    assert len(overdue) == 1 and "已逾期" in overdue[0].text
