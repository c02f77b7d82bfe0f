"""Migration 0006: partial indexes for the waiting heads and the person / phone lookups match
the models and downgrade; on PostgreSQL straight after a bulk load (no ANALYZE) the head query
walks the partial index instead of sorting the queue (issue 14)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, select, text

from hall.store.database import Database
from hall.store.migrate import alembic_config, upgrade
from hall.store.models import Base, Hall, TicketRow

NEW = ("ix_tickets_waiting_head", "ix_tickets_waiting_target", "ix_tickets_person_hash", "ix_tickets_phone_hash")


def _indexes(db: Database) -> set[str]:
    return {i["name"] for i in inspect(db.engine).get_indexes("tickets")}


def test_migration_matches_the_models_and_downgrades(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db)
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert [d for d in diff if "ix_tickets" in str(d)] == []
        assert set(NEW) <= _indexes(db) and "ix_tickets_phone" not in _indexes(db)
        cfg = alembic_config()
        with db.engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0003_live_state")
            conn.commit()
        assert not set(NEW) & _indexes(db) and {"ix_tickets_person", "ix_tickets_phone"} <= _indexes(db)
        upgrade(db)
        assert set(NEW) <= _indexes(db)
    finally:
        db.dispose()


def _bulk_waiting(db: Database, n: int) -> int:
    from hall.core.halls import import_layout
    from queueing.layout import parse_layout

    layout = parse_layout({
        "hall": {"code": "bulk", "name": "批量大厅", "timezone": "Asia/Shanghai"},
        "zones": [{"code": "z", "name": "综合"}],
        "categories": [{"code": "A", "name": "综合业务", "zone": "z", "service_minutes": 10}],
        "windows": [{"number": 1, "name": "1号窗口", "serves": ["A"]}],
    })
    now = time.time()
    with db.write() as conn:
        import_layout(conn, layout, matters=[], now=now)
        hall_id = int(conn.execute(select(Hall.id).where(Hall.code == "bulk")).scalar_one())
        rows: list[dict[str, Any]] = [
            {"hall_id": hall_id, "day": "2026-12-02", "number": f"A{i:06d}", "category": "A", "priority": "normal",
             "queue_class": "normal", "channel": "kiosk", "status": "waiting", "queue_key": now + i,
             "issued_at": now, "wait_origin": now, "progress_token": uuid.uuid4().hex, "extra": {},
             "phone_hash": f"p{i}" if i % 3 == 0 else None}
            for i in range(n)
        ]
        for k in range(0, n, 5000):
            conn.execute(insert(TicketRow), rows[k : k + 5000])
    return hall_id


@pytest.mark.postgres
def test_head_query_walks_the_partial_index_before_any_analyze(pg_database_url: str) -> None:
    db = Database(pg_database_url)
    try:
        upgrade(db)
        hall_id = _bulk_waiting(db, 30_000)
        from hall.core.calling import _heads_sql

        sql = str(_heads_sql((("A", "appointment"), ("A", "priority"), ("A", "normal"))).stmt)
        with db.read() as conn:
            plan = conn.execute(text(f"EXPLAIN (FORMAT JSON) {sql}"), {"hall": hall_id, "window": 1}).scalar_one()
        plan_text = json.dumps(plan)
        assert "ix_tickets_waiting_head" in plan_text and '"Sort"' not in plan_text, plan_text
    finally:
        db.dispose()


def _analyzed(db: Database) -> bool:
    with db.read() as conn:
        if db.is_sqlite:
            return bool(conn.execute(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'windows'")).scalar())
        return conn.execute(
            text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'windows' AND schemaname = current_schema()")
        ).scalar() is not None


def test_the_server_analyzes_after_importing_at_start(hall) -> None:
    # `hall` started with a layout to import (conftest); nobody ran ANALYZE by hand. (SQLite
    # keeps no statistics of an empty table, so the imported windows are what is checked.)
    assert _analyzed(hall.db)
