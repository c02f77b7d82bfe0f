"""Hall server speed, measured against a real `uvicorn` process on 127.0.0.1. Prints JSON.

(a) full ticket cycles per second (issue + call + start + finish, 4 HTTP requests, several
    windows at once) on SQLite and on PostgreSQL, beside a baseline: the same SQL statements
    (counter lock, numbering, ticket insert, head query, guarded claim, event rows, window
    update) run directly through the same driver (sqlite3 / psycopg) in one process, with the
    same durability settings (SQLite WAL + the server's default synchronous pragma; PostgreSQL defaults).
(b) call-to-screen latency with N websocket clients connected (default 1,000): from sending
    the call request to the LAST client receiving its `ticket.called` event; p50 and p99.
(c) server memory per idle websocket client: RSS growth of the server process / N.
(d) the time of one call (HTTP round trip) with 100 and with 10,000 tickets waiting.

Goals on a 2-core machine: (a) ≥ 30% of the baseline; (b) p99 ≤ 100 ms; (c) ≤ 40 KB;
(d) the call at 10,000 waiting ≤ 2× the call at 100.

    .venv/bin/python benchmarks/server.py [--postgres URL] [--clients 1000] [--seconds 10] [--only-a]

PostgreSQL runs use a schema of their own (dropped afterwards); without --postgres (or
HALL_TEST_POSTGRES_URL) the PostgreSQL figures are null.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hall.core.halls import import_layout  # noqa: E402
from hall.security.accounts import add_device  # noqa: E402
from hall.settings import DEFAULT_SQLITE_SYNCHRONOUS  # noqa: E402
from hall.store.database import Database  # noqa: E402
from hall.store.migrate import upgrade  # noqa: E402
from queueing.layout import parse_layout  # noqa: E402
from queueing.numbering import hall_day  # noqa: E402

HALL = "bench"
WINDOWS = 20


def layout() -> dict[str, Any]:
    return {
        "hall": {"code": HALL, "name": "基准测试大厅", "timezone": "Asia/Shanghai"},
        "zones": [{"code": "z", "name": "综合"}],
        "categories": [{"code": "A", "name": "综合业务", "zone": "z", "service_minutes": 10}],
        "windows": [{"number": n, "name": f"{n}号窗口", "serves": ["A"]} for n in range(1, WINDOWS + 1)],
    }


# --- a server process ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [
            sys.executable, "-m", "uvicorn", "hall.app:create_app", "--factory", "--host", "127.0.0.1",
            "--port", str(self.port), "--ws-per-message-deflate", "false", "--log-level", "warning",
            "--no-access-log", "--backlog", "4096", "--ws", os.environ.get("HALL_BENCH_WS", "auto"),
        ]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=sys.stderr)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def prepare(url: str) -> tuple[Database, str]:
    db = Database(url)
    upgrade(db)
    with db.write() as conn:
        import_layout(conn, parse_layout(layout()), matters=[], now=time.time())
        _, token = add_device(conn, "bridge", HALL)
    return db, token


def server_env(url: str, data: str) -> dict[str, str]:
    return {
        "HALL_DATABASE_URL": url, "HALL_DATA_DIR": data, "HALL_SECRET_KEY": "bench", "HALL_CLOSE_DAY_AT": "",
        "HALL_ISSUE_RATE": "100000000", "HALL_WS_QUEUE": "10000", "HALL_REDIS_URL": "", "HALL_OPS_INTERVAL": "3600",
    }


# --- (a) cycles ------------------------------------------------------------------------------


class RawHttp:
    """A minimal keep-alive HTTP/1.1 JSON client on asyncio streams: the load generator shares
    the machine with the server, so it must cost as little CPU as possible (httpx costs ~1 ms
    a request, more than the server's own work)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.head = f"Authorization: Bearer {token}\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        data = json.dumps(body).encode()
        self.writer.write(f"POST {path} HTTP/1.1\r\n{self.head}Content-Length: {len(data)}\r\n\r\n".encode() + data)
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        payload = await self.reader.readexactly(length)
        return int(status_line.split()[1]), json.loads(payload)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def cycles_through_server(port: int, token: str, seconds: float, windows: int = 8) -> float:
    done = 0
    stop_at = time.perf_counter() + seconds

    async def window(w: int) -> None:
        nonlocal done
        c = RawHttp(port, token)
        try:
            while time.perf_counter() < stop_at:
                status, body = await c.post(f"/api/halls/{HALL}/tickets", {"category": "A"})
                assert status == 201, body
                status, body = await c.post(f"/api/halls/{HALL}/windows/{w}/call", {})
                assert status == 200, body
                for step in ("start", "finish"):
                    status, body = await c.post(f"/api/halls/{HALL}/windows/{w}/{step}", {})
                    assert status == 200, body
                done += 1
        finally:
            await c.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(window(w) for w in range(1, windows + 1)))
    return done / (time.perf_counter() - t0)


