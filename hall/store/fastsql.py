"""Hot statements, built once and run through SQLAlchemy's public execution path.

Building a SQLAlchemy statement costs more than running it on SQLite, so the hot paths build
theirs once at import with bind parameters. Each run is `conn.execute(stmt, params)`: the
engine's compiled cache (keyed by the statement's cache key) hands back the compiled form, and
bind and result types are processed by SQLAlchemy as for any other statement. Several parameter
sets go in one `conn.execute(stmt, rows)`, which SQLAlchemy turns into the driver's executemany
or, with RETURNING, its batched "insertmanyvalues" form.

An earlier version ran the compiled SQL on the raw DBAPI cursor with SQLAlchemy's private bind
and result processors to save ~30 µs a statement; that tied the server to SQLAlchemy internals
that may change in any release, so it is gone (see benchmarks/server.py for what it cost).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, CursorResult
from sqlalchemy.sql.expression import Executable

__all__ = ["Fast"]


class Fast:
    """A statement built once; `stmt` is the SQLAlchemy statement itself."""

    __slots__ = ("stmt",)

    def __init__(self, stmt: Executable) -> None:
        self.stmt = stmt

    def run(self, conn: Connection, params: dict[str, Any]) -> CursorResult[Any]:
        """Execute with one parameter set inside `conn`'s open transaction."""
        return conn.execute(self.stmt, params)

    def run_many(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Execute once per parameter set (all with the same keys) in one driver call; no result."""
        conn.execute(self.stmt, rows)
