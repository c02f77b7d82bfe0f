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
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio
from sqlalchemy import Connection, Engine, RootTransaction, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

__all__ = ["Database", "pipelined", "private_file", "PoolTooSmall", "pool_per_process", "connection_limit", "MIN_POOL", "DEFAULT_POOL"]

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
            if not self.url.database.startswith("file:"):
                private_file(Path(self.url.database))
        else:
            # No pre-ping: a SELECT 1 on every checkout is a round trip per request. A connection
            # found dead fails that one request and SQLAlchemy then replaces the whole pool.
            kept, extra = DEFAULT_POOL if pool_size is None else (pool_size, 0)
            kwargs.update(pool_size=kept, max_overflow=extra)
        self.engine: Engine = create_engine(self.url, **kwargs)
        # Held from BEGIN to the end of COMMIT. A plain Lock, not an RLock: an inline write's
        # COMMIT runs in the writer thread, which releases it there (see run_write).
        self._write_lock = threading.Lock()
        self._inline: int | None = None  # the thread running an inline write's statements
        self._inline_tx: RootTransaction | None = None  # its transaction, left open for COMMIT
        self._loop_writes: asyncio.Lock | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._write_conn: Connection | None = None  # SQLite: the one writing connection, kept open
        if self.is_sqlite:
            _sqlite_setup(self.engine, synchronous)
        else:
            _postgres_setup(self.engine)

    async def run_write(self, fn: Callable[[], T]) -> T:
        """Run a short blocking write function (one API write) for the event loop.

        PostgreSQL writes of different halls run in parallel in anyio's worker threads.

        SQLite takes one writer at a time. The writes of this event loop take turns on an
        asyncio lock; when no other thread of this process and no other process holds the
        database's write lock, the write's statements run right here on the event loop (an API
        write is a few hundred microseconds of SQLite work, less than the hop to a thread, and a
        thread that gives up the GIL around every SQLite call waits to get it back from a busy
        loop each time), and its COMMIT — the fsync, most of a write's time — runs in ONE
        dedicated writer thread while the loop serves everyone else. The write lock is held
        until that COMMIT ends, so the next write (and its seq) comes after it; `fn`'s result
        is returned only once the COMMIT succeeded, and a failed COMMIT rolls back and raises.

        The BEGIN IMMEDIATE of an inline write does not wait: when the database is locked (by
        another process, or another thread of ours), the whole write goes to the writer thread,
        which waits for its turn. So `fn` must start with `write()` and do nothing before it:
        after a BEGIN that found the database locked it is called again, in the writer thread.
        """
        if not self.is_sqlite:
            return await anyio.to_thread.run_sync(fn)
        if self._loop_writes is None:
            self._loop_writes = asyncio.Lock()
        loop = asyncio.get_running_loop()
        async with self._loop_writes:
            if self._write_lock.acquire(blocking=False):
                self._inline = threading.get_ident()
                error: BaseException | None = None
                try:
                    result = fn()
                except _WouldBlock:
                    result = None  # nothing ran: the database was locked at BEGIN
                    blocked = True
                except BaseException as e:  # noqa: BLE001 - re-raised below, after any COMMIT
                    error, blocked = e, False
                else:
                    blocked = False
                finally:
                    self._inline = None
                tx, self._inline_tx = self._inline_tx, None
                if tx is None:  # blocked, rolled back, or nothing written
                    self._write_lock.release()
                else:
                    done = loop.run_in_executor(self._writer_thread(), _commit, tx)
                    # Released when the COMMIT has ended, even if this await is cancelled
                    # meanwhile: the connection is not free before.
                    done.add_done_callback(lambda _f: self._write_lock.release())
                    await asyncio.shield(done)
                if error is not None:
                    raise error  # as before: what `fn` did after its write() block was committed
                if not blocked:
                    return result  # type: ignore[return-value]
            return await loop.run_in_executor(self._writer_thread(), fn)

    def _writer_thread(self) -> ThreadPoolExecutor:
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hall-sqlite-writer")
        return self._writer

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction; commits on success, rolls back on any exception."""
        if not self.is_sqlite:
            with self.engine.connect() as conn, conn.begin():
                yield conn
            return
        if self._inline == threading.get_ident():
            # An inline write (see run_write): the lock is held, BEGIN must not wait, and the
            # COMMIT is left to run_write.
            conn = self._writing_conn()
            tx = _begin_nowait(conn)
            try:
                yield conn
            except BaseException:
                tx.rollback()
                raise
            self._inline_tx = tx
            return
        # SQLite has one writer at a time. Threads of this process queue on a lock instead of
        # on SQLite's busy handler, which sleeps in growing steps (1, 2, 5, 10 … ms) and made a
        # burst of concurrent writes several times slower. BEGIN IMMEDIATE still guards against
        # writers in other processes.
        with self._write_lock:
            conn = self._writing_conn()
            tx = _begin_waiting(conn)
            try:
                yield conn
            except BaseException:
                tx.rollback()
                raise
            tx.commit()

    def _writing_conn(self) -> Connection:
        # Writes take turns anyway, so they share one connection kept open between them: a pool
        # checkout, a fresh Connection and a checkin cost as much again as a short write's SQL.
        kept = self._write_conn
        if kept is None or kept.closed:
            kept = self._write_conn = self.engine.connect().execution_options(hall_begin="IMMEDIATE")
            # Set once: BEGIN IMMEDIATE on this connection fails at once when another process
            # holds the lock (an inline write must not wait; a queued one retries, see
            # _begin_waiting). Inside the transaction nothing else can be busy.
            kept.connection.driver_connection.execute("PRAGMA busy_timeout=0")  # type: ignore[union-attr]
        return kept

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction that sees one consistent state of the database."""
        with self.engine.connect() as conn:
            if not self.is_sqlite:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def analyze(self) -> None:
        """Refresh the planner's statistics of the queue tables (after imports, at day start).

        PostgreSQL plans every statement from them (see _postgres_setup); after a bulk load and
        before autovacuum gets to it, they describe an empty table. Blocking.
        """
        tables = ", ".join(_ANALYZED)
        if self.is_sqlite:
            with self.write() as conn:  # ANALYZE writes sqlite_stat1
                conn.exec_driver_sql(f"ANALYZE {_ANALYZED[0]}")
                for name in _ANALYZED[1:]:
                    conn.exec_driver_sql(f"ANALYZE {name}")
            return
        with self.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(f"ANALYZE {tables}")

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


