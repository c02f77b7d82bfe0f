"""Hall server speed, measured from outside against a real `uvicorn` process on 127.0.0.1, each
figure beside its baseline in the same run (interleaved blocks, so load drift from the other
users of this machine hits both alike). Prints JSON with issue 14's goals beside the figures
and the load average at start and end.

- `cycle_ratio` (SQLite, PostgreSQL): full ticket cycles per second (issue + call + start +
  finish, 4 HTTP requests, 8 windows at once) over the same SQL statements run straight through
  the driver (sqlite3 / psycopg, one connection, same durability), in alternating blocks
  (server, baseline, baseline, server, …); with CPU time per cycle of the server process and of
  the baseline process (PostgreSQL's own backends are in neither).
- `one_hall_issue` (PostgreSQL): one hall's issue throughput through the server (8 kiosks at
  once) over the issue statements through bare psycopg, interleaved likewise.
- `under_load` (SQLite): call → last screen latency with N public screens connected, p50 / p99
  over at least 150 calls: idle and while 20 tickets/s are issued (interleaved in blocks of 25
  calls), then with 3,000 screens; RSS per idle screen. The screens run in this process, the
  server in its own.
- `call_cost_ratio_100k_vs_100` (PostgreSQL, and SQLite): one call's time in a hall with 100
  waiting over one with 100,000 bulk-loaded into the running server's database just before (no
  ANALYZE), the two halls called in alternating blocks.
- `issue_cost_ratio_100k_vs_100`: from benchmarks/issue_cost.py (`--issue-cost` runs it here).

    .venv/bin/python benchmarks/server.py [--postgres URL] [--seconds 12] [--blocks 6]
        [--screens 1000] [--many-screens 3000] [--samples 150] [--only-a] [--issue-cost]

PostgreSQL runs use schemas of their own (dropped afterwards); without --postgres (or
HALL_TEST_POSTGRES_URL) the PostgreSQL figures are null. The server runs with hall's websocket
protocol (`--ws hall.http.wsfanout:FanoutProtocol`, as `hall serve` does; HALL_BENCH_WS overrides).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hall.core.halls import import_layout  # noqa: E402
from hall.http.wsfanout import PROTOCOL as FANOUT_PROTOCOL  # noqa: E402
from hall.security.accounts import add_device  # noqa: E402
from hall.settings import DEFAULT_SQLITE_SYNCHRONOUS  # noqa: E402
from hall.store.database import Database  # noqa: E402
from hall.store.migrate import upgrade  # noqa: E402
from queueing.layout import parse_layout  # noqa: E402
from queueing.numbering import hall_day  # noqa: E402

HALL = "bench"
WINDOWS = 20
TICK = os.sysconf("SC_CLK_TCK")


def layout(code: str = HALL) -> dict[str, Any]:
    return {
        "hall": {"code": code, "name": "基准测试大厅", "timezone": "Asia/Shanghai"},
        "zones": [{"code": "z", "name": "综合"}],
        "categories": [{"code": "A", "name": "综合业务", "zone": "z", "service_minutes": 10}],
        "windows": [{"number": n, "name": f"{n}号窗口", "serves": ["A"]} for n in range(1, WINDOWS + 1)],
    }


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def p99(values: list[float]) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(0.99 * len(v)))]


# --- a server process ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, env: dict[str, str], port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [
            sys.executable, "-m", "uvicorn", "hall.app:create_app", "--factory", "--host", "127.0.0.1",
            "--port", str(self.port), "--ws-per-message-deflate", "false", "--log-level", "warning",
            "--no-access-log", "--backlog", "4096", "--ws", os.environ.get("HALL_BENCH_WS", FANOUT_PROTOCOL),
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

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def prepare(url: str, codes: tuple[str, ...] = (HALL,)) -> tuple[Database, dict[str, str]]:
    db = Database(url)
    upgrade(db)
    tokens = {}
    with db.write() as conn:
        for code in codes:
            import_layout(conn, parse_layout(layout(code)), matters=[], now=time.time())
            tokens[code] = add_device(conn, "bridge", code)[1]
    return db, tokens


def server_env(url: str, data: str) -> dict[str, str]:
    return {
        "HALL_DATABASE_URL": url, "HALL_DATA_DIR": data, "HALL_SECRET_KEY": "bench", "HALL_CLOSE_DAY_AT": "",
        "HALL_ISSUE_RATE": "100000000", "HALL_WS_QUEUE": "10000", "HALL_REDIS_URL": "", "HALL_OPS_INTERVAL": "3600",
    }


def hall_id_of(db: Database, code: str = HALL) -> int:
    from sqlalchemy import select

    from hall.store.models import Hall

    with db.read() as conn:
        return int(conn.execute(select(Hall.id).where(Hall.code == code)).scalar_one())


# --- load through the server -----------------------------------------------------------------


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


async def cycles_through_server(port: int, token: str, seconds: float, windows: int = 8) -> int:
    """Full cycles by `windows` concurrent window loops for `seconds`; the number done."""
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

    await asyncio.gather(*(window(w) for w in range(1, windows + 1)))
    return done


async def issues_through_server(port: int, token: str, seconds: float, kiosks: int = 8) -> int:
    done = 0
    stop_at = time.perf_counter() + seconds

    async def kiosk() -> None:
        nonlocal done
        c = RawHttp(port, token)
        try:
            while time.perf_counter() < stop_at:
                status, body = await c.post(f"/api/halls/{HALL}/tickets", {"category": "A"})
                assert status == 201, body
                done += 1
        finally:
            await c.close()

    await asyncio.gather(*(kiosk() for _ in range(kiosks)))
    return done


# --- the baseline: the server's statements straight through the driver ----------------------


class Baseline:
    """The statements the server runs per request (see the trace in the README's benchmark
    section), through sqlite3 or psycopg on one connection, committing like the server."""

    def __init__(self, driver: str, dsn: str, hall_id: int) -> None:
        self.hall_id = hall_id
        if driver == "sqlite":
            self.conn: Any = sqlite3.connect(dsn, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute(f"PRAGMA synchronous={DEFAULT_SQLITE_SYNCHRONOUS}")  # the server's own setting
            self.conn.execute("PRAGMA busy_timeout=30000")
            self.p = "?"
            self.begin: Callable[[], None] = lambda: self.conn.execute("BEGIN IMMEDIATE") and None
        else:
            import psycopg

            self.conn = psycopg.connect(dsn)
            self.p = "%s"
            self.begin = lambda: None
        self.day = hall_day(time.time(), "Asia/Shanghai").isoformat()
        cols = "id, number, category, queue_class, queue_key, target_window, extra"
        self.heads = " UNION ALL ".join(
            f"SELECT * FROM (SELECT {cols} FROM tickets WHERE hall_id = ? AND status = 'waiting' AND category = 'A' "
            f"AND queue_class = '{k}' AND target_window IS NULL ORDER BY queue_key, id LIMIT 1) AS h{i}"
            for i, k in enumerate(("appointment", "priority", "normal"))
        ) + (f" UNION ALL SELECT * FROM (SELECT {cols} FROM tickets WHERE hall_id = ? AND status = 'waiting' "
             "AND target_window = 1 ORDER BY queue_key, id LIMIT 1) AS hw")

    def q(self, sql: str, *args: Any) -> Any:
        return self.conn.execute(sql.replace("?", self.p), args)

    def _lock(self) -> int:
        return int(self.q("UPDATE hall_counters SET seq = seq WHERE hall_id = ? RETURNING seq", self.hall_id).fetchone()[0])

    def _event(self, seq: int, type_: str, ticket: int, data: str) -> None:
        self.q("INSERT INTO events (hall_id, seq, type, at, ticket_id, \"window\", user_id, device_id, data) "
               "VALUES (?, ?, ?, ?, ?, 1, NULL, NULL, ?)", self.hall_id, seq, type_, time.time(), ticket, data)
        self.q("UPDATE hall_counters SET seq = ? WHERE hall_id = ?", seq, self.hall_id)

    def issue(self) -> None:
        h = self.hall_id
        self.begin()
        seq = self._lock()
        num = self.q("UPDATE number_counters SET last = last + 1 WHERE hall_id = ? AND day = ? AND prefix = 'B' "
                     "RETURNING last", h, self.day).fetchone()
        if num is None:
            self.q("INSERT INTO number_counters (hall_id, day, prefix, last) VALUES (?, ?, 'B', 1)", h, self.day)
            num = (1,)
        now = time.time()
        tid = self.q(
            "INSERT INTO tickets (hall_id, day, number, category, priority, queue_class, channel, status, queue_key, "
            "target_window, \"window\", issued_at, called_at, finished_at, progress_token, person_hash, person_enc, "
            "phone_hash, phone_enc, device_id, extra, wait_origin) VALUES (?, ?, ?, 'A', 'normal', 'normal', 'kiosk', "
            "'waiting', ?, NULL, NULL, ?, NULL, NULL, ?, NULL, NULL, NULL, NULL, 1, ?, ?) RETURNING id",
            h, self.day, f"B{num[0]:03d}", now, now, uuid.uuid4().hex, '{"wait_started_at": 1}', now).fetchone()[0]
        self.q("UPDATE waiting_counts SET n = n + 1 WHERE hall_id = ? AND category = 'A' AND queue_class = 'normal'", h)
        self.q("SELECT coalesce(sum(n), 0) FROM waiting_counts WHERE hall_id = ? AND category = 'A'", h).fetchone()
        self.q("SELECT (SELECT coalesce(sum(n), 0) FROM waiting_counts WHERE hall_id = ? AND category IN ('A')) - "
               "(SELECT count(*) FROM tickets WHERE hall_id = ? AND status = 'waiting' AND category IN ('A') AND "
               "queue_class IN ('normal', 'priority', 'appointment') AND queue_key >= ? AND (queue_key > ? OR id > ?))",
               h, h, now, now, tid).fetchone()
        self.q("SELECT number, current_ticket_id FROM windows WHERE hall_id = ? AND active = ? AND paused = ? "
               "AND staff_user_id IS NOT NULL", h, True, False).fetchall()
        self._event(seq + 1, "ticket.issued", tid, '{"id": 1, "number": "B001", "category": "A", "waiting": 1}')
        self.conn.commit()

    def cycle(self) -> None:
        h = self.hall_id
        self.issue()
        self.begin()
        seq = self._lock()
        win = self.q("SELECT id, current_ticket_id FROM windows WHERE hall_id = ? AND number = 1", h).fetchone()
        head = self.q(self.heads, h, h, h, h).fetchall()
        pick = min(head, key=lambda r: (r[4], r[0]))[0]
        self.q("SELECT * FROM tickets WHERE id = ? AND status = 'waiting'", pick).fetchone()
        self.q("UPDATE tickets SET status = 'called', \"window\" = 1, called_at = ?, extra = ? WHERE id = ? "
               "AND status = 'waiting'", time.time(), '{"recalls": 0}', pick)
        self.q("UPDATE waiting_counts SET n = n - 1 WHERE hall_id = ? AND category = 'A' AND queue_class = 'normal'", h)
        self.q("UPDATE windows SET current_ticket_id = ?, policy_state = ? WHERE id = ?", pick, '{"priority_streak": 0}', win[0])
        self._event(seq + 1, "ticket.called", pick, '{"id": 1, "number": "B001", "window": 1, "reason": {"rule": "queue_key"}}')
        self.conn.commit()
        for status, type_ in (("serving", "ticket.started"), ("finished", "ticket.finished")):
            self.begin()
            seq = self._lock()
            self.q("SELECT id, current_ticket_id FROM windows WHERE hall_id = ? AND number = 1", h).fetchone()
            self.q("SELECT * FROM tickets WHERE id = ? AND hall_id = ?", pick, h).fetchone()
            self.q("UPDATE tickets SET status = ?, extra = ? WHERE id = ? AND status <> ?", status, '{"recalls": 0}', pick, status)
            if status == "finished":
                self.q("UPDATE windows SET current_ticket_id = NULL, last_finished_ticket_id = ? WHERE id = ?", pick, win[0])
                row = self.q("SELECT samples FROM recent_service WHERE hall_id = ? AND category = 'A'", h).fetchone()
                if row is not None:
                    self.q("UPDATE recent_service SET samples = ? WHERE hall_id = ? AND category = 'A'",
                           row[0] if isinstance(row[0], str) else json.dumps(row[0]), h)
            self._event(seq + 1, type_, pick, '{"id": 1, "number": "B001", "window": 1}')
            self.conn.commit()

    def run(self, what: Callable[[], None], seconds: float) -> int:
        n = 0
        stop_at = time.perf_counter() + seconds
        while time.perf_counter() < stop_at:
            what()
            n += 1
        return n

    def close(self) -> None:
        self.conn.close()


def interleaved(
    server: Server, blocks: int, seconds: float,
    through_server: Callable[[float], int], baseline: Callable[[float], int],
) -> dict[str, Any]:
    """Alternating blocks (S B B S S B …) of `seconds` each; totals, per-block ratios, CPU."""
    s_n = b_n = 0
    s_t = b_t = s_cpu = b_cpu = 0.0
    ratios = []
    for i in range(blocks):
        order = ("s", "b") if i % 2 == 0 else ("b", "s")
        rate = {}
        for which in order:
            t0, c0 = time.perf_counter(), (server.cpu_s() if which == "s" else time.process_time())
            n = through_server(seconds) if which == "s" else baseline(seconds)
            dt = time.perf_counter() - t0
            dc = (server.cpu_s() if which == "s" else time.process_time()) - c0
            rate[which] = n / dt
            if which == "s":
                s_n, s_t, s_cpu = s_n + n, s_t + dt, s_cpu + dc
            else:
                b_n, b_t, b_cpu = b_n + n, b_t + dt, b_cpu + dc
        ratios.append(round(rate["s"] / rate["b"], 3))
    return {
        "server_per_s": round(s_n / s_t, 1), "direct_sql_per_s": round(b_n / b_t, 1),
        "ratio": round((s_n / s_t) / (b_n / b_t), 3), "block_ratios": ratios,
        "server_cpu_ms_per_op": round(1000 * s_cpu / max(s_n, 1), 2),
        "direct_sql_cpu_ms_per_op": round(1000 * b_cpu / max(b_n, 1), 2),
        "blocks": blocks, "block_seconds": seconds,
    }


def measure_cycles(url: str, data: str, seconds: float, blocks: int, driver: str, dsn: str, issue_only: bool = False) -> dict[str, Any]:
    db, tokens = prepare(url)
    token = tokens[HALL]
    server = Server(server_env(url, data))
    base = Baseline(driver, dsn, hall_id_of(db))
    load0 = load()
    try:
        asyncio.run(cycles_through_server(server.port, token, 1.0))  # warm up (and the waiting-count rows)
        base.run(base.cycle, 0.5)
        if issue_only:
            out = interleaved(server, blocks, seconds / blocks,
                              lambda s: asyncio.run(issues_through_server(server.port, token, s)),
                              lambda s: base.run(base.issue, s))
        else:
            out = interleaved(server, blocks, seconds / blocks,
                              lambda s: asyncio.run(cycles_through_server(server.port, token, s)),
                              lambda s: base.run(base.cycle, s))
    finally:
        server.stop()
        base.close()
        db.dispose()
    return {**out, "load_avg": [load0, load()]}


# --- under load: screens ---------------------------------------------------------------------


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


async def _connect_screens(server: Server, n: int, on_call: Any) -> list[ScreenClient]:
    loop = asyncio.get_running_loop()
    conns: list[ScreenClient] = []
    for i in range(n):
        _, proto = await loop.create_connection(
            lambda: ScreenClient(f"/ws/halls/{HALL}", server.port, on_call), "127.0.0.1", server.port
        )
        await asyncio.wait_for(proto.open, 30)
        conns.append(proto)
        if i % 100 == 99:
            await asyncio.sleep(0.05)
    await asyncio.sleep(1.5)
    return conns


async def _issuing(port: int, token: str, per_s: float, stop: asyncio.Event) -> int:
    c = RawHttp(port, token)
    n = 0
    t0 = time.perf_counter()
    try:
        while not stop.is_set():
            status, body = await c.post(f"/api/halls/{HALL}/tickets", {"category": "A"})
            assert status == 201, body
            n += 1
            await asyncio.sleep(max(0.0, t0 + n / per_s - time.perf_counter()))
    finally:
        await c.close()
    return n


async def screens(server: Server, token: str, clients: int, samples: int, loaded_rate: float, with_load: bool) -> dict[str, Any]:
    """Idle (and, with `with_load`, loaded) call → last screen latency with `clients` screens."""
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        for _ in range(2 * samples + 10):
            assert (await c.post(f"/api/halls/{HALL}/tickets", json={"category": "A"})).status_code == 201
    rss0 = server.rss_kb()
    arrivals: dict[int, list[float]] = {}
    complete: dict[int, asyncio.Event] = {}

    def on_call(ticket: int, at: float) -> None:
        got = arrivals.setdefault(ticket, [])
        got.append(at)
        if len(got) == clients:
            complete.setdefault(ticket, asyncio.Event()).set()

    conns = await _connect_screens(server, clients, on_call)
    per_client_kb = (server.rss_kb() - rss0) / clients
    # This process's own collector must not pause the screens' reads (that would be counted as
    # the server's latency): what the connections built is frozen, and young collections only.
    gc.collect()
    gc.freeze()
    gc_before = server_gc(server)
    lat: dict[str, list[float]] = {"idle": [], "loaded": []}
    c = RawHttp(server.port, token)
    issued = 0
    i = 0
    try:
        modes = ("idle", "loaded") if with_load else ("idle",)
        while any(len(lat[m]) < samples for m in modes):
            for mode in modes:  # blocks of 25 calls each, alternating
                stop = asyncio.Event()
                feeder = asyncio.ensure_future(_issuing(server.port, token, loaded_rate, stop)) if mode == "loaded" else None
                await asyncio.sleep(0.2 if feeder else 0)
                for _ in range(25):
                    window = 1 + i % WINDOWS
                    i += 1
                    t0 = time.perf_counter()
                    status, body = await c.post(f"/api/halls/{HALL}/windows/{window}/call", {})
                    assert status == 200 and body["ticket"], body
                    ticket = body["ticket"]["id"]
                    await asyncio.wait_for(complete.setdefault(ticket, asyncio.Event()).wait(), 60)
                    lat[mode].append((max(arrivals[ticket]) - t0) * 1000)
                    for step in ("start", "finish"):  # free the window for its next turn (not timed)
                        await c.post(f"/api/halls/{HALL}/windows/{window}/{step}", {})
                    await asyncio.sleep(0.05 if feeder else 0.15)
                if feeder is not None:
                    stop.set()
                    issued += await feeder
    finally:
        await c.close()
    gc_during = {g: [a - b for a, b in zip(v, gc_before.get(g, [0, 0, 0]), strict=True)] for g, v in server_gc(server).items()}
    for proto in conns:
        proto.close()
    await asyncio.sleep(1.0)
    gc.unfreeze()

    def summary(v: list[float]) -> dict[str, Any] | None:
        return {"p50": round(statistics.median(v), 1), "p99": round(p99(v), 1), "max": round(max(v), 1), "samples": len(v)} if v else None

    return {"clients": clients, "idle_ms": summary(lat["idle"]), "loaded_ms": summary(lat["loaded"]),
            "issued_while_loaded": issued, "memory_per_idle_client_kb": round(per_client_kb, 1),
            "server_gc_while_sampling": {g: {"collections": int(n), "seconds": round(t, 3), "over_50ms": int(o)}
                                         for g, (n, t, o) in gc_during.items()}}


def server_gc(server: Server) -> dict[str, list[float]]:
    """The server's collections so far per generation (from /metrics): count, seconds, and how
    many took longer than 50 ms."""
    out: dict[str, list[float]] = {}
    for line in httpx.get(f"{server.url}/metrics", timeout=10).text.splitlines():
        if not line.startswith("hall_gc_pause_seconds"):
            continue
        name, value = line.rsplit(" ", 1)
        gen = name.split('generation="')[1].split('"')[0]
        v = out.setdefault(gen, [0.0, 0.0, 0.0])
        if name.startswith("hall_gc_pause_seconds_count"):
            v[0] = float(value)
        elif name.startswith("hall_gc_pause_seconds_sum"):
            v[1] = float(value)
        elif 'le="0.05"' in name:
            v[2] = -float(value)  # below 50 ms; count - this = over 50 ms
    return {g: [n, t, n + below] for g, (n, t, below) in out.items()}


def measure_screens(tmp: str, clients: int, many: int, samples: int) -> dict[str, Any]:
    url = f"sqlite:///{tmp}/screens.db"
    db, tokens = prepare(url)
    db.dispose()
    server = Server(server_env(url, tmp))
    load0 = load()
    try:
        one = asyncio.run(screens(server, tokens[HALL], clients, samples, 20.0, with_load=True))
        many_out = asyncio.run(screens(server, tokens[HALL], many, samples, 20.0, with_load=False)) if many else None
    finally:
        server.stop()
    idle, loaded = one["idle_ms"], one["loaded_ms"]
    return {
        f"screens_{clients}": one,
        f"screens_{many}": many_out,
        "goals": {
            "idle_p99_ms<=70": idle["p99"] <= 70,
            "loaded_20_per_s_p99_ms<=100": loaded["p99"] <= 100,
            "3000_screens_p99_ms<=250": (many_out["idle_ms"]["p99"] <= 250) if many_out else None,
            "kb_per_idle_screen<=35": one["memory_per_idle_client_kb"] <= 35,
        },
        "load_avg": [load0, load()],
    }


# --- call cost at 100 and 100,000 waiting, straight after a bulk load ------------------------


def seed_waiting(db: Database, code: str, n: int) -> None:
    """`n` waiting tickets straight into the table, with the waiting count the server keeps."""
    from sqlalchemy import insert, text

    from hall.store.models import TicketRow

    hid = hall_id_of(db, code)
    now = time.time() - 3600
    day = hall_day(time.time(), "Asia/Shanghai").isoformat()  # an earlier day would be closed at start
    with db.write() as conn:
        for k in range(0, n, 5000):
            conn.execute(insert(TicketRow), [
                {"hall_id": hid, "day": day, "number": f"S{i:06d}", "category": "A", "priority": "normal",
                 "queue_class": "normal", "channel": "kiosk", "status": "waiting", "queue_key": now + i * 0.01,
                 "target_window": None, "window": None, "issued_at": now, "called_at": None, "finished_at": None,
                 "wait_origin": now, "progress_token": uuid.uuid4().hex, "extra": {"recalls": 0},
                 "phone_hash": f"p{i}" if i % 4 == 0 else None}
                for i in range(k, min(n, k + 5000))
            ])
        bumped = conn.execute(text("UPDATE waiting_counts SET n = n + :n WHERE hall_id = :h AND category = 'A' "
                                   "AND queue_class = 'normal'"), {"n": n, "h": hid})
        if not bumped.rowcount:
            conn.execute(text("INSERT INTO waiting_counts (hall_id, category, queue_class, n) VALUES (:h, 'A', 'normal', :n)"),
                         {"n": n, "h": hid})


async def _call_times(base: str, code: str, token: str, samples: int, first_window: int) -> list[float]:
    times = []
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        for i in range(samples):
            window = first_window + i % 10
            t0 = time.perf_counter()
            r = await c.post(f"/api/halls/{code}/windows/{window}/call", json={})
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200 and r.json()["ticket"], r.text
            for step in ("start", "finish"):
                await c.post(f"/api/halls/{code}/windows/{window}/{step}", json={})
    return times


def measure_call_cost(url: str, data: str, blocks: int, per_block: int) -> dict[str, Any]:
    db, tokens = prepare(url, ("small", "big"))
    server = Server(server_env(url, data))  # starts (and ANALYZEs) with two empty halls
    load0 = load()
    try:
        seed_waiting(db, "small", 100 + blocks * per_block + 20)
        asyncio.run(_call_times(server.url, "small", tokens["small"], 10, 1))  # warm up
        seed_waiting(db, "big", 100_000)  # the bulk load; no ANALYZE follows
        times: dict[str, list[float]] = {"small": [], "big": []}
        for b in range(blocks):
            for code in (("small", "big") if b % 2 == 0 else ("big", "small")):
                times[code] += asyncio.run(_call_times(server.url, code, tokens[code], per_block, 1 + 10 * (b % 2)))
    finally:
        server.stop()
        db.dispose()
    small, big = statistics.median(times["small"]), statistics.median(times["big"])
    return {"call_ms_at_100_waiting": round(small, 2), "call_ms_at_100000_waiting": round(big, 2),
            "ratio": round(big / small, 2), "goal_ratio_max": 2.0, "samples_each": blocks * per_block,
            "load_avg": [load0, load()]}


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
    ap.add_argument("--seconds", type=float, default=12.0, help="per figure, server and baseline each")
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--screens", type=int, default=1000)
    ap.add_argument("--many-screens", type=int, default=3000, help="0 to skip")
    ap.add_argument("--samples", type=int, default=150, help="calls per latency figure (p99 needs >= 150)")
    ap.add_argument("--only-a", action="store_true", help="cycle_ratio only")
    ap.add_argument("--parts", default="cycles,issue,screens,cost", help="which figures, comma-separated")
    ap.add_argument("--issue-cost", action="store_true", help="also run benchmarks/issue_cost.py's measurement")
    args = ap.parse_args()
    out: dict[str, Any] = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load_avg": load()}}
    pg = args.postgres
    parts = {"cycles"} if args.only_a else set(args.parts.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        if "cycles" in parts:
            out["cycle_ratio"] = cycle_ratio(tmp, pg, args.seconds, args.blocks)
        if "issue" in parts and pg:
            url, dsn, schema = pg_schema(pg)
            try:
                out["one_hall_issue"] = {**measure_cycles(url, tmp, args.seconds, args.blocks, "postgres", dsn, issue_only=True),
                                         "goal_min": 0.7}
            finally:
                drop_schema(pg, schema)
        if "screens" in parts:
            out["under_load"] = measure_screens(tmp, args.screens, args.many_screens, args.samples)
        if "cost" in parts:
            out["call_cost_ratio_100k_vs_100"] = call_cost(tmp, pg)
    if args.issue_cost:
        import issue_cost

        with tempfile.TemporaryDirectory() as tmp:
            out["issue_cost_ratio_100k_vs_100"] = {
                "sqlite": issue_cost.run({n: f"sqlite:///{tmp}/cost{n}.db" for n in issue_cost.SIZES}, 4, 30, True),
                "goal_max": 1.5,
            }
    else:
        out["issue_cost_ratio_100k_vs_100"] = "see benchmarks/issue_cost.py (or --issue-cost)"
    out["load_avg_after"] = load()
    print(json.dumps(out, indent=1, ensure_ascii=False))


def cycle_ratio(tmp: str, pg: str, seconds: float, blocks: int) -> dict[str, Any]:
    sqlite_file = f"{tmp}/a.db"
    cyc: dict[str, Any] = {"goal_min": 0.5}
    cyc["sqlite"] = measure_cycles(f"sqlite:///{sqlite_file}", tmp, seconds, blocks, "sqlite", sqlite_file)
    cyc["postgres"] = None
    if pg:
        url, dsn, schema = pg_schema(pg)
        try:
            cyc["postgres"] = measure_cycles(url, tmp, seconds, blocks, "postgres", dsn)
        finally:
            drop_schema(pg, schema)
    return cyc


def call_cost(tmp: str, pg: str) -> dict[str, Any]:
    cost: dict[str, Any] = {"goal_max": 2.0}
    cost["sqlite"] = measure_call_cost(f"sqlite:///{tmp}/cost.db", tmp, 6, 10)
    cost["postgres"] = None
    if pg:
        url, _dsn, schema = pg_schema(pg)
        try:
            cost["postgres"] = measure_call_cost(url, tmp, 6, 10)
        finally:
            drop_schema(pg, schema)
    return cost


if __name__ == "__main__":
    main()
