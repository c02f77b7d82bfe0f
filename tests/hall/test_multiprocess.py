"""Exactly once across two server processes on PostgreSQL + Redis, and the SIGKILL crash test."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from hall.core.halls import import_layout
from hall.security.accounts import add_device
from hall.store.database import Database
from hall.store.migrate import upgrade
from hall.store.models import EventRow, TicketRow
from queueing.layout import parse_layout

from .procs import Server

WINDOWS = 20
TICKETS = 300
PRE_ISSUED = 60


def busy_layout(code: str) -> dict:
    return {
        "hall": {"code": code, "name": "并发测试大厅", "timezone": "Asia/Shanghai"},
        "zones": [{"code": "z", "name": "综合"}],
        "categories": [{"code": "A", "name": "综合业务", "zone": "z", "service_minutes": 10},
                       {"code": "B", "name": "社保", "zone": "z", "service_minutes": 10}],
        "windows": [{"number": n, "name": f"{n}号窗口", "kind": "comprehensive", "serves": ["A", "B"]} for n in range(1, WINDOWS + 1)],
    }


def prepare(url: str, code: str) -> tuple[Database, str]:
    db = Database(url)
    upgrade(db)
    with db.write() as conn:
        import_layout(conn, parse_layout(busy_layout(code)), matters=[], now=time.time())
        _, token = add_device(conn, "bridge", code)
    return db, token


def window_loop(base: str, code: str, window: int, token: str, calls: list, errors: list,
                issuing: threading.Event | None = None) -> None:
    """Call, start and finish at one window until the queue is empty and nobody issues any more
    (`issuing` set while issuers run; an empty queue meanwhile is only a pause)."""
    h = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=h, timeout=30) as c:
        while True:
            still_issuing = issuing is not None and issuing.is_set()
            r = c.post(f"/api/halls/{code}/windows/{window}/call", json={})
            if r.status_code != 200:
                errors.append((window, "call", r.status_code, r.text))
                return
            t = r.json()["ticket"]
            if t is None:
                if still_issuing:
                    time.sleep(0.02)
                    continue
                return
            calls.append((t["id"], window))
            for step in ("start", "finish"):
                r = c.post(f"/api/halls/{code}/windows/{window}/{step}", json={})
                if r.status_code != 200:
                    errors.append((window, step, r.status_code, r.text))
                    return


def issue_loop(base: str, code: str, token: str, count: int, first: int, issued: list, errors: list) -> None:
    """Issue `count` tickets (categories alternating), recording (id, category, number)."""
    h = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=h, timeout=30) as c:
        for i in range(first, first + count):
            r = c.post(f"/api/halls/{code}/tickets", json={"category": "AB"[i % 2]})
            if r.status_code != 201:
                errors.append(("issue", r.status_code, r.text))
                return
            t = r.json()
            issued.append((t["id"], t["category"], t["number"]))


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_two_processes_call_every_ticket_exactly_once(pg_database_url, redis_url, tmp_path: Path):
    database_url = pg_database_url
    from websockets.sync.client import connect

    code = "conc"
    db, token = prepare(database_url, code)
    env = {
        "HALL_DATABASE_URL": database_url, "HALL_REDIS_URL": redis_url, "HALL_SECRET_KEY": "k",
        "HALL_REDIS_PREFIX": f"test-{uuid.uuid4().hex[:8]}:", "HALL_DATA_DIR": str(tmp_path),
        "HALL_CLOSE_DAY_AT": "", "HALL_ISSUE_RATE": "100000", "HALL_WS_QUEUE": "5000",
    }
    a = Server(env, tmp_path / "a.log").start()
    b = Server(env, tmp_path / "b.log").start()
    try:
        # A first part is waiting when the windows open; the rest is issued through both
        # processes while all twenty windows call, so issuing and calling race for the same rows.
        issued: list = []
        errors: list = []
        issue_loop(a.url, code, token, PRE_ISSUED, 0, issued, errors)
        assert not errors, errors[:3]
        start_seq = PRE_ISSUED
        seen: list[dict] = []
        ready = threading.Event()
        done = threading.Event()

        def watch() -> None:
            with connect(f"ws://127.0.0.1:{a.port}/ws/halls/{code}?since={start_seq}&token={token}", max_size=None) as ws:
                ready.set()
                while not done.is_set() or len([e for e in seen if e.get("type") == "ticket.called"]) < TICKETS:
                    try:
                        msg = json.loads(ws.recv(timeout=10))
                    except TimeoutError:
                        return
                    seen.append(msg)

        watcher = threading.Thread(target=watch)
        watcher.start()
        assert ready.wait(10)
        calls: list = []
        issuing = threading.Event()
        issuing.set()
        rest = TICKETS - PRE_ISSUED
        issuers = [
            threading.Thread(target=issue_loop, args=(url, code, token, rest // 2, PRE_ISSUED + k * (rest // 2), issued, errors))
            for k, url in enumerate((a.url, b.url))
        ]
        threads = [
            threading.Thread(target=window_loop, args=(a.url if w <= WINDOWS // 2 else b.url, code, w, token, calls, errors, issuing))
            for w in range(1, WINDOWS + 1)
        ]
        for t in threads + issuers:
            t.start()
        for t in issuers:
            t.join(300)
        called_while_issuing = len(calls)
        issuing.clear()
        for t in threads:
            t.join(300)
        done.set()
        watcher.join(60)
        assert not errors, errors[:3]
        assert len(issued) == TICKETS
        numbers = [(cat, number) for _, cat, number in issued]
        assert len(set(numbers)) == TICKETS  # no number given twice by the two processes
        assert called_while_issuing > 0  # windows called while both processes were still issuing

        counts = Counter(tid for tid, _ in calls)
        assert len(counts) == TICKETS and max(counts.values()) == 1  # none lost, none twice
        assert set(counts) == {tid for tid, _, _ in issued}
        assert {w for _, w in calls} >= set(range(WINDOWS // 2 + 1, WINDOWS + 1))  # B did serve
        with db.read() as conn:
            statuses = dict(conn.execute(select(TicketRow.status, func.count()).group_by(TicketRow.status)).all())
            called_events = conn.execute(select(func.count()).where(EventRow.type == "ticket.called")).scalar_one()
        assert statuses == {"finished": TICKETS} and called_events == TICKETS

        # the websocket on A saw every event, B's calls included, in order, with no gap
        seqs = [e["seq"] for e in seen if "seq" in e and e.get("type") != "snapshot"]
        assert seqs == list(range(start_seq + 1, start_seq + 1 + len(seqs)))
        ws_calls = [(e["data"]["id"], e["data"]["window"]) for e in seen if e.get("type") == "ticket.called"]
        assert sorted(ws_calls) == sorted(calls)
    finally:
        a.stop()
        b.stop()
        db.dispose()


def _burst(base: str, code: str, token: str, window: int, answers: list, stop: threading.Event) -> None:
    """Issue, call, start, finish as fast as possible, recording every 2xx answer."""
    h = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=base, headers=h, timeout=10) as c:
            while not stop.is_set():
                r = c.post(f"/api/halls/{code}/tickets", json={"category": "A"})
                if r.status_code == 201:
                    answers.append(("issued", r.json()["id"], None))
                r = c.post(f"/api/halls/{code}/windows/{window}/call", json={})
                if r.status_code == 200 and r.json()["ticket"]:
                    answers.append(("called", r.json()["ticket"]["id"], window))
                    for step, status in (("start", "serving"), ("finish", "finished")):
                        r = c.post(f"/api/halls/{code}/windows/{window}/{step}", json={})
                        if r.status_code == 200:
                            answers.append((status, r.json()["ticket"]["id"], window))
    except httpx.HTTPError:
        return  # the server died under us: that is the point


_ORDER = {"waiting": 0, "issued": 0, "called": 1, "serving": 2, "finished": 3}


@pytest.mark.slow
def test_sigkill_mid_burst_loses_no_answered_write(database_url, tmp_path: Path):
    code = "crash"
    db, token = prepare(database_url, code)
    env = {
        "HALL_DATABASE_URL": database_url, "HALL_SECRET_KEY": "k", "HALL_DATA_DIR": str(tmp_path),
        "HALL_CLOSE_DAY_AT": "", "HALL_ISSUE_RATE": "100000",
    }
    server = Server(env, tmp_path / "crash.log").start()
    answers: list = []
    stop = threading.Event()
    threads = [threading.Thread(target=_burst, args=(server.url, code, token, w, answers, stop)) for w in (1, 2, 3, 4)]
    try:
        for t in threads:
            t.start()
        # Kill it in the middle of the burst; a server (or burst) that died first fails the test
        # with its log instead of waiting forever for answers that cannot come.
        give_up = time.monotonic() + 120
        while len(answers) < 200:
            assert server.proc is not None
            if server.proc.poll() is not None:
                pytest.fail(f"the server died before the kill: {(tmp_path / 'crash.log').read_text()[-2000:]}")
            if not any(t.is_alive() for t in threads) or time.monotonic() > give_up:
                pytest.fail(f"the burst stopped after {len(answers)} answers: {(tmp_path / 'crash.log').read_text()[-2000:]}")
            time.sleep(0.05)
        server.kill()
        stop.set()
        for t in threads:
            t.join(30)
        answered = list(answers)
        server = Server(env, tmp_path / "crash.log").start()  # restart on the same database
        with db.read() as conn:
            rows = {r.id: r for r in conn.execute(select(TicketRow.id, TicketRow.status, TicketRow.window, TicketRow.category, TicketRow.number))}
            seqs = conn.execute(select(EventRow.seq).order_by(EventRow.seq)).scalars().all()
        assert answered
        for state, tid, window in answered:
            assert tid in rows, f"ticket {tid} answered {state} is missing"
            row = rows[tid]
            # at least as far along as the answer said (an unanswered request may have gone further)
            assert _ORDER[row.status] >= _ORDER[state], (tid, state, row.status)
            if window is not None:
                assert row.window == window
        assert seqs == list(range(1, len(seqs) + 1))  # the event log has no hole
        r = httpx.get(f"{server.url}/api/halls/{code}/snapshot", timeout=10)
        assert r.status_code == 200 and r.json()["seq"] == len(seqs)
        # Numbers stay unique after the restart: the counters survived with the tickets.
        before = {(r.category, r.number) for r in rows.values()}
        after: list = []
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as c:
            for _ in range(20):
                r = c.post(f"/api/halls/{code}/tickets", json={"category": "A"})
                assert r.status_code == 201, r.text
                after.append((r.json()["category"], r.json()["number"]))
        assert len(set(after)) == 20 and not set(after) & before, (sorted(after), len(before))
    finally:
        stop.set()
        server.stop()
        db.dispose()
