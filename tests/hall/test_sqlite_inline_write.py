"""SQLite API writes run on the event loop only when the write lock is free (hall.store.database)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from sqlalchemy import text

from hall.store.database import Database


def _setup(path: Path) -> Database:
    db = Database(f"sqlite:///{path}")
    with db.write() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    return db


def _count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(text("SELECT count(*) FROM t")).scalar_one())


def test_free_lock_writes_on_the_loop_thread(tmp_path: Path) -> None:
    db = _setup(tmp_path / "a.db")
    seen: list[int] = []

    def fn() -> int:
        seen.append(threading.get_ident())
        with db.write() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
        return 7

    async def main() -> int:
        return await db.run_write(fn)

    assert asyncio.run(main()) == 7
    assert seen == [threading.get_ident()]
    assert _count(db) == 1
    db.dispose()


def test_locked_by_another_process_goes_to_the_writer_thread_and_waits(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    db = _setup(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    seen: list[int] = []

    def fn() -> None:
        seen.append(threading.get_ident())
        with db.write() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))

    async def main() -> float:
        task = asyncio.ensure_future(db.run_write(fn))
        await asyncio.sleep(0.2)
        assert not task.done()  # waiting for the lock, in the writer thread, not on the loop
        other.execute("COMMIT")
        await task
        return 0.0

    asyncio.run(main())
    loop_thread = threading.get_ident()
    # The inline try ran `fn` up to its BEGIN, which did not wait; the write itself ran once,
    # in the writer thread.
    assert seen[0] == loop_thread and seen[-1] != loop_thread and len(seen) == 2
    assert _count(db) == 1
    other.close()
    db.dispose()
