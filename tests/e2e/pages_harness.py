"""A real hall server in a subprocess for the browser tests of the pages.

The server runs under uvicorn on a fixed free port of 127.0.0.1 (tests/ports.py) with SQLite in
a temporary folder, so a test can stop and restart it (same port, same data) and watch the open
pages recover. Accounts and device tokens are created straight in the database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from hall.security.accounts import add_device, add_user
from hall.store.database import Database
from tests.ports import free_port

LAYOUT = """
[hall]
code = "demo"
name = "示例区政务服务中心"
timezone = "Asia/Shanghai"

[rules]
priority_ratio = 2
recalls_before_no_show = 2

[[zones]]
code = "service"
name = "综合服务区"

[[zones]]
code = "police"
name = "公安服务区"

[[categories]]
code = "A"
name = "综合业务"
zone = "service"
service_minutes = 10

[[categories]]
code = "B"
name = "社保医保"
zone = "service"
service_minutes = 8

[[categories]]
code = "F"
name = "户籍办理"
zone = "police"
service_minutes = 8

[[windows]]
number = 1
name = "综合窗口1"
kind = "comprehensive"
serves = ["A", "B"]

[[windows]]
number = 2
name = "综合窗口2"
kind = "comprehensive"
serves = ["A", "B"]

[[windows]]
number = 8
name = "户籍窗口"
kind = "zone"
zone = "police"
serves = ["F"]
"""

HALL = "demo"
PASSWORD = "Correct-Horse-9-Battery"


@dataclass
class PageServer:
    """One server process; ``start()``/``stop()`` may be called again on the same data."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    log_level: str = "warning"  # "info" writes uvicorn's access log to server.log
    layout: str = LAYOUT  # the hall's layout TOML (a test may give its own)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'hall.db'}"

    def start(self, timeout: float = 90.0) -> None:  # a loaded CI machine migrates slowly
        layout = self.data_dir / "layout.toml"
        layout.write_text(self.layout, encoding="utf-8")
        env = dict(os.environ)
        env.update(
            HALL_DATA_DIR=str(self.data_dir),
            HALL_LAYOUT=str(layout),
            HALL_DATABASE_URL=self.database_url,
            HALL_REDIS_URL="",
            HALL_CLOSE_DAY_AT="",
            HALL_ISSUE_RATE="600",
        )
        log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "hall.app:create_app",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", self.log_level],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[2],
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {(self.data_dir / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start in time")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    def setup_accounts(self) -> None:
        """Staff, manager and the device tokens the pages use (kept in ``tokens``)."""
        db = Database(self.database_url)
        try:
            with db.write() as conn:
                add_user(conn, "clerk", PASSWORD, role="staff", name="王小明", halls=[HALL])
                add_user(conn, "boss", PASSWORD, role="manager", name="李主任", halls=[HALL])
                for kind, window in (("kiosk", None), ("screen", None), ("pad", 1)):
                    _, token = add_device(conn, kind, HALL, window=window, name=f"{kind}{window or ''}")
                    self.tokens[kind] = token
        finally:
            db.dispose()

    def login(self, username: str) -> str:
        r = httpx.post(self.base + "/api/auth/login", json={"username": username, "password": PASSWORD})
        r.raise_for_status()
        return str(r.json()["token"])

    def api(self, method: str, path: str, token: str, json: object | None = None) -> httpx.Response:
        return httpx.request(method, self.base + path, json=json, timeout=10,
                             headers={"Authorization": f"Bearer {token}"})
