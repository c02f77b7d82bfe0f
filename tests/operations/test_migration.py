"""Revision 0002_operations creates exactly the operations models' tables, and downgrades."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import hall.store.operation_models  # noqa: F401 - registers the tables on Base.metadata
from hall.store.database import Database
from hall.store.migrate import alembic_config
from hall.store.models import Base


def test_migration_matches_the_models_and_downgrades(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diff if "op_" in str(d)] == []
    assert "op_cases" in inspect(db.engine).get_table_names()
    cfg = alembic_config()
    with db.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001_initial")
        conn.commit()
    names = inspect(db.engine).get_table_names()
    assert not [n for n in names if n.startswith("op_")] and "tickets" in names
