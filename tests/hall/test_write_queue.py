"""One hall's writes queued inside a process (hall.core.tx.HallWriteQueue): on PostgreSQL the
writes that queue up go together into one transaction (one counter lock, one COMMIT), each under
its own savepoint — a refused or failing write is undone alone, and the seqs of the others stay
gap-free and in order. On SQLite the queue is the database's own write path."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from hall.core import tx as tx_module
from hall.core.events import EventType
from hall.core.tx import HallTx, HallWriteQueue
from hall.errors import ApiError
from hall.store.models import EventRow, HallCounter


def _works() -> list[Any]:
    def ok(n: int) -> Any:
        def work(tx: HallTx) -> tuple[int, dict[str, Any]]:
            seqs = [tx.emit(EventType.DEVICE_STATUS, {"device": f"d{n}", "status": "ok", "i": i}) for i in range(2)]
            return 200, {"n": n, "seqs": seqs}

        return work

    def refused(tx: HallTx) -> tuple[int, dict[str, Any]]:
        tx.emit(EventType.DEVICE_STATUS, {"device": "refused", "status": "ok"})
        raise ApiError(409, "refused", "refused on purpose")

    def broken(tx: HallTx) -> tuple[int, dict[str, Any]]:
        tx.emit(EventType.DEVICE_STATUS, {"device": "broken", "status": "ok"})
        raise RuntimeError("a bug in one write")

    works: list[Any] = [ok(n) for n in range(12)]
    works.insert(3, refused)
    works.insert(8, broken)
    return works


def test_queued_writes_of_one_hall_commit_together_gap_free_and_fail_alone(hall, monkeypatch) -> None:
    info = hall.client.app.state.hall.registry.get("tiny")
    with hall.db.read() as conn:
        before = int(conn.execute(select(HallCounter.seq).where(HallCounter.hall_id == info.id)).scalar_one())
    sizes: list[int] = []
    real = HallWriteQueue._run_batch

    def recorded(self: HallWriteQueue, hall_info: Any, batch: list[Any]) -> None:
        sizes.append(len(batch))
        real(self, hall_info, batch)

    monkeypatch.setattr(HallWriteQueue, "_run_batch", recorded)

    async def main() -> list[Any]:
        q = HallWriteQueue(hall.db)
        jobs = [q.run(info, None, w, now=lambda: 1_700_000_000.0) for w in _works()]
        return await asyncio.gather(*jobs, return_exceptions=True)

    results = asyncio.run(main())
    errors = [r for r in results if isinstance(r, BaseException)]
    assert [type(e) for e in errors] == [ApiError, RuntimeError]
    done = [r for r in results if not isinstance(r, BaseException)]
    seqs = [s for r in done for s in r.body["seqs"]]
    # In submission order, two seqs each, no gap where the refused and the broken writes were.
    assert seqs == list(range(before + 1, before + 1 + 2 * len(done)))
    assert [r.body["n"] for r in done] == list(range(12))
    with hall.db.read() as conn:
        stored = conn.execute(
            select(EventRow.seq, EventRow.data).where(EventRow.hall_id == info.id, EventRow.seq > before).order_by(EventRow.seq)
        ).all()
        counter = int(conn.execute(select(HallCounter.seq).where(HallCounter.hall_id == info.id)).scalar_one())
    assert [s for s, _ in stored] == seqs and counter == seqs[-1]
    assert not {"refused", "broken"} & {d["device"] for _, d in stored}
    if hall.db.is_sqlite:
        assert sizes == []  # SQLite: the database's own one-writer path
    else:
        assert sizes[0] == len(results) and sum(sizes) == len(results)  # one transaction for the burst


@pytest.mark.postgres
def test_a_failed_commit_fails_every_write_of_its_batch(pg_database_url, tmp_path, layout_file, monkeypatch) -> None:
    from hall.core.halls import import_layout
    from hall.core.registry import HallRegistry
    from hall.store.database import Database
    from hall.store.migrate import upgrade
    from queueing.layout import load_layout

    db = Database(pg_database_url)
    try:
        upgrade(db)
        with db.write() as conn:
            import_layout(conn, load_layout(layout_file), matters=[], now=1_700_000_000.0)
        info = HallRegistry(db).get("tiny")
        monkeypatch.setattr(tx_module, "_STORE", _Failing())

        async def main() -> list[Any]:
            q = HallWriteQueue(db)
            return await asyncio.gather(*[q.run(info, None, w, now=lambda: 1_700_000_000.0) for w in _works()[:4]],
                                        return_exceptions=True)

        results = asyncio.run(main())
        assert all(isinstance(r, RuntimeError) and str(r) == "commit failed" for r in results)
        with db.read() as conn:
            assert conn.execute(select(EventRow.seq).where(EventRow.hall_id == info.id)).first() is None
    finally:
        db.dispose()


class _Failing:
    def run(self, conn: Any, params: dict[str, Any]) -> None:
        raise RuntimeError("commit failed")
