"""Revision 0003_live_state: the tables match the models, and the kept state is backfilled from
the tickets and the event log of a database that ran without it."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, select

import hall.store.operation_models  # noqa: F401 - registers every table on Base.metadata
from hall.core import halls
from hall.core.halls import import_layout
from hall.store.database import Database
from hall.store.migrate import alembic_config, upgrade
from hall.store.models import Base, Device, DevicePresence, EventRow, TicketRow, WaitingCount
from queueing import metrics
from queueing.layout import parse_layout

from .conftest import MONDAY_9AM, TINY

NEW = ("waiting_counts", "recent_service", "device_presence", "wait_origin", "ix_tickets_wait")
T0 = MONDAY_9AM


def _run(db: Database, fn: str, revision: str) -> None:
    cfg = alembic_config()
    with db.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, fn)(cfg, revision)
        conn.commit()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_db(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    url = f"sqlite:///{tmp_path / 'old.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_database_url")
    db = Database(url)
    upgrade(db, "0002_operations")
    yield db
    db.dispose()


def _ticket(conn: Any, hall_id: int, number: str, status: str, **extra: Any) -> int:
    values = dict(hall_id=hall_id, day="2026-11-23", number=number, category=number[0], priority="normal",
                  queue_class="normal", channel="kiosk", status=status, queue_key=T0, issued_at=T0,
                  progress_token=f"tok-{number}", extra={"wait_started_at": T0})
    values.update(extra)
    return int(conn.execute(insert(TicketRow).values(**values).returning(TicketRow.id)).scalar_one())


def test_backfills_counts_wait_origins_and_presence(old_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    db = old_db
    # Revision 0002 has no window_overrides (0009): today's importer must not look for them.
    monkeypatch.setattr(halls, "overrides_of", lambda conn, hall_id: {})
    with db.write() as conn:
        hall_id = import_layout(conn, parse_layout(tomllib.loads(TINY)), now=T0, matters=[])
        _ticket(conn, hall_id, "A001", "waiting")
        _ticket(conn, hall_id, "A002", "waiting")
        _ticket(conn, hall_id, "F001", "finished")
        # Waited 300 s, served, transferred at T0 + 900: waiting again since then.
        moved = _ticket(conn, hall_id, "B001", "waiting", extra={"wait_started_at": T0 + 900})
        trail = [("ticket.issued", T0, {"id": moved}), ("ticket.called", T0 + 300, {"id": moved, "window": 1}),
                 ("ticket.started", T0 + 320, {"id": moved}),
                 ("ticket.transferred", T0 + 900, {"id": moved, "to_category": "B"}),
                 ("device.status", T0 + 10, {"id": "led-1", "kind": "led", "window": 1, "online": False}),
                 ("device.status", T0 + 20, {"id": "kiosk-ab12", "kind": "kiosk", "online": True})]
        for seq, (kind, at, data) in enumerate(trail, 1):
            conn.execute(insert(EventRow).values(hall_id=hall_id, seq=seq, type=kind, at=at, data=data,
                                                 ticket_id=data["id"] if kind.startswith("ticket.") else None))
        conn.execute(insert(Device).values(code="bridge-1", hall_id=hall_id, kind="bridge", name="网关", created_at=T0,
                                           last_seen=T0 + 30))
    upgrade(db)
    with db.read() as conn:
        counts = {(r.category, r.queue_class): r.n for r in conn.execute(select(WaitingCount))}
        origin = conn.execute(select(TicketRow.wait_origin, TicketRow.extra).where(TicketRow.id == moved)).one()
        presence = {r.code: r for r in conn.execute(select(DevicePresence))}
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert counts == {("A", "normal"): 2, ("B", "normal"): 1}
    assert origin.extra["waited_seconds"] == 300.0 and origin.wait_origin == T0 + 600
    assert T0 + 1000 - origin.wait_origin == metrics.wait_seconds(trail[:4], T0 + 1000)  # 400 s so far
    assert presence["led-1"].online is False and presence["bridge-1"].online and presence["bridge-1"].kind == "bridge"
    assert "kiosk-ab12" not in presence  # an id a page made up for itself
    assert [d for d in diff if any(name in str(d) for name in NEW)] == []
    _run(db, "downgrade", "0002_operations")
    _run(db, "upgrade", "head")  # and back: the backfill runs again on what is there
