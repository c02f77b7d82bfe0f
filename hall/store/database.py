"""The database: one SQLAlchemy engine and the two kinds of transaction the server runs.

`Database.write()` is the only way to change queue state. On PostgreSQL its first statement locks
the hall's counter row (see hall.sequence); on SQLite it starts with `BEGIN IMMEDIATE`, which
takes the database write lock up front: SQLAlchemy drops `with_for_update()` on SQLite, and a
deferred transaction that reads and then writes can interleave with another writer.
`Database.read()` gives a consistent snapshot (REPEATABLE READ on PostgreSQL, one SQLite read
transaction in WAL mode). The server runs them in worker threads (see `run_write`).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import anyio
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

__all__ = ["Database", "PoolTooSmall", "pool_per_process", "connection_limit", "MIN_POOL", "DEFAULT_POOL"]

# One process alone: 10 kept, 20 more under bursts (anyio runs up to 40 worker threads).
DEFAULT_POOL = (10, 20)
# A server process below this starves: the hub's poller and catch-ups, a few requests at once.
MIN_POOL = 4
# Kept free beside the servers for `hall` CLI commands, backups, migrations and psql.
_SPARE = 5

T = TypeVar("T")


class Database:
    """Wraps an engine built from `url`; `synchronous` is the SQLite pragma (WAL mode).

    `pool_size` (PostgreSQL) caps this process's connections, overflow included; by default
    DEFAULT_POOL, which fits one process (see `pool_per_process` for several).
    """

    def __init__(self, url: str, *, synchronous: str = "FULL", pool_size: int | None = None) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            if self.url.database in (None, "", ":memory:"):
                raise ValueError("use a SQLite file, not :memory: (every connection would see its own database)")
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            # No pre-ping: a SELECT 1 on every checkout is a round trip per request. A connection
            # found dead fails that one request and SQLAlchemy then replaces the whole pool.
            kept, extra = DEFAULT_POOL if pool_size is None else (pool_size, 0)
            kwargs.update(pool_size=kept, max_overflow=extra)
        self.engine: Engine = create_engine(self.url, **kwargs)
        # Re-entrant: an inline write (see run_write) holds it across `fn`, which enters write().
        self._write_lock = threading.RLock()
        self._nowait = False  # True while an inline write runs: its BEGIN must not wait
        self._writer: ThreadPoolExecutor | None = None
        self._write_conn: Connection | None = None  # SQLite: the one writing connection, kept open
        if self.is_sqlite:
            _sqlite_setup(self.engine, synchronous, lambda: self._nowait)
        else:
            _postgres_setup(self.engine)

    async def run_write(self, fn: Callable[[], T]) -> T:
        """Run a short blocking write function (one API write) for the event loop.

        PostgreSQL writes of different halls run in parallel in anyio's worker threads.

        SQLite takes one writer at a time. When no other thread of this process is writing and
        no other process holds the database's write lock, the write runs right here on the
        event loop: an API write is a few hundred microseconds of SQLite work, less than the
        hop to a thread and back, and a worker thread that releases the GIL around every SQLite
        call and takes it back from the busy loop made each write wait many times over. The
        BEGIN IMMEDIATE of such an inline write does not wait: when the lock is taken (another
        process, or another thread of ours), the write goes to ONE dedicated writer thread
        instead, which waits for its turn (a queue in front of one thread costs far less than
        many threads taking turns at a lock).

        So `fn` must start with `write()` and do nothing before it: after a BEGIN that found the
        database locked it is called again, in the writer thread.
        """
        if not self.is_sqlite:
            return await anyio.to_thread.run_sync(fn)
        if self._write_lock.acquire(blocking=False):
            self._nowait = True
            try:
                return fn()
            except _WouldBlock:
                pass  # nothing ran: the lock was taken before the first statement
            finally:
                self._nowait = False
                self._write_lock.release()
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hall-sqlite-writer")
        return await asyncio.get_running_loop().run_in_executor(self._writer, fn)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction; commits on success, rolls back on any exception."""
        if not self.is_sqlite:
            with self.engine.connect() as conn, conn.begin():
                yield conn
            return
        # SQLite has one writer at a time. Threads of this process queue on a lock instead of
        # on SQLite's busy handler, which sleeps in growing steps (1, 2, 5, 10 … ms) and made a
        # burst of concurrent writes several times slower. BEGIN IMMEDIATE still guards against
        # writers in other processes.
        # Writes take turns anyway, so they share one connection kept open between them: a pool
        # checkout, a fresh Connection and a checkin cost as much again as a short write's SQL.
        with self._write_lock:
            kept = self._write_conn
            if kept is None or kept.closed:
                kept = self._write_conn = self.engine.connect().execution_options(hall_begin="IMMEDIATE")
            conn = kept
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction that sees one consistent state of the database."""
        with self.engine.connect() as conn:
            if not self.is_sqlite:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def ping(self) -> None:
        """Raises when the database cannot be reached."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self, wait: float = 0.0) -> None:
        """Close every connection. With `wait`, first give work still running in threads (a
        cancelled await leaves its thread running) up to `wait` seconds to hand its connection
        back, so that none is left open behind a disposed pool."""
        deadline = time.monotonic() + wait
        # The kept writing connection first, once the write using it (if any) is done; one
        # still running after `wait` keeps it (closing it under that write would break it).
        got = self._write_lock.acquire(timeout=wait) if wait > 0 else self._write_lock.acquire(blocking=False)
        if got:
            try:
                if self._write_conn is not None:
                    self._write_conn.close()
                    self._write_conn = None
            finally:
                self._write_lock.release()
        checked_out = getattr(self.engine.pool, "checkedout", lambda: 0)
        while checked_out() and time.monotonic() < deadline:
            time.sleep(0.02)
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None
        self.engine.dispose()


