"""Hot statements run straight through the driver, compiled once by SQLAlchemy.

`conn.execute(stmt)` costs ~30 µs of SQLAlchemy bookkeeping per statement even with a prebuilt
statement (execution context, event dispatch, result metadata), against ~5 µs for the statement
itself on SQLite; a ticket cycle runs some 30 of them. A `Fast` statement is compiled by the
connection's own dialect once (the same SQL text, the same bind and result type processing as
`conn.execute`) and then run on the DBAPI connection of that same SQLAlchemy connection, so it
is part of the open transaction like any other statement.

Only plain statements qualify: no expanding `IN` parameters and no Python-side column defaults
(those need SQLAlchemy's execution context); anything else falls back to `conn.execute`.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any, cast

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import Executable

__all__ = ["Fast", "FastResult"]

_ROW_TYPES: dict[tuple[str, ...], Any] = {}


def _row_type(names: tuple[str, ...]) -> Any:
    rt = _ROW_TYPES.get(names)
    if rt is None:
        rt = _ROW_TYPES[names] = namedtuple("FastRow", names, rename=True)
    return rt


class FastResult:
    """The part of a CursorResult the hot paths use: rows (named tuples), `rowcount`."""

    __slots__ = ("rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def first(self) -> Any:
        return self.rows[0] if self.rows else None

    def all(self) -> list[Any]:
        return self.rows

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None

    def scalar_one(self) -> Any:
        if len(self.rows) != 1:
            raise LookupError(f"expected one row, got {len(self.rows)}")
        return self.rows[0][0]


class _Plan:
    __slots__ = ("sql", "names", "binds", "constants", "positional", "results", "plain", "shape")

    def __init__(self, stmt: Executable, dialect: Dialect, keys: tuple[str, ...]) -> None:
        compiled = cast(Any, stmt).compile(dialect=dialect, column_keys=list(keys))
        if compiled.insert_prefetch or compiled.update_prefetch or "POSTCOMPILE" in compiled.string:
            raise _Unsuitable
        self.sql = compiled.string
        self.positional = compiled.positiontup is not None
        self.names: list[str] = list(compiled.positiontup) if self.positional else list(compiled.binds)
        procs = compiled._bind_processors
        self.binds = [(n, procs.get(n)) for n in self.names]
        # Binds the caller does not give are the statement's own literals (`status == 'waiting'`);
        # a required one left out raises KeyError, as SQLAlchemy would raise.
        self.constants = {n: b.value for n, b in compiled.binds.items() if n not in keys and not b.required}
        # Result processing by column name (JSON decoding on SQLite, booleans, …).
        self.results: dict[str, Any] = {}
        for col in getattr(stmt, "exported_columns", ()):
            try:
                proc = col.type._cached_result_processor(dialect, None)
            except (TypeError, LookupError, ValueError):
                # A processor that needs the driver's type code (PostgreSQL numerics): psycopg
                # already returns Python values for the columns these statements read.
                proc = None
            name = getattr(col, "name", None)
            if proc is not None and name:
                self.results[name] = proc
        # Every bind given by the caller and none processed: the values go as they are.
        self.plain = self.positional and not self.constants and all(proc is None for _, proc in self.binds)
        # (row type, [(column index, result processor)]) from the first result: the same SQL
        # always gives the same columns.
        self.shape: tuple[Any, list[tuple[int, Any]]] | None = None

    def params(self, p: dict[str, Any]) -> Any:
        if self.plain:
            return tuple([p[n] for n in self.names])
        c = self.constants
        vals = []
        for name, proc in self.binds:
            v = p[name] if name in p else c[name]
            vals.append(proc(v) if proc is not None else v)
        return tuple(vals) if self.positional else dict(zip(self.names, vals, strict=True))


class _Unsuitable(Exception):
    pass


class Fast:
    """A statement run through the driver (see the module docstring); `stmt` keeps its meaning."""

    __slots__ = ("stmt", "_plans")

    def __init__(self, stmt: Executable) -> None:
        self.stmt = stmt
        self._plans: dict[tuple[str, tuple[str, ...]], _Plan | None] = {}

    def _plan(self, dialect: Dialect, keys: tuple[str, ...]) -> _Plan | None:
        k = (dialect.name, keys)
        try:
            return self._plans[k]
        except KeyError:
            pass
        try:
            plan: _Plan | None = _Plan(self.stmt, dialect, keys)
        except _Unsuitable:
            plan = None
        self._plans[k] = plan
        return plan

    def run(self, conn: Connection, params: dict[str, Any]) -> Any:
        """Execute with one parameter set; a FastResult (or a CursorResult on fallback)."""
        plan = self._plan(conn.dialect, tuple(params))
        if plan is None:
            return conn.execute(self.stmt, params)
        cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cur.execute(plan.sql, plan.params(params))
            return _result(cur, plan)
        finally:
            cur.close()

    def run_many(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Execute once per parameter set (all with the same keys); no result."""
        plan = self._plan(conn.dialect, tuple(rows[0]))
        if plan is None:
            conn.execute(self.stmt, rows)
            return
        cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if len(rows) == 1:
                cur.execute(plan.sql, plan.params(rows[0]))
            else:
                cur.executemany(plan.sql, [plan.params(r) for r in rows])
        finally:
            cur.close()


def _result(cur: Any, plan: _Plan) -> FastResult:
    if cur.description is None:
        return FastResult([], cur.rowcount)
    shape = plan.shape
    if shape is None:
        names = tuple(d[0] for d in cur.description)
        procs = plan.results
        shape = plan.shape = (_row_type(names), [(i, procs[n]) for i, n in enumerate(names) if n in procs])
    rt, idx = shape
    raw = cur.fetchall()
    if idx:
        fixed = []
        for r in raw:
            lst = list(r)
            for i, proc in idx:
                lst[i] = proc(lst[i])
            fixed.append(lst)
        raw = fixed
    return FastResult([rt._make(r) for r in raw], cur.rowcount)
