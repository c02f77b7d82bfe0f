"""Positions of the background readers in a hall's events table (by seq).

A reader locks its cursor row for the length of its transaction (`FOR UPDATE` on PostgreSQL; the
SQLite write transaction already holds the database lock), so two server processes never process
the same events at once; its work and the new position commit together.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hall.store.operation_models import OpCursor

__all__ = ["read_cursor", "advance"]


def read_cursor(conn: Connection, hall_id: int, name: str, lock: bool = False) -> int:
    """The last seq the reader `name` handled (0 at first), creating the row if needed."""
    query = select(OpCursor.seq).where(OpCursor.hall_id == hall_id, OpCursor.name == name)
    if lock:
        query = query.with_for_update()
    seq = conn.execute(query).scalar()
    if seq is None:
        # Two processes may both find no row: the loser's insert is a no-op, then both lock it.
        values = {"hall_id": hall_id, "name": name, "seq": 0}
        if conn.dialect.name == "postgresql":
            conn.execute(pg_insert(OpCursor).values(**values).on_conflict_do_nothing())
        elif conn.dialect.name == "sqlite":
            conn.execute(sqlite_insert(OpCursor).values(**values).on_conflict_do_nothing())
        else:  # pragma: no cover - the two supported databases are above
            conn.execute(insert(OpCursor).values(**values))
        seq = conn.execute(query).scalar()
    return int(seq or 0)


def advance(conn: Connection, hall_id: int, name: str, seq: int) -> None:
    conn.execute(update(OpCursor).where(OpCursor.hall_id == hall_id, OpCursor.name == name).values(seq=seq))
