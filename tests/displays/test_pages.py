"""Page routes of hall.http.pages on a bare Starlette app: shells, config, QR, audio, JSON views."""

from __future__ import annotations

import hashlib
import io
import json
import re
import wave
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from hall.core.registry import HallRegistry
from hall.edge.templates import Templates
from hall.http.pages import STATIC, page_routes
from hall.realtime.bus import MemoryBus
from hall.security.auth import TokenCache
from queueing.clock import FixedClock
from tests.displays.conftest import Hall
from tests.e2e.pages_harness import HALL

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _app(db: Any, now: float) -> Starlette:
    registry = HallRegistry(db)
    clock = FixedClock(now)

    class WithState(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            # The parts of what the real lifespan provides that page routes read.
            request.state.hall = SimpleNamespace(db=db, registry=registry, tokens=TokenCache(), clock=clock, bus=MemoryBus())
            return await call_next(request)

    return Starlette(routes=page_routes(Templates()), middleware=[Middleware(WithState)])


@pytest.fixture
async def client(hall: Hall) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(hall.db, hall.now))
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
        yield c


def _config(html: str) -> dict[str, Any]:
    m = re.search(r'<script id="page-config" type="application/json">(.*?)</script>', html, re.S)
    assert m, "page has no config"
    config = json.loads(m.group(1))
    # Every page carries the message catalogue for Hall.say; the rest is the page's own.
    assert config.pop("messages")["estimate_no_window"] == "暂无窗口办理"
    return config  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("path", "page", "script"),
    [
        (f"/kiosk/{HALL}?idle=45", "kiosk", "kiosk.js"),
        (f"/screen/{HALL}", "screen", "screen.js"),
        (f"/screen/{HALL}/windows/8", "window", "window_screen.js"),
        ("/staff", "staff", "staff.js"),
        (f"/pad/{HALL}/windows/1", "pad", "pad.js"),
        ("/t/tok-A001", "progress", "progress.js"),
        ("/progress/tok-A001", "progress", "progress.js"),
        (f"/manage/{HALL}", "manage", "manage.js"),
    ],
)
async def test_every_page_renders_a_zh_cn_shell(client: httpx.AsyncClient, path: str, page: str, script: str) -> None:
    r = await client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in r.text
    assert f'data-page="{page}"' in r.text
    digest = hashlib.sha256((STATIC / "js" / script).read_bytes()).hexdigest()[:10]
    assert f"/static/js/{script}?v={digest}" in r.text  # a new script is never served from cache


async def test_page_config_carries_what_the_scripts_need(client: httpx.AsyncClient) -> None:
    kiosk = _config((await client.get(f"/kiosk/{HALL}?idle=45&printer=bridge")).text)
    assert kiosk["hall"] == HALL and kiosk["idle_seconds"] == 45 and kiosk["printer"] == "bridge"
    assert kiosk["zones"] == {"service": "综合服务区", "police": "公安服务区"}
    clamped = _config((await client.get(f"/kiosk/{HALL}?idle=1&printer=lp0")).text)
    assert clamped["idle_seconds"] == 10 and clamped["printer"] == ""
    progress = _config((await client.get("/t/tok-A001")).text)
    assert progress == {"token": "tok-A001", "hall": HALL}
    window = _config((await client.get(f"/screen/{HALL}/windows/8")).text)
    assert window["hall"] == HALL and window["window"] == 8
    assert window["words"]["window_screen_closed"] == "未开放"  # from displays/messages
    screen = await client.get(f"/screen/{HALL}?zone=police")
    assert _config(screen.text)["zone"] == "police"
    assert "公安服务区" in screen.text  # the zone's name in the header


async def test_hostile_parameters_stay_data(client: httpx.AsyncClient) -> None:
    evil = "</script><script>alert(1)</script>"
    r = await client.get(f"/screen/{HALL}", params={"zone": evil})
    assert "<script>alert(1)" not in r.text
    assert _config(r.text)["zone"] == evil
    r = await client.get("/t/" + "%3Cimg%20src%3Dx%3E")
    assert "<img src=x>" not in r.text


async def test_qr_code_svg(client: httpx.AsyncClient) -> None:
    r = await client.get("/qr.svg", params={"data": "http://hall.test/t/abc"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
    assert r.text.lstrip().startswith("<?xml") and "<svg" in r.text
    assert (await client.get("/qr.svg")).status_code == 400
    assert (await client.get("/qr.svg", params={"data": "x" * 600})).status_code == 400


async def test_call_audio_for_a_called_ticket(client: httpx.AsyncClient, hall: Hall) -> None:
    console = await client.get(f"/api/halls/{HALL}/windows/1/console",
                               headers={"Authorization": f"Bearer {hall.staff}"})
    called = console.json()["current"]["id"]
    r = await client.get(f"/api/halls/{HALL}/calls/{called}/audio.wav?repeat=1")
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(r.content)) as w:
        seconds = w.getnframes() / w.getframerate()
    assert 3.0 < seconds < 8.0  # chime and one "请A004号到1号窗口办理"
    twice = await client.get(f"/api/halls/{HALL}/calls/{called}/audio.wav")
    assert len(twice.content) > len(r.content) * 1.5
    waiting = console.json()["waiting"][0]["id"]
    missing = await client.get(f"/api/halls/{HALL}/calls/{waiting}/audio.wav")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


async def test_console_and_summary_routes_answer_errors_as_json(client: httpx.AsyncClient, hall: Hall) -> None:
    r = await client.get(f"/api/halls/{HALL}/windows/1/console")
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    r = await client.get(f"/api/halls/{HALL}/windows/1/console", params={"token": hall.staff})
    assert r.status_code == 200 and r.json()["waiting_total"] == 3
    r = await client.get(f"/api/halls/{HALL}/live-summary", headers={"Authorization": f"Bearer {hall.staff}"})
    assert r.status_code == 403
    r = await client.get(f"/api/halls/{HALL}/live-summary", headers={"Authorization": f"Bearer {hall.manager}"})
    assert r.status_code == 200 and r.json()["longest_wait"]["number"] == "B001"