class PoolTooSmall(ValueError):
    """The database cannot give each server process MIN_POOL connections."""

    def __init__(self, *, max_connections: int, reserved: int, workers: int, each: int) -> None:
        self.max_connections, self.reserved, self.workers, self.each = max_connections, reserved, workers, each
        super().__init__(
            f"PostgreSQL allows {max_connections} connections ({reserved} reserved): {workers} workers "
            f"would get {each} each, fewer than {MIN_POOL}"
        )


def pool_per_process(max_connections: int, reserved: int, workers: int) -> int:
    """Connections each of `workers` server processes may hold so that together they fit the
    database's `max_connections` (less its reserved ones and a few spare); at most the
    single-process default. Raises PoolTooSmall below MIN_POOL."""
    usable = max_connections - reserved - _SPARE
    each = min(sum(DEFAULT_POOL), usable // max(workers, 1))
    if each < MIN_POOL:
        raise PoolTooSmall(max_connections=max_connections, reserved=reserved, workers=workers, each=max(each, 0))
    return each


def connection_limit(url: str) -> tuple[int, int]:
    """PostgreSQL's (max_connections, connections reserved for superusers and roles). Blocking."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            settings: dict[str, int] = dict(
                conn.execute(
                    text(
                        "SELECT name, setting::int FROM pg_settings WHERE name IN "
                        "('max_connections', 'superuser_reserved_connections', 'reserved_connections')"
                    )
                ).all()
            )
    finally:
        engine.dispose()
    reserved = settings.get("superuser_reserved_connections", 0) + settings.get("reserved_connections", 0)
    return int(settings["max_connections"]), int(reserved)


def _postgres_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # psycopg prepares a statement after 5 runs and PostgreSQL may then keep a generic plan
        # made while the tickets table was small (a sort of the whole queue instead of an index
        # walk) until the next ANALYZE: a call got 2.5x slower at 10,000 waiting. Queue queries
        # are tiny, so planning each run with its real parameters costs microseconds.
        with dbapi_conn.cursor() as cur:
            cur.execute("SET plan_cache_mode = force_custom_plan")
        dbapi_conn.commit()


_BEGIN = {"DEFERRED": "BEGIN DEFERRED", "IMMEDIATE": "BEGIN IMMEDIATE"}
_BUSY_TIMEOUT_MS = 30000


class _WouldBlock(Exception):
    """An inline write's BEGIN IMMEDIATE found the database locked (see Database.run_write)."""


def _sqlite_setup(engine: Engine, synchronous: str, nowait: Callable[[], bool]) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # Autocommit at the driver level so that we, not pysqlite, say when BEGIN happens.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("hall_begin", "DEFERRED")
        # Straight to the driver: exec_driver_sql costs as much again as the BEGIN itself.
        driver = conn.connection.driver_connection
        if mode != "IMMEDIATE" or not nowait():
            driver.execute(_BEGIN[mode])  # type: ignore[union-attr]
            return
        driver.execute("PRAGMA busy_timeout=0")  # type: ignore[union-attr]
        try:
            driver.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
        except sqlite3.OperationalError as e:
            raise _WouldBlock from e
        finally:
            driver.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")  # type: ignore[union-attr]
