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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select, text

from hall.core.events import EventType, check_storable, envelope
from hall.core.registry import HallInfo
from hall.errors import ApiError
from hall.security.auth import Principal
from hall.store.database import Database
from hall.store.fastsql import Fast
from hall.store.models import AuditEntry, EventRow, IdempotencyRecord, table

__all__ = ["HallTx", "WriteResult", "run_write"]

_LOCK = Fast(text("UPDATE hall_counters SET seq = seq WHERE hall_id = :h RETURNING seq"))
_STORE = Fast(text("UPDATE hall_counters SET seq = :s WHERE hall_id = :h"))
_INSERT_EVENT = Fast(table(EventRow).insert())
# Sent live (the bridge prints the progress link from `ticket.issued`) but never stored: the
# progress token is a secret kept only as its hash (issue 12). A gap filled from the table
# carries no link.
NOT_STORED = frozenset({"progress_url"})


@dataclass(slots=True)
class WriteResult:
    status: int
    body: dict[str, Any]
    envelopes: list[dict[str, Any]] = field(default_factory=list)
    replayed: bool = False


class HallTx:
    """The open transaction handed to a write: `conn`, `hall`, `now`, `principal`, `emit`, `audit`."""

    def __init__(self, conn: Connection, hall: HallInfo, now: float, principal: Principal | None) -> None:
        self.conn = conn
        self.hall = hall
        self.now = now
        self.principal = principal
        seq = _LOCK.run(conn, {"h": hall.id}).scalar()
        if seq is None:
            raise ApiError(404, "unknown_hall", f"hall {hall.code!r} has no counter row")
        self.start_seq = self.seq = int(seq)
        self.envelopes: list[dict[str, Any]] = []
        self._rows: list[dict[str, Any]] = []

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

    def flush(self) -> None:
        if self._rows:
            _INSERT_EVENT.run_many(self.conn, self._rows)
            _STORE.run(self.conn, {"s": self.seq, "h": self.hall.id})
            self._rows = []

    def discard(self) -> None:
        self.seq = self.start_seq
        self._rows = []
        self.envelopes = []


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
        tx = HallTx(conn, hall, now, principal)
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
