"""Fan-out that costs per event, not per screen (issue 14): under `hall serve`'s websocket
protocol every caught-up client takes frames written straight to its connection — one JSON text
and one frame per audience per event, no queue put or task wake per client — in seq order, and
a client whose connection backs up is still dropped."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from websockets.asyncio.client import connect

from hall.app import create_app
from hall.http.wsfanout import FanoutProtocol
from hall.realtime import hub as hub_module
from hall.realtime.hub import Client
from hall.security.accounts import add_device
from hall.settings import load_settings
from hall.store.database import Database

from .conftest import make_env


class _InThread:
    """uvicorn with hall's websocket protocol in a thread of this process (port 0)."""

    def __init__(self, app: Any) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, ws=FanoutProtocol, ws_per_message_deflate=False,
                           log_level="warning", lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "server did not start"
            time.sleep(0.05)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"127.0.0.1:{port}"

    def __exit__(self, *_: Any) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def test_screens_get_frames_written_directly_in_seq_order(tmp_path: Path, layout_file: Path, monkeypatch) -> None:
    frames_made: list[int] = []
    real_frame = hub_module.text_frame
    monkeypatch.setattr(hub_module, "text_frame", lambda text: frames_made.append(1) or real_frame(text))
    url = f"sqlite:///{tmp_path / 'fan.db'}"
    # Every issue as its own frame here (test_count_coalescing.py covers the coalesced counts).
    app = create_app(load_settings(make_env(url, tmp_path, layout_file, HALL_WS_COALESCE_MS="0")), poll_interval=0.2)
    screens = 30
    with _InThread(app) as addr:
        db = Database(url)
        with db.write() as conn:
            token = add_device(conn, "bridge", "tiny")[1]
        db.dispose()
        head = {"Authorization": f"Bearer {token}"}

        async def main() -> list[list[dict[str, Any]]]:
            conns = [await connect(f"ws://{addr}/ws/halls/tiny") for _ in range(screens)]
            firsts = [json.loads(await c.recv()) for c in conns]
            assert {f["type"] for f in firsts} == {"snapshot"}
            hub = app.state.hall.hub
            clients = [c for s in hub._streams.values() for c in s.clients]
            assert len(clients) == screens and all(c.sink is not None for c in clients)
            frames_made.clear()
            async with httpx.AsyncClient(base_url=f"http://{addr}", headers=head) as http:
                for _ in range(5):
                    assert (await http.post("/api/halls/tiny/tickets", json={"category": "A"})).status_code == 201
                assert (await http.post("/api/halls/tiny/windows/1/call", json={})).status_code == 200
            got = []
            for c in conns:
                envs = [json.loads(await asyncio.wait_for(c.recv(), 10)) for _ in range(6)]
                got.append(envs)
                await c.close()
            assert all(not c.queue.qsize() for c in clients)  # nothing went through the queues
            return got

        got = asyncio.run(main())
    first_seq = got[0][0]["seq"]
    for envs in got:
        assert [e["seq"] for e in envs] == list(range(first_seq, first_seq + 6))
        assert [e["type"] for e in envs] == ["ticket.issued"] * 5 + ["ticket.called"]
        assert "progress_url" not in envs[0]["data"]  # the public audience's data
    # One frame per event for all 30 screens (the public audience), not one per screen.
    assert len(frames_made) == 6


class _Backed:
    def __init__(self, buffered: int) -> None:
        self.written: list[bytes] = []
        self._buffered = buffered

    def write(self, frame: bytes) -> bool:
        self.written.append(frame)
        return True

    def buffered(self) -> int:
        return self._buffered


def test_a_backed_up_connection_is_dropped_and_a_free_one_written() -> None:
    dropped: list[str] = []
    slow, fast = _Backed(buffered=300_000), _Backed(buffered=0)
    a = Client("tiny", "public", asyncio.Queue(maxsize=4), lambda: dropped.append("slow"))
    b = Client("tiny", "public", asyncio.Queue(maxsize=4), lambda: dropped.append("fast"))
    b.queue.put_nowait((3, "old"))  # already in the catch-up
    b.queue.put_nowait((4, "new"))
    a.go_direct(slow, 256 * 1024, 0)
    b.go_direct(fast, 256 * 1024, 3)
    for c in (a, b):
        c.offer(5, "x", b"frame")
        c.offer(6, "y", b"frame")
    assert dropped == ["slow"] and a.dropped and slow.written == []
    assert fast.written == [hub_module.text_frame("new"), b"frame", b"frame"] and b.queue.empty()
