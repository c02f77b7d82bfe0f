"""The waiting counts kept per (category, queue class) stay exact through every transition, and
issuing a ticket costs the same statements whatever the queue's length (issue 14)."""

from __future__ import annotations

import random
import secrets
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select

from hall.core.daily import close_day
from hall.core.issuing import issue_ticket, parse_issue
from hall.core.queries import people_ahead, waiting_counts
from hall.core.registry import HallRegistry
from hall.core.tx import run_write
from hall.security.crypto import PersonalData
from hall.store.database import Database
from hall.store.migrate import upgrade
from hall.store.models import NumberCounter, TicketRow, WaitingCount
from hall.store.ticketmap import ticket_from_row
from queueing.estimate import competing_categories
from queueing.layout import parse_layout
from queueing.numbering import hall_day

from .conftest import MONDAY_9AM, TINY

API = "/api/halls/tiny"
ACTIONS = ("recall", "no-show", "start", "start", "finish", "finish")


def _recount(conn: Any, hall_id: int) -> dict[tuple[str, str], int]:
    rows = conn.execute(
        select(TicketRow.category, TicketRow.queue_class, func.count())
        .where(TicketRow.hall_id == hall_id, TicketRow.status == "waiting")
        .group_by(TicketRow.category, TicketRow.queue_class)
    )
    return {(c, k): int(n) for c, k, n in rows}


def _brute_ahead(rows: list[Any], layout: Any, t: Any) -> int:
    cats = competing_categories(layout, t.category)
    return sum(1 for r in rows if r.category in cats and (r.queue_key, r.id) < (t.queue_key, t.id))


def test_counts_equal_a_recount_after_random_operations(hall) -> None:
    rng = random.Random(20261123)
    hall.post(f"{API}/windows/1/sign-in")
    hall.post(f"{API}/windows/2/sign-in", "admin")
    who = {1: "staff", 2: "admin", 3: "bridge"}  # the bridge's keypad runs window 3
    ids: list[int] = []
    done: set[str] = set()
    held: list[int] = []  # tickets called at some point: what suspending needs
    suspended: list[int] = []
    no_shows: list[int] = []
    info = HallRegistry(hall.db).get("tiny")
    for step in range(260):
        roll = rng.random()
        if roll < 0.3 or not ids:
            r = hall.post(f"{API}/tickets", "kiosk", {"category": rng.choice("AABF"),
                                                     "priority": rng.choice(["normal", "normal", "elderly"])})
            if r.status_code == 201:
                ids.append(r.json()["id"])
        elif roll < 0.5:
            w = rng.choice([1, 2, 3])
            r = hall.post(f"{API}/windows/{w}/call", who[w])
            if r.status_code == 200 and r.json()["ticket"]:
                done.add("call")
                held.append(r.json()["ticket"]["id"])
        elif roll < 0.7:
            w = rng.choice([1, 2, 3])
            action = rng.choice(ACTIONS)
            r = hall.post(f"{API}/windows/{w}/{action}", who[w])
            if r.status_code == 200:
                done.add(action)
                if action == "no-show":
                    no_shows.append(r.json()["ticket"]["id"])
        else:
            action = rng.choice(["transfer", "transfer", "suspend", "resume", "recheck-in", "cancel"])
            pool = {"suspend": held[-3:], "resume": suspended, "recheck-in": no_shows}.get(action) or ids
            tid = rng.choice(pool)
            body: dict[str, Any] = {}
            if action == "transfer":
                body = {"category": rng.choice("ABF")} if rng.random() < 0.7 else {"window": rng.choice([1, 2, 3])}
            if hall.post(f"{API}/tickets/{tid}/{action}", "staff", body).status_code == 200:
                done.add(action)
                if action == "suspend":
                    suspended.append(tid)
        if rng.random() < 0.05:
            hall.clock.advance(rng.choice([0, 1, 30, 300]))
        with hall.db.read() as conn:
            assert waiting_counts(conn, info.id) == _recount(conn, info.id), f"after step {step}"
            if step % 20 == 0:
                rows = conn.execute(select(TicketRow).where(TicketRow.hall_id == info.id, TicketRow.status == "waiting")).all()
                for r in rows:
                    assert people_ahead(conn, info, ticket_from_row(r)) == _brute_ahead(rows, info.layout, r)
    # The walk went through every kind of move into and out of waiting, and left people waiting.
    assert done >= {"call", "recall", "no-show", "start", "finish", "transfer", "suspend", "resume", "recheck-in",
                    "cancel"}, done
    with hall.db.read() as conn:
        assert sum(waiting_counts(conn, info.id).values()) > 0
    hall.clock.advance(86_400)
    close_day(hall.db, info, now=hall.clock.now())
    with hall.db.read() as conn:
        assert waiting_counts(conn, info.id) == _recount(conn, info.id) == {}


