"""One write transaction of one hall: the counter lock, events with gap-free seqs, audit, and
idempotent replays.

Every write goes through `run_write`:

1. lock the hall's counter row (`UPDATE hall_counters SET seq = seq … RETURNING seq`): on
   PostgreSQL this row lock makes writers of one hall take turns, across processes; on SQLite the
   transaction already holds the write lock (`BEGIN IMMEDIATE`, see hall.store.database);
2. with an idempotency key, replay the stored answer if there is one;
3. run the work, which appends events through `HallTx.emit` (seq = counter + 1, + 2, …);
4. store the counter, the idempotency answer, commit; the caller publishes the envelopes after.

A 4xx (ApiError) inside the work rolls back to a savepoint, so nothing half-written stays, and
with an idempotency key the refusal itself is stored: the same key always gets the same answer.

On PostgreSQL the writes of one hall inside one process go through `HallWriteQueue`: they queue
in the process instead of piling onto the counter row (each in its own thread and pooled
connection, waiting on the row lock), and the writes that queued while one transaction ran go
together into the next ONE transaction, each under its own savepoint, with one counter lock and
one COMMIT for all (group commit). Each write's seqs follow the previous one's, a write that
fails rolls back to its savepoint alone (its seqs are reused, no gap), and no write is answered
before the COMMIT that holds it: exactly-once and durability stay as with one write a
transaction, while the row is taken once per batch instead of once per write.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from sqlalchemy import Connection, insert, select, text

from hall.core.events import EventType, check_storable, envelope
from hall.core.registry import HallInfo
from hall.errors import ApiError
from hall.security.auth import Principal
from hall.store.database import Database, pipelined
from hall.store.fastsql import Fast
from hall.store.models import AuditEntry, EventRow, IdempotencyRecord, table

__all__ = ["HallTx", "WriteResult", "run_write", "HallWriteQueue", "write_queue"]

_LOCK = Fast(text("UPDATE hall_counters SET seq = seq WHERE hall_id = :h RETURNING seq"))
_STORE = Fast(text("UPDATE hall_counters SET seq = :s WHERE hall_id = :h"))
# inline: no implicit RETURNING of the id, which would need a result inside run_tail's pipeline.
_INSERT_EVENT = Fast(table(EventRow).insert().inline())
# Sent live (the bridge prints the progress link from `ticket.issued`) but never stored: the
# progress token is a secret kept only as its hash (issue 12). A gap filled from the table
# carries no link.
NOT_STORED = frozenset({"progress_url"})


def _lock(conn: Connection, hall: HallInfo) -> int:
    """Lock the hall's counter row; its seq."""
    seq = _LOCK.run(conn, {"h": hall.id}).scalar()
    if seq is None:
        raise ApiError(404, "unknown_hall", f"hall {hall.code!r} has no counter row")
    return int(seq)


# A statement of a write's tail (see run_tail): ("event" | "later", statement, parameters).
Tail = tuple[str, Fast, dict[str, Any]]


@dataclass(slots=True)
class WriteResult:
    status: int
    body: dict[str, Any]
    envelopes: list[dict[str, Any]] = field(default_factory=list)
    replayed: bool = False