_ANALYZED = ("tickets", "events", "windows", "waiting_counts", "number_counters", "hall_counters")


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


@contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """On PostgreSQL, run the statements of the block in psycopg's pipeline mode: each is sent
    without waiting for the one before, and the block's end waits once for all (raising the
    first error). Only for statements whose results nobody reads (no RETURNING, no rowcount
    checked): in pipeline mode those are not known until the block ends. Elsewhere as usual."""
    driver = conn.connection.driver_connection
    pipeline = getattr(driver, "pipeline", None) if conn.dialect.name == "postgresql" else None
    if pipeline is None:
        yield
        return
    with pipeline():
        yield


_BUSY_TIMEOUT_MS = 30000
_BUSY_TIMEOUT = _BUSY_TIMEOUT_MS / 1000


class _WouldBlock(Exception):
    """An inline write's BEGIN IMMEDIATE found the database locked (see Database.run_write)."""


def private_file(path: Path) -> None:
    """Create `path` empty and readable by its owner only (0600), its folder 0700, unless it
    exists. The database holds hashes, encrypted ID numbers and the audit log; SQLite gives its
    -wal and -shm files the mode of the database file, so they follow."""
    if path.exists():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # another process made it first


def _locked(e: Exception) -> bool:
    # BEGIN runs in the "begin" listener, straight on the driver: its error may come unwrapped.
    orig = e.orig if isinstance(e, OperationalError) else e
    return isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig)


def _begin_nowait(conn: Connection) -> RootTransaction:
    try:
        return conn.begin()
    except (OperationalError, sqlite3.OperationalError) as e:
        if _locked(e):
            raise _WouldBlock from e
        raise


def _begin_waiting(conn: Connection) -> RootTransaction:
    # The writing connection's busy_timeout is 0 (see Database._writing_conn): wait here, in
    # short steps, for another process's writer, as SQLite's busy handler would.
    deadline = time.monotonic() + _BUSY_TIMEOUT
    pause = 0.001
    while True:
        try:
            return conn.begin()
        except (OperationalError, sqlite3.OperationalError) as e:
            if not _locked(e) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.01)


def _commit(tx: RootTransaction) -> None:
    try:
        tx.commit()
    except BaseException:
        if tx.is_active:
            tx.rollback()
        raise


def _sqlite_setup(engine: Engine, synchronous: str) -> None:
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
        driver.execute("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN DEFERRED")  # type: ignore[union-attr]