def _fill(db: Database, hall_id: int, n: int, now: float, day: str) -> None:
    """`n` waiting A tickets issued earlier today, with the counts and numbers the server keeps."""
    rows = [
        {"hall_id": hall_id, "day": day, "number": f"A{i + 1:03d}", "category": "A", "priority": "normal",
         "queue_class": "normal", "channel": "kiosk", "status": "waiting", "queue_key": now - n + i,
         "issued_at": now - n + i, "wait_origin": now - n + i, "progress_token": secrets.token_hex(12),
         "extra": {"wait_started_at": now - n + i}}
        for i in range(n)
    ]
    with db.write() as conn:
        conn.execute(insert(TicketRow), rows)
        conn.execute(insert(WaitingCount).values(hall_id=hall_id, category="A", queue_class="normal", n=n))
        conn.execute(insert(NumberCounter).values(hall_id=hall_id, day=day, prefix="A", last=n))


def _issue_statements(tmp_path: Any, n: int) -> tuple[list[str], dict[str, Any]]:
    import tomllib

    db = Database(f"sqlite:///{tmp_path / f'cost{n}.db'}")
    seen: list[str] = []
    recording = [False]

    @event.listens_for(db.engine, "connect")
    def _trace(dbapi_conn: Any, _record: Any) -> None:
        # At the driver: every statement, whether SQLAlchemy or a prebuilt fast path ran it.
        dbapi_conn.set_trace_callback(lambda sql: seen.append(sql) if recording[0] else None)

    try:
        upgrade(db)
        from hall.core.halls import import_layout

        layout = parse_layout(tomllib.loads(TINY))
        with db.write() as conn:
            hall_id = import_layout(conn, layout, now=MONDAY_9AM, matters=[])
        info = HallRegistry(db).get("tiny")
        _fill(db, hall_id, n, MONDAY_9AM, hall_day(MONDAY_9AM, layout.timezone).isoformat())
        req = parse_issue({"category": "A"})
        crypto = PersonalData("cost-test-key")
        run_write(db, info, None, lambda tx: issue_ticket(tx, req, crypto), now=MONDAY_9AM)  # warm caches
        recording[0] = True
        result = run_write(db, info, None, lambda tx: issue_ticket(tx, req, crypto), now=MONDAY_9AM + 1)
        recording[0] = False
        return seen, result.body
    finally:
        db.dispose()


def _shape(sql: str) -> str:
    # The trace shows bound values inline; literals of this one issue differ (the number, the
    # token, instants), the statements must not.
    import re

    return re.sub(r"'[^']*'|\b\d+(\.\d+)?\b", "?", sql)


def test_issuing_runs_the_same_statements_at_100_and_10000_waiting(tmp_path) -> None:
    small, small_body = _issue_statements(tmp_path, 100)
    big, big_body = _issue_statements(tmp_path, 10_000)
    assert (small_body["ahead"], big_body["ahead"]) == (101, 10_001)  # the warm-up ticket is ahead too
    assert small_body["number"] == "A102" and big_body["number"] == "A10002"
    assert len(small) == len(big) and [_shape(s) for s in small] == [_shape(s) for s in big]
    # No statement counts the waiting tickets themselves: the only count over tickets is the
    # one of those later than the new ticket (none), bounded by the queue key.
    counts = [s for s in big if "count(" in s.lower() and "tickets" in s.lower()]
    assert len(counts) == 1 and "queue_key >=" in counts[0]


@pytest.mark.parametrize("when", ["walk_in", "early_appointment"])
def test_people_ahead_at_issue_excludes_those_later_in_the_queue(hall, when: str) -> None:
    """A ticket issued later can be earlier in the queue (an appointment placed at its slot);
    the count at issue is exact either way."""
    from hall.core.issuing import CheckedIn

    info = HallRegistry(hall.db).get("tiny")
    crypto = hall.client.app.state.hall.crypto
    early = run_write(hall.db, info, None, lambda tx: issue_ticket(
        tx, parse_issue({"category": "A", "channel": "appointment"}), crypto,
        CheckedIn("A", hall.clock.now() + 1200)), now=hall.clock.now()).body
    assert early["ahead"] == 0
    hall.clock.advance(60)
    walk = hall.issue("A")
    assert walk["ahead"] == 0  # the appointment waits at its slot, 20 minutes from now: behind
    if when == "early_appointment":
        hall.clock.advance(60)
        second = run_write(hall.db, info, None, lambda tx: issue_ticket(
            tx, parse_issue({"category": "B", "channel": "appointment"}), crypto,
            CheckedIn("B", hall.clock.now() + 600)), now=hall.clock.now()).body
        assert second["ahead"] == 1  # the walk-in is before its slot; the first appointment after