class HallTx:
    """The open transaction handed to a write: `conn`, `hall`, `now`, `principal`, `emit`, `audit`."""

    def __init__(
        self, conn: Connection, hall: HallInfo, now: float, principal: Principal | None, locked_at: int | None = None,
        rows_out: list[Tail] | None = None,
    ) -> None:
        """`locked_at`: the caller already holds the counter row, at that seq, and stores it
        itself (HallWriteQueue's batches); else the row is locked and stored here. `rows_out`:
        the caller inserts the event rows itself (the batch's, in one statement at its end);
        `flush` hands them over there instead of inserting them, with the `later` statements."""
        self.conn = conn
        self.hall = hall
        self.now = now
        self.principal = principal
        self._store = locked_at is None
        self.start_seq = self.seq = _lock(conn, hall) if locked_at is None else locked_at
        self.envelopes: list[dict[str, Any]] = []
        self._rows: list[dict[str, Any]] = []
        self._rows_out = rows_out
        self._later: list[tuple[Fast, dict[str, Any]]] = []

    def emit(self, type_: EventType, data: dict[str, Any], *, ticket_id: int | None = None, window: int | None = None) -> int:
        """Append an event (staff-audience `data`) with the next seq; returns the seq. Raises
        ValueError for a type that is not an EventType."""
        kind = EventType(type_).value  # stored and sent as the plain text it is
        check_storable(kind, data)
        self.seq += 1
        p = self.principal
        self._rows.append(
            {
                "hall_id": self.hall.id, "seq": self.seq, "type": kind, "at": self.now, "ticket_id": ticket_id,
                "window": window, "user_id": p.user_id if p else None, "device_id": p.device_id if p else None,
                "data": {k: v for k, v in data.items() if k not in NOT_STORED} if not NOT_STORED.isdisjoint(data) else data,
            }
        )
        env = envelope(self.seq, kind, self.now, self.hall.code, data, self.hall.tz)
        env["t"] = self.now  # internal: the commit instant, for the bus-lag metric; never sent
        self.envelopes.append(env)
        return self.seq

    def audit(self, action: str, target: str = "", detail: dict[str, Any] | None = None) -> None:
        """Record a staff, admin or system action (devices' actions are in the event log already)."""
        p = self.principal
        if p is not None and p.kind != "user":
            return
        self.conn.execute(
            insert(AuditEntry).values(
                at=self.now, hall_id=self.hall.id, user_id=p.id if p else None, device_id=None,
                actor=p.actor() if p else "system",
                action=action, target=target, detail=detail or {},
            )
        )

    def later(self, stmt: Fast, params: dict[str, Any]) -> None:
        """Run `stmt` (an insert or update whose result nobody reads) at the end of the write,
        with the events and the counter, in one round trip on PostgreSQL (see `run_tail`)."""
        self._later.append((stmt, params))

    def flush(self) -> None:
        if self._rows_out is not None:
            self._rows_out.extend(("later", stmt, params) for stmt, params in self._later)
            self._rows_out.extend(("event", _INSERT_EVENT, row) for row in self._rows)
        else:
            store = self.seq if self._store and self._rows else None
            run_tail(self.conn, self.hall, [("later", s, p) for s, p in self._later], self._rows, store)
        self._rows = []
        self._later = []

    def discard(self) -> None:
        self.seq = self.start_seq
        self._rows = []
        self._later = []
        self.envelopes = []


def run_tail(conn: Connection, hall: HallInfo, later: list[Tail], events: list[dict[str, Any]], seq: int | None) -> None:
    """A write's (or a batch's) last statements, none of which returns anything: the `later`
    ones, the event rows, the counter stored at `seq` (None: unchanged). On PostgreSQL they go
    in one psycopg pipeline: sent together, one round trip while the counter row is held
    instead of one each; an error among them is raised at the pipeline's end, inside the
    transaction, which then rolls back as for any failed statement."""
    if not later and not events and seq is None:
        return
    with pipelined(conn):
        for _, stmt, params in later:
            stmt.run(conn, params)
        if events:
            _INSERT_EVENT.run_many(conn, events)
        if seq is not None:
            _STORE.run(conn, {"s": seq, "h": hall.id})


def run_write(
    db: Database,
    hall: HallInfo,
    principal: Principal | None,
    work: Callable[[HallTx], tuple[int, dict[str, Any]]],
    *,
    now: float,
    idempotency_key: str | None = None,
    request: str = "",
) -> WriteResult:
    """Run `work` in one hall write transaction (see the module docstring) at the instant `now`
    (the server's clock, `state.clock.now()`: every write is dated by the injected clock). Blocking.

    Raises ApiError when the work refuses and there is no idempotency key to store it under.
    """
    with db.write() as conn:
        return _write_in(HallTx(conn, hall, now, principal), work, idempotency_key=idempotency_key, request=request)


def _write_in(
    tx: HallTx, work: Callable[[HallTx], tuple[int, dict[str, Any]]], *, idempotency_key: str | None, request: str
) -> WriteResult:
    """One hall write in `tx`, whose transaction is open and holds the counter row (run_write's
    steps 2–4 but the COMMIT)."""
    conn, hall, principal = tx.conn, tx.hall, tx.principal
    if idempotency_key:
        key = _scoped(principal, idempotency_key)
        old = conn.execute(
            select(IdempotencyRecord.request, IdempotencyRecord.status, IdempotencyRecord.body).where(
                IdempotencyRecord.hall_id == hall.id, IdempotencyRecord.key == key
            )
        ).first()
        if old is not None:
            if old.request != request:
                raise ApiError(422, "idempotency_key_reused", "this idempotency key was used for another request")
            return WriteResult(old.status, old.body, [], replayed=True)
        savepoint = conn.begin_nested()
        try:
            status, body = work(tx)
            tx.flush()
            savepoint.commit()
        except ApiError as e:
            savepoint.rollback()
            tx.discard()
            status, body = e.status, e.body()
        conn.execute(
            insert(IdempotencyRecord).values(
                hall_id=hall.id, key=key, request=request, status=status, body=body, created_at=tx.now
            )
        )
        return WriteResult(status, body, tx.envelopes)
    status, body = work(tx)
    tx.flush()
    return WriteResult(status, body, tx.envelopes)


def _scoped(principal: Principal | None, key: str) -> str:
    # Keys are per caller: two kiosks that happen to pick the same key do not share answers.
    who = f"{principal.kind}:{principal.id}" if principal else "anon"
    return f"{who}|{key}"[:200]