def baseline_cycles(driver: str, dsn: str, hall_id: int, seconds: float) -> float:
    """The server's statements per cycle, straight through the driver, one process."""
    if driver == "sqlite":
        conn = sqlite3.connect(dsn, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={DEFAULT_SQLITE_SYNCHRONOUS}")  # the server's own setting
        p = "?"

        def begin() -> None:
            conn.execute("BEGIN IMMEDIATE")
    else:
        import psycopg

        conn = psycopg.connect(dsn)
        p = "%s"

        def begin() -> None:
            pass

    def q(sql: str, *args: Any) -> Any:
        return conn.execute(sql.replace("?", p), args)

    def lock() -> int:
        return int(q("UPDATE hall_counters SET seq = seq WHERE hall_id = ? RETURNING seq", hall_id).fetchone()[0])

    def event(seq: int, type_: str, ticket: int, data: str) -> None:
        q("INSERT INTO events (hall_id, seq, type, at, ticket_id, \"window\", user_id, device_id, data) "
          "VALUES (?, ?, ?, ?, ?, 1, NULL, NULL, ?)", hall_id, seq, type_, time.time(), ticket, data)
        q("UPDATE hall_counters SET seq = ? WHERE hall_id = ?", seq, hall_id)

    heads = " UNION ALL ".join(
        f"SELECT * FROM (SELECT id, number, category, queue_class, queue_key, target_window, extra FROM tickets "
        f"WHERE hall_id = ? AND status = 'waiting' AND category = 'A' AND queue_class = '{k}' AND target_window IS NULL "
        f"ORDER BY queue_key, id LIMIT 1) AS h{i}"
        for i, k in enumerate(("appointment", "priority", "normal"))
    ) + (" UNION ALL SELECT * FROM (SELECT id, number, category, queue_class, queue_key, target_window, extra FROM tickets "
         "WHERE hall_id = ? AND status = 'waiting' AND target_window = 1 ORDER BY queue_key, id LIMIT 1) AS h3")
    n = 0
    day = hall_day(time.time(), "Asia/Shanghai").isoformat()
    stop_at = time.perf_counter() + seconds
    t0 = time.perf_counter()
    while time.perf_counter() < stop_at:
        # issue
        begin()
        seq = lock()
        num = q("UPDATE number_counters SET last = last + 1 WHERE hall_id = ? AND day = ? AND prefix = 'B' RETURNING last", hall_id, day).fetchone()
        if num is None:
            q("INSERT INTO number_counters (hall_id, day, prefix, last) VALUES (?, ?, 'B', 1)", hall_id, day)
            num = (1,)
        now = time.time()
        tid = q("INSERT INTO tickets (hall_id, day, number, category, priority, queue_class, channel, status, queue_key, "
                "target_window, \"window\", issued_at, called_at, finished_at, progress_token, person_hash, person_enc, "
                "phone_hash, phone_enc, device_id, extra) VALUES (?, ?, ?, 'A', 'normal', 'normal', 'kiosk', 'waiting', ?, "
                "NULL, NULL, ?, NULL, NULL, ?, NULL, NULL, NULL, NULL, 1, ?) RETURNING id",
                hall_id, day, f"B{num[0]:03d}", now, now, uuid.uuid4().hex, '{"recalls": 0}').fetchone()[0]
        q("SELECT count(*) FROM tickets WHERE hall_id = ? AND status = 'waiting' AND category = 'A'", hall_id).fetchone()
        q("SELECT count(*) FROM tickets WHERE hall_id = ? AND status = 'waiting' AND category IN ('A') AND queue_key < ?", hall_id, now).fetchone()
        event(seq + 1, "ticket.issued", tid, '{"id": 1, "number": "B001", "category": "A"}')
        conn.commit()
        # call
        begin()
        seq = lock()
        win = q("SELECT id, current_ticket_id FROM windows WHERE hall_id = ? AND number = 1", hall_id).fetchone()
        head = q(heads, hall_id, hall_id, hall_id, hall_id).fetchall()
        pick = min(head, key=lambda r: (r[4], r[0]))[0]
        q("SELECT * FROM tickets WHERE id = ? AND status = 'waiting'", pick).fetchone()
        q("UPDATE tickets SET status = 'called', \"window\" = 1, called_at = ?, extra = ? WHERE id = ? AND status = 'waiting'",
          time.time(), '{"recalls": 0}', pick)
        event(seq + 1, "ticket.called", pick, '{"id": 1, "number": "B001", "window": 1, "reason": {"rule": "queue_key"}}')
        q("UPDATE windows SET current_ticket_id = ?, policy_state = ? WHERE id = ?", pick, '{"priority_streak": 0}', win[0])
        conn.commit()
        # start, finish
        for status, type_ in (("serving", "ticket.started"), ("finished", "ticket.finished")):
            begin()
            seq = lock()
            q("SELECT id, current_ticket_id FROM windows WHERE hall_id = ? AND number = 1", hall_id).fetchone()
            q("SELECT * FROM tickets WHERE id = ? AND hall_id = ?", pick, hall_id).fetchone()
            q("UPDATE tickets SET status = ?, extra = ? WHERE id = ? AND status <> ?", status, '{"recalls": 0}', pick, status)
            event(seq + 1, type_, pick, '{"id": 1, "number": "B001", "window": 1}')
            if status == "finished":
                q("UPDATE windows SET current_ticket_id = NULL, last_finished_ticket_id = ? WHERE id = ?", pick, win[0])
            conn.commit()
        n += 1
    rate = n / (time.perf_counter() - t0)
    conn.close()
    return rate


def hall_id_of(db: Database) -> int:
    from sqlalchemy import select

    from hall.store.models import Hall

    with db.read() as conn:
        return int(conn.execute(select(Hall.id).where(Hall.code == HALL)).scalar_one())


def measure_cycles(url: str, data: str, seconds: float, driver: str, dsn: str) -> dict[str, Any]:
    db, token = prepare(url)
    server = Server(server_env(url, data))
    try:
        asyncio.run(cycles_through_server(server.port, token, 1.0))  # warm up
        through = asyncio.run(cycles_through_server(server.port, token, seconds))
    finally:
        server.stop()
    base = baseline_cycles(driver, dsn, hall_id_of(db), seconds)
    db.dispose()
    return {"server_cycles_per_s": round(through, 1), "direct_sql_cycles_per_s": round(base, 1),
            "ratio": round(through / base, 3), "goal_ratio": 0.3}


# --- (b), (c), (d) ---------------------------------------------------------------------------


class ScreenClient(asyncio.Protocol):
    """A websocket screen that costs the machine almost nothing: the opening handshake, a
    minimal frame reader that answers pings (the server closes screens that do not), and for
    text frames only a look for `"type": "ticket.called"` and the ticket id (the first field of
    `data`) with the arrival time. With 1,000 clients on the server's own 2 cores, a full
    websocket client library would measure itself (~50 µs a message) more than the server."""

    MARK = b'"type": "ticket.called"'

    def __init__(self, path: str, port: int, on_call: Any) -> None:
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self.on_call = on_call
        self.buf = b""
        self.open = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        buf = self.buf + data
        if not self.open.done():
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            self.open.set_result(True)
            buf = buf[end + 4 :]
        while len(buf) >= 2:
            opcode, size, at = buf[0] & 0x0F, buf[1] & 0x7F, 2
            if size == 126:
                if len(buf) < 4:
                    break
                size, at = int.from_bytes(buf[2:4], "big"), 4
            elif size == 127:
                if len(buf) < 10:
                    break
                size, at = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < at + size:
                break
            payload, buf = buf[at : at + size], buf[at + size :]
            if opcode == 0x1 and self.MARK in payload[:80]:
                start = payload.find(b'"data": {"id": ') + 15
                self.on_call(int(payload[start : payload.index(b",", start)]), now)
            elif opcode == 0x9 and self.transport is not None:  # ping: answer with a masked pong
                mask = b"\x00\x00\x00\x00"  # a zero mask leaves the payload as it is
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + mask + payload)
        self.buf = buf

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def screens(base: str, token: str, clients: int, calls: int, server: Server) -> dict[str, Any]:
    """(b) and (c): N idle screens on the public stream; then calls, timed to the last screen."""
    h = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=h, timeout=30) as c:
        for _ in range(calls + 5):
            assert (await c.post(f"/api/halls/{HALL}/tickets", json={"category": "A"})).status_code == 201
    rss0 = server.rss_kb()
    arrivals: dict[int, list[float]] = {}
    complete: dict[int, asyncio.Event] = {}

    def on_call(ticket: int, at: float) -> None:
        got = arrivals.setdefault(ticket, [])
        got.append(at)
        if len(got) == clients:
            complete.setdefault(ticket, asyncio.Event()).set()

    loop = asyncio.get_running_loop()
    conns: list[ScreenClient] = []
    for i in range(clients):
        _, proto = await loop.create_connection(
            lambda: ScreenClient(f"/ws/halls/{HALL}", server.port, on_call), "127.0.0.1", server.port
        )
        await asyncio.wait_for(proto.open, 10)
        conns.append(proto)
        if i % 100 == 99:
            await asyncio.sleep(0.05)
    await asyncio.sleep(1.5)
    rss1 = server.rss_kb()
    per_client_kb = (rss1 - rss0) / clients

    latencies = []
    c = RawHttp(server.port, token)
    try:
        for i in range(calls):
            window = 1 + i % WINDOWS
            t0 = time.perf_counter()
            status, body = await c.post(f"/api/halls/{HALL}/windows/{window}/call", {})
            assert status == 200 and body["ticket"], body
            ticket = body["ticket"]["id"]
            await asyncio.wait_for(complete.setdefault(ticket, asyncio.Event()).wait(), 30)
            latencies.append((max(arrivals[ticket]) - t0) * 1000)
            for step in ("start", "finish"):  # free the window for its next turn (not timed)
                await c.post(f"/api/halls/{HALL}/windows/{window}/{step}", {})
            # let those two events reach every screen first, so that each call is timed alone
            await asyncio.sleep(0.3)
    finally:
        await c.close()
    for proto in conns:
        proto.close()
    latencies.sort()
    return {
        "clients": clients,
        "calls": calls,
        "call_to_last_screen_ms": {
            "p50": round(statistics.median(latencies), 1),
            "p99": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 1),
            "max": round(latencies[-1], 1),
        },
        "goal_p99_ms": 100,
        "memory_per_idle_client_kb": round(per_client_kb, 1),
        "goal_memory_kb": 40,
    }


