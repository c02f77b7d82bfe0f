"""SQLite writes: statements on the loop, the COMMIT (its fsync) in the writer thread, and no
PRAGMA per write (issue 14, "nothing blocks the loop")."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from hall.store.database import Database


def _setup(path: Path) -> Database:
    db = Database(f"sqlite:///{path}")
    with db.write() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    return db


def _rows(db: Database) -> list[int]:
    with db.read() as conn:
        return [int(n) for (n,) in conn.execute(text("SELECT n FROM t ORDER BY rowid")).all()]


def test_commit_runs_in_the_writer_thread_and_the_answer_waits_for_it(tmp_path: Path) -> None:
    db = _setup(tmp_path / "a.db")
    commits: list[int] = []
    statements: list[int] = []
    event.listen(db.engine, "commit", lambda _conn: commits.append(threading.get_ident()))

    def fn(n: int) -> int:
        with db.write() as conn:
            statements.append(threading.get_ident())
            conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
        return n

    async def main() -> list[int]:
        # Concurrent writes take turns: each waits for the previous COMMIT, none is lost.
        return list(await asyncio.gather(*(db.run_write(lambda n=n: fn(n)) for n in range(20))))

    loop_thread = threading.get_ident()
    assert asyncio.run(main()) == list(range(20))
    assert set(statements) == {loop_thread}
    assert len(commits) == 20 and loop_thread not in commits
    assert _rows(db) == list(range(20))
    db.dispose()


def test_a_write_runs_no_pragma(tmp_path: Path) -> None:
    db = _setup(tmp_path / "b.db")
    seen: list[str] = []

    def fn() -> None:
        with db.write() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))

    async def main() -> None:
        await db.run_write(fn)  # opens the kept writing connection
        assert db._write_conn is not None
        driver: Any = db._write_conn.connection.driver_connection
        driver.set_trace_callback(seen.append)
        await db.run_write(fn)
        await db.run_write(fn)
        driver.set_trace_callback(None)

    asyncio.run(main())
    assert seen.count("BEGIN IMMEDIATE") == 2 and seen.count("COMMIT") == 2
    assert not [s for s in seen if "PRAGMA" in s.upper()]
    db.dispose()


def test_what_fn_wrote_before_raising_is_committed_and_the_error_kept(tmp_path: Path) -> None:
    db = _setup(tmp_path / "c.db")

    def fn() -> None:
        with db.write() as conn:
            conn.execute(text("INSERT INTO t VALUES (5)"))
        raise LookupError("after the write")

    def rolled_back() -> None:
        with db.write() as conn:
            conn.execute(text("INSERT INTO t VALUES (6)"))
            raise KeyError("inside the write")

    async def main() -> None:
        with pytest.raises(LookupError):
            await db.run_write(fn)
        with pytest.raises(KeyError):
            await db.run_write(rolled_back)
        await db.run_write(lambda: None)  # the lock was given back each time

    asyncio.run(main())
    assert _rows(db) == [5]
    db.dispose()


def test_a_cancelled_write_still_commits_before_the_next_begins(tmp_path: Path) -> None:
    db = _setup(tmp_path / "d.db")

    def fn(n: int) -> None:
        with db.write() as conn:
            conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})

    async def main() -> None:
        first = asyncio.ensure_future(db.run_write(lambda: fn(1)))
        await asyncio.sleep(0)  # its statements ran; its COMMIT is in the writer thread
        first.cancel()
        await db.run_write(lambda: fn(2))
        await asyncio.gather(first, return_exceptions=True)

    asyncio.run(main())
    assert _rows(db) == [1, 2]
    db.dispose()
