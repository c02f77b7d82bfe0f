"""The real hall server (hall.app.create_app) on uvicorn, in the test's event loop, on a port
that stays the same across stop/start, with SQLite in a temporary folder."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from hall.app import create_app
from hall.security.accounts import add_device
from hall.settings import load_settings
from hall.store.database import Database
from tests.ports import free_port


def layout_toml(windows: int) -> str:
    head = """
[hall]
code = "e2e"
name = "端到端测试政务服务中心"
timezone = "Asia/Shanghai"

[[zones]]
code = "service"
name = "综合服务区"

[[categories]]
code = "A"
name = "综合业务"
zone = "service"
service_minutes = 10
"""
    body = "".join(
        f'\n[[windows]]\nnumber = {n}\nname = "综合窗口{n}"\nkind = "comprehensive"\nserves = ["A"]\n'
        for n in range(1, windows + 1)
    )
    return head + body


class RealServer:
    """`await start()`/`stop()`; `tokens` holds a bridge token and a kiosk token (code kiosk-1)."""

    def __init__(self, tmp_path: Path, windows: int = 8) -> None:
        layout = tmp_path / "e2e.toml"
        layout.write_text(layout_toml(windows), encoding="utf-8")
        self.db_url = f"sqlite:///{tmp_path / 'hall.db'}"
        self.settings = load_settings({
            "HALL_DATABASE_URL": self.db_url,
            "HALL_DATA_DIR": str(tmp_path / "data"),
            "HALL_SECRET_KEY": "e2e-secret",
            "HALL_LAYOUT": str(layout),
            "HALL_CLOSE_DAY_AT": "",
            "HALL_ISSUE_RATE": "1000",
        })
        self.port = free_port()
        self.tokens: dict[str, str] = {}
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._clients: dict[str, httpx.AsyncClient] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = create_app(self.settings, poll_interval=0.2)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error", ws="websockets-sansio", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.02)
        if not self.tokens:
            db = Database(self.db_url)
            with db.write() as conn:
                self.tokens["bridge"] = add_device(conn, "bridge", "e2e", code="bridge-1")[1]
                self.tokens["kiosk"] = add_device(conn, "kiosk", "e2e", code="kiosk-1")[1]
            db.dispose()

    async def stop(self) -> None:
        for c in self._clients.values():
            await c.aclose()
        self._clients.clear()
        if self._server is None or self._task is None:
            return
        # A graceful stop: force_exit would abandon request tasks mid-flight, which Python then
        # reports as never-awaited coroutines when they are collected.
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._server = None

    def client(self, who: str = "bridge") -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers={"Authorization": f"Bearer {self.tokens[who]}"}, timeout=10)

    async def post(self, path: str, who: str = "bridge", json: Any = None) -> Any:
        if who not in self._clients:
            self._clients[who] = self.client(who)
        r = await self._clients[who].post(path, json=json or {})
        assert r.status_code < 300, f"{path}: {r.status_code} {r.text}"
        return r.json()

    async def events(self) -> list[dict[str, Any]]:
        """Every stored event of the hall, following the endpoint's pages."""
        out: list[dict[str, Any]] = []
        since = 0
        async with self.client() as c:
            while True:
                r = await c.get("/api/halls/e2e/events", params={"since": since})
                assert r.status_code == 200, r.text
                page = r.json()
                out += page["events"]
                if not page.get("more") or not page["events"]:
                    return out
                since = page["seq"]