def seed_waiting(db: Database, n: int, start: int) -> None:
    """Add `n` waiting tickets straight into the table (seeding is not what is measured)."""
    from sqlalchemy import insert

    from hall.store.models import TicketRow

    hid = hall_id_of(db)
    now = time.time() - 3600
    day = hall_day(time.time(), "Asia/Shanghai").isoformat()  # an earlier day would be closed at start
    rows = [
        {"hall_id": hid, "day": day, "number": f"S{start + i:05d}", "category": "A", "priority": "normal",
         "queue_class": "normal", "channel": "kiosk", "status": "waiting", "queue_key": now + (start + i) * 0.01,
         "target_window": None, "window": None, "issued_at": now, "called_at": None, "finished_at": None,
         "progress_token": uuid.uuid4().hex, "extra": {"recalls": 0}}
        for i in range(n)
    ]
    with db.write() as conn:
        for k in range(0, len(rows), 2000):
            conn.execute(insert(TicketRow), rows[k : k + 2000])


async def call_times(base: str, token: str, samples: int) -> float:
    h = {"Authorization": f"Bearer {token}"}
    times = []
    async with httpx.AsyncClient(base_url=base, headers=h, timeout=30) as c:
        for i in range(samples):
            window = 1 + i % WINDOWS
            t0 = time.perf_counter()
            r = await c.post(f"/api/halls/{HALL}/windows/{window}/call", json={})
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200 and r.json()["ticket"], r.text
            for step in ("start", "finish"):
                await c.post(f"/api/halls/{HALL}/windows/{window}/{step}", json={})
    return statistics.median(times)