# --- one hall's writes queued inside a process (PostgreSQL; see the module docstring) ----------

_BATCH = 32  # writes at most in one transaction: bounds how long the row is held at a time


@dataclass(slots=True)
class _Job:
    principal: Principal | None
    work: Callable[[HallTx], tuple[int, dict[str, Any]]]
    now: Callable[[], float]
    key: str | None
    request: str
    done: asyncio.Future[WriteResult]
    result: WriteResult | None = None
    error: BaseException | None = None


class HallWriteQueue:
    """Per-hall queues of writes inside one process, each drained by one task that runs what
    has queued as one transaction (see the module docstring). For SQLite, whose writes already
    take turns (hall.store.database.Database.run_write), `run` is that path unchanged."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._queues: dict[int, list[_Job]] = {}
        self._drainers: set[asyncio.Task[None]] = set()

    async def run(
        self,
        hall: HallInfo,
        principal: Principal | None,
        work: Callable[[HallTx], tuple[int, dict[str, Any]]],
        *,
        now: Callable[[], float],
        idempotency_key: str | None = None,
        request: str = "",
    ) -> WriteResult:
        """run_write for the event loop; raises what run_write raises for this write alone."""
        db = self.db
        if db.is_sqlite:
            return await db.run_write(
                lambda: run_write(db, hall, principal, work, now=now(), idempotency_key=idempotency_key, request=request)
            )
        loop = asyncio.get_running_loop()
        job = _Job(principal, work, now, idempotency_key, request, loop.create_future())
        queue = self._queues.get(hall.id)
        if queue is None:
            queue = self._queues[hall.id] = [job]
            task = loop.create_task(self._drain(hall, queue))
            self._drainers.add(task)
            task.add_done_callback(self._drainers.discard)
        else:
            queue.append(job)
        # Not cancelled with the request: the write may already be in a transaction.
        return await asyncio.shield(job.done)

    async def _drain(self, hall: HallInfo, queue: list[_Job]) -> None:
        batch: list[_Job] = []
        try:
            while queue:
                batch = queue[:_BATCH]
                del queue[:_BATCH]
                try:
                    await anyio.to_thread.run_sync(self._run_batch, hall, batch)
                except Exception as e:  # noqa: BLE001 - the COMMIT (or BEGIN) failed: nothing of the batch stands
                    for job in batch:
                        job.result, job.error = None, e
                for job in batch:
                    if job.done.done():
                        continue
                    if job.error is not None:
                        job.done.set_exception(job.error)
                    else:
                        assert job.result is not None
                        job.done.set_result(job.result)
        finally:
            del self._queues[hall.id]
            for job in batch + queue:  # only when this task itself was cancelled (shutdown)
                if not job.done.done():
                    job.done.set_exception(RuntimeError("the server is stopping"))

    def _run_batch(self, hall: HallInfo, batch: list[_Job]) -> None:
        """The batch in one transaction: the counter row locked once, each write under its own
        savepoint (none for a lone write: its failure is the transaction's), the seq stored once.
        Round trips saved per write: the lock, the counter store, the savepoint's release, and
        the events' insert: the batch's event rows are kept in memory and inserted in one
        statement after its last write (nothing in a write reads the events table), so a write
        undone drops its rows from that list with its savepoint."""
        alone = len(batch) == 1
        rows: list[Tail] = []
        with self.db.write() as conn:
            start = seq = _lock(conn, hall)
            for i, job in enumerate(batch):
                if not alone:
                    conn.exec_driver_sql(f"SAVEPOINT hall_write_{i}")
                kept = len(rows)
                tx = HallTx(conn, hall, job.now(), job.principal, locked_at=seq, rows_out=rows)
                try:
                    job.result = _write_in(tx, job.work, idempotency_key=job.key, request=job.request)
                except Exception as e:  # noqa: BLE001 - this write alone is undone and refused
                    if alone:
                        raise
                    conn.exec_driver_sql(f"ROLLBACK TO SAVEPOINT hall_write_{i}")
                    del rows[kept:]  # its events too: their seqs go to the next write, no gap
                    job.error = e
                else:
                    seq = tx.seq
            events = [params for kind, _, params in rows if kind == "event"]
            run_tail(conn, hall, [r for r in rows if r[0] == "later"], events, seq if seq != start else None)


_QUEUES: weakref.WeakKeyDictionary[Database, HallWriteQueue] = weakref.WeakKeyDictionary()


def write_queue(db: Database) -> HallWriteQueue:
    """The one HallWriteQueue of `db` (one per app: each app has its own Database)."""
    q = _QUEUES.get(db)
    if q is None:
        q = _QUEUES[db] = HallWriteQueue(db)
    return q
