"""Positions of the background readers in a hall's events table (by seq).

A reader locks its cursor row for the length of its transaction (`FOR UPDATE` on PostgreSQL; the
SQLite write transaction already holds the database lock), so two server processes never process
the same events at once; its work and the new position commit together.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from hall.operations.models import OpCursor

__all__ = ["read_cursor", "advance"]


def read_cursor(conn: Connection, hall_id: int, name: str, lock: bool = False) -> int:
    """The last seq the reader `name` handled (0 at first), creating the row if needed."""
    query = select(OpCursor.seq).where(OpCursor.hall_id == hall_id, OpCursor.name == name)
    if lock:
        query = query.with_for_update()
    seq = conn.execute(query).scalar()
    if seq is None:
        conn.execute(insert(OpCursor).values(hall_id=hall_id, name=name, seq=0))
        seq = conn.execute(query).scalar()
    return int(seq or 0)


def advance(conn: Connection, hall_id: int, name: str, seq: int) -> None:
    conn.execute(update(OpCursor).where(OpCursor.hall_id == hall_id, OpCursor.name == name).values(seq=seq))
