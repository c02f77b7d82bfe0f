"""Run the Alembic migrations (`hall db upgrade`, and on every server start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from hall.store.database import Database

__all__ = ["upgrade", "alembic_config"]

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe to run from several processes at once."""
    cfg = alembic_config()
    with db.engine.connect() as conn:
        if db.is_sqlite:
            # IMMEDIATE: two processes must not both read "no version" and then both create tables.
            conn = conn.execution_options(hall_begin="IMMEDIATE")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()
