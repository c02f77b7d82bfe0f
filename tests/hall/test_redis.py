"""Redis pub/sub between processes: an outage, local delivery meanwhile, resync afterwards."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from .procs import Server
from .tcpproxy import Proxy
from .test_multiprocess import prepare


def _recv_until(ws, pred, timeout=20.0):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        msg = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        seen.append(msg)
        if pred(msg):
            return msg, seen
    raise AssertionError(f"not received; saw {seen}")


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_redis_outage_then_resync_and_cross_process_delivery(pg_database_url, redis_url, tmp_path: Path):
    database_url = pg_database_url
    from websockets.sync.client import connect

    code = "outage"
    db, token = prepare(database_url, code)
    r = urlparse(redis_url)
    proxy = Proxy((r.hostname or "127.0.0.1", r.port or 6379)).start()
    proxied = f"redis://127.0.0.1:{proxy.port}{r.path or '/0'}"
    env = {
        "HALL_DATABASE_URL": database_url, "HALL_REDIS_URL": proxied, "HALL_SECRET_KEY": "k",
        "HALL_REDIS_PREFIX": f"test-{uuid.uuid4().hex[:8]}:", "HALL_DATA_DIR": str(tmp_path), "HALL_CLOSE_DAY_AT": "",
    }
    a = Server(env, tmp_path / "a.log").start()
    b = Server(env, tmp_path / "b.log").start()
    h = {"Authorization": f"Bearer {token}"}
    try:
        with connect(f"ws://127.0.0.1:{a.port}/ws/halls/{code}") as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "snapshot"
            # through B, seen on A: the bus works
            assert httpx.post(f"{b.url}/api/halls/{code}/tickets", json={"category": "A"}, headers=h).status_code == 201
            msg, _ = _recv_until(ws, lambda m: m.get("seq") == 1)
            assert msg["type"] == "ticket.issued"

            proxy.cut()
            # A's own writes still reach A's clients (published locally when Redis fails) …
            assert httpx.post(f"{a.url}/api/halls/{code}/tickets", json={"category": "A"}, headers=h, timeout=30).status_code == 201
            _recv_until(ws, lambda m: m.get("seq") == 2)
            # … and B's writes arrive through the table poller, in order
            assert httpx.post(f"{b.url}/api/halls/{code}/tickets", json={"category": "A"}, headers=h, timeout=30).status_code == 201
            _recv_until(ws, lambda m: m.get("seq") == 3)
            ready = httpx.get(f"{a.url}/readyz").json()
            assert ready["bus"] is False and ready["database"] is True

            proxy.restore()
            _, seen = _recv_until(ws, lambda m: m.get("type") == "hall.resync", timeout=30)
            assert all(m.get("seq", 0) <= 3 for m in seen)  # nothing twice, nothing out of order
            assert httpx.post(f"{b.url}/api/halls/{code}/windows/1/call", json={}, headers=h).status_code == 200
            msg, seen = _recv_until(ws, lambda m: m.get("type") == "ticket.called")
            assert msg["seq"] == 4
    finally:
        a.stop()
        b.stop()
        proxy.close()
        db.dispose()
