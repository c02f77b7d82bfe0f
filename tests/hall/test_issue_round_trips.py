"""Round trips of one issue through the server's write path (hall.core.tx.HallWriteQueue), on
SQLite and PostgreSQL: pinned, so that a statement added to the path (while the hall's counter
row is held) fails here instead of silently slowing every hall's writes (issue 14), and the same
at 100 and 10,000 waiting. Counted at SQLAlchemy's cursor and transaction events on the writing
connection: every statement, savepoint, BEGIN and COMMIT is one round trip to PostgreSQL, but
those sent together in one psycopg pipeline, which are one."""

from __future__ import annotations

import asyncio
import re
import secrets
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, insert, update

from hall.core import tx as tx_module
from hall.core.halls import import_layout
from hall.core.issuing import issue_ticket, parse_issue
from hall.core.registry import HallRegistry
from hall.core.tx import HallWriteQueue
from hall.security.accounts import add_device
from hall.security.auth import Principal
from hall.security.crypto import PersonalData
from hall.store.database import Database
from hall.store.migrate import upgrade
from hall.store.models import TicketRow, WaitingCount
from queueing.layout import parse_layout
from queueing.numbering import hall_day

from .conftest import MONDAY_9AM, TINY
from .test_waiting_counts import _fill

# Pinned round trips (see the module docstring). A lone write: BEGIN, the counter lock, the
# number, the ticket, the waiting count, the estimate's figures (people ahead, the category's
# waiting, open windows: one statement), one pipeline of the estimate kept, the events and the
# counter stored (hall.core.tx.run_tail), COMMIT.
LONE_ISSUE = 8
# Each write in a batch: its savepoint and its four statements; the batch's BEGIN, lock, tail
# and COMMIT once.
PER_BATCHED_ISSUE = 5
PER_BATCH = 4


def _shape(sql: str) -> str:
    return re.sub(r"'[^']*'|\b\d+(\.\d+)?\b", "?", " ".join(sql.split()))


def _more_waiting(db: Database, hall_id: int, n: int, day: str) -> None:
    """`n` more waiting A tickets, earlier in the queue than any issued now, counts kept."""
    rows = [
        {"hall_id": hall_id, "day": day, "number": f"Z{i:05d}", "category": "A", "priority": "normal",
         "queue_class": "normal", "channel": "kiosk", "status": "waiting", "queue_key": MONDAY_9AM - 20_000 + i,
         "issued_at": MONDAY_9AM - 20_000 + i, "wait_origin": MONDAY_9AM - 20_000 + i,
         "progress_token": secrets.token_hex(12), "extra": {"wait_started_at": MONDAY_9AM - 20_000 + i}}
        for i in range(n)
    ]
    with db.write() as conn:
        conn.execute(insert(TicketRow), rows)
        conn.execute(update(WaitingCount).where(WaitingCount.hall_id == hall_id).values(n=WaitingCount.n + n))


def _issues(
    url: str, burst: int, monkeypatch: pytest.MonkeyPatch, more: int = 0
) -> tuple[list[list[str]], list[list[dict[str, Any]]]]:
    """The writing connection's statements while `burst` issues run at once, with 100 tickets
    waiting and then (when `more`) with `more` added, and the issues' answers. Statements sent
    in one pipeline (hall.store.database.pipelined) are one entry, joined by " ; "."""
    db = Database(url)
    seen: list[tuple[int, str]] = []
    recording = [False]
    real_pipelined = tx_module.pipelined

    @contextmanager
    def marked(conn: Any) -> Iterator[None]:
        start = len(seen)
        with real_pipelined(conn):
            yield
        if recording[0]:
            sent = [s for _, s in seen[start:]]
            del seen[start:]
            seen.append((id(conn.connection.dbapi_connection), " ; ".join(sent)))

    monkeypatch.setattr(tx_module, "pipelined", marked)

    def note(conn: Any, what: str) -> None:
        if recording[0]:
            seen.append((id(conn.connection.dbapi_connection), what))

    @event.listens_for(db.engine, "before_cursor_execute")
    def _statement(conn: Any, _cur: Any, stmt: str, *_a: Any) -> None:
        note(conn, stmt)

    for name in ("begin", "commit", "rollback"):
        event.listen(db.engine, name, lambda conn, _n=name: note(conn, _n.upper()))
    traces: list[list[str]] = []
    answers: list[list[dict[str, Any]]] = []
    try:
        upgrade(db)
        layout = parse_layout(tomllib.loads(TINY))
        with db.write() as conn:
            hall_id = import_layout(conn, layout, now=MONDAY_9AM, matters=[])
            kiosk_id = add_device(conn, "kiosk", "tiny")[0]
        # A kiosk, as in the hall: a device's writes are in the event log, not the audit log.
        kiosk = Principal("device", kiosk_id, "kiosk", "kiosk", frozenset({hall_id}))
        info = HallRegistry(db).get("tiny")
        day = hall_day(MONDAY_9AM, layout.timezone).isoformat()
        _fill(db, hall_id, 100, MONDAY_9AM, day)
        req = parse_issue({"category": "A"})
        crypto = PersonalData("round-trip-test-key")

        async def main() -> list[Any]:
            q = HallWriteQueue(db)
            await q.run(info, kiosk, lambda tx: issue_ticket(tx, req, crypto), now=lambda: MONDAY_9AM)  # warm caches
            recording[0] = True
            done = await asyncio.gather(*(
                q.run(info, kiosk, lambda tx: issue_ticket(tx, req, crypto), now=lambda: MONDAY_9AM + 1) for _ in range(burst)
            ))
            recording[0] = False
            return list(done)

        for step in ([0, more] if more else [0]):
            if step:
                _more_waiting(db, hall_id, step, day)
            seen.clear()
            answers.append([r.body for r in asyncio.run(main())])
            writing = {c for c, s in seen if "INSERT INTO tickets" in s}
            traces.append([s for c, s in seen if c in writing])
    finally:
        db.dispose()
    return traces, answers


def test_one_issue_costs_the_pinned_round_trips_at_100_and_10000_waiting(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (small, big), (small_answers, big_answers) = _issues(database_url, 1, monkeypatch, more=9_900)
    assert small_answers[0]["ahead"] == 100 + 1  # the warm-up ticket is ahead too
    assert big_answers[0]["ahead"] == 100 + 3 + 9_900  # two more warm-ups and the first run's
    assert [_shape(s) for s in small] == [_shape(s) for s in big]
    assert len(small) == LONE_ISSUE, "\n".join(small)
    assert small[0] == "BEGIN" and small[-1] == "COMMIT"


def test_a_batch_of_issues_costs_the_pinned_round_trips_per_write(pg_database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (statements,), (bodies,) = _issues(pg_database_url, 5, monkeypatch)
    numbers = [b["number"] for b in bodies]
    assert len(set(numbers)) == 5
    # One BEGIN, lock, events insert, counter store and COMMIT for all five (one batch): the
    # queue collects the writes that arrive while one runs, and these five arrive together.
    assert statements.count("BEGIN") == 1 and statements.count("COMMIT") == 1
    assert len(statements) == PER_BATCH + 5 * PER_BATCHED_ISSUE, "\n".join(statements)
    tail = statements[-2]
    assert tail.count("INSERT INTO ticket_estimates") == 5 and "INSERT INTO events" in tail and "hall_counters" in tail