def measure_call_scaling(url: str, data: str, samples: int) -> dict[str, Any]:
    db, token = prepare(url)
    seed_waiting(db, 100 + samples, 0)
    server = Server(server_env(url, data))
    try:
        asyncio.run(call_times(server.url, token, 10))  # warm up
        at_100 = asyncio.run(call_times(server.url, token, samples))
        seed_waiting(db, 10_000, 100_000)
        at_10k = asyncio.run(call_times(server.url, token, samples))
    finally:
        server.stop()
        db.dispose()
    return {"call_ms_at_100_waiting": round(at_100, 2), "call_ms_at_10000_waiting": round(at_10k, 2),
            "ratio": round(at_10k / at_100, 2), "goal_ratio_max": 2.0}


# --- main ------------------------------------------------------------------------------------


def pg_schema(base: str) -> tuple[str, str, str]:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    plain = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", f"{plain}{'&' if '?' in plain else '?'}options=-csearch_path%3D{schema}", schema


def drop_schema(base: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as c:
        c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--postgres", default=os.environ.get("HALL_TEST_POSTGRES_URL", ""))
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--samples", type=int, default=40)
    ap.add_argument("--only-a", action="store_true", help="run part (a) only")
    args = ap.parse_args()
    out: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load_avg": os.getloadavg()},
    }
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_file = f"{tmp}/a.db"
        out["a_cycles_sqlite"] = measure_cycles(f"sqlite:///{sqlite_file}", tmp, args.seconds, "sqlite", sqlite_file)
        if args.postgres:
            url, dsn, schema = pg_schema(args.postgres)
            try:
                out["a_cycles_postgres"] = measure_cycles(url, tmp, args.seconds, "postgres", dsn)
            finally:
                drop_schema(args.postgres, schema)
        else:
            out["a_cycles_postgres"] = None
        if args.only_a:
            print(json.dumps(out, indent=1, ensure_ascii=False))
            return
        url = f"sqlite:///{tmp}/b.db"
        db, token = prepare(url)
        db.dispose()
        server = Server(server_env(url, tmp))
        try:
            out["b_c_screens_sqlite"] = asyncio.run(screens(server.url, token, args.clients, args.calls, server))
        finally:
            server.stop()
        out["d_call_scaling_sqlite"] = measure_call_scaling(f"sqlite:///{tmp}/d.db", tmp, args.samples)
        if args.postgres:
            url, _dsn, schema = pg_schema(args.postgres)
            try:
                out["d_call_scaling_postgres"] = measure_call_scaling(url, tmp, args.samples)
            finally:
                drop_schema(args.postgres, schema)
    out["load_avg_after"] = os.getloadavg()
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
