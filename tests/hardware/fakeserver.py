"""A small hall server that follows docs/CONTRACTS.md closely enough to test the bridge.

Starlette on uvicorn, port 0, in the test's event loop. It can be stopped and started again on
the same port (the bridge must ride that out), and can be told to lose the answer to the first
tries of requests (the work is done, the answer never arrives) to prove idempotency keys work.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

TOKEN = "bridge-secret"
CST = timezone(timedelta(hours=8))


@dataclass
class Ticket:
    id: int
    number: str
    category: str
    status: str = "waiting"
    window: str | None = None


@dataclass
class FakeHall:
    code: str = "h1"
    name: str = "测试区政务服务中心"
    windows: list[str] = field(default_factory=lambda: ["8"])
    tickets: dict[int, Ticket] = field(default_factory=dict)
    waiting: list[int] = field(default_factory=list)
    current: dict[str, int] = field(default_factory=dict)
    last_finished: dict[str, int] = field(default_factory=dict)
    paused: set[str] = field(default_factory=set)
    ratings: dict[int, int] = field(default_factory=dict)
    rating_posts: int = 0
    calls: int = 0
    heartbeats: list[list[dict[str, Any]]] = field(default_factory=list)
    idempotent: dict[str, tuple[int, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    lose_answers: int = 0  # how many next write answers to drop after doing the work
    next_number: int = 1
    clients: set[asyncio.Queue[dict[str, Any]]] = field(default_factory=set)

    def issue(self, category: str = "A", device: str | None = None) -> Ticket:
        tid = len(self.tickets) + 1
        t = Ticket(tid, f"{category}{self.next_number:03d}", category)
        self.next_number += 1
        self.tickets[tid] = t
        self.waiting.append(tid)
        data: dict[str, Any] = {"id": tid, "number": t.number, "category": category, "zone": "z", "queue_class": "normal", "waiting": len(self.waiting)}
        if device:
            data |= {"device": device, "progress_url": f"http://hall.test/p/tok{tid}"}
        self.publish("ticket.issued", data)
        return t

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        env = {"seq": len(self.events) + 1, "type": kind, "at": datetime.now(CST).isoformat(), "hall": self.code, "data": data}
        self.events.append(env)
        for q in list(self.clients):
            q.put_nowait(env)

    def _tdata(self, t: Ticket) -> dict[str, Any]:
        return {"id": t.id, "number": t.number, "category": t.category, "zone": "z", "window": t.window, "window_name": f"{t.window}号窗口", "recalls": 0}

    def finish_current(self, window: str) -> None:
        tid = self.current.pop(window, None)
        if tid is not None:
            t = self.tickets[tid]
            t.status = "finished"
            self.last_finished[window] = tid
            self.publish("ticket.finished", self._tdata(t))

    def call(self, window: str) -> Ticket | None:
        self.finish_current(window)
        if not self.waiting:
            return None
        t = self.tickets[self.waiting.pop(0)]
        t.status, t.window = "called", window
        self.current[window] = t.id
        self.calls += 1
        self.publish("ticket.called", self._tdata(t))
        return t

    def snapshot(self) -> dict[str, Any]:
        wins = []
        for w in self.windows:
            cur = self.tickets.get(self.current.get(w, -1))
            fin = self.tickets.get(self.last_finished.get(w, -1))
            state = "paused" if w in self.paused else ("called" if cur else "idle")
            wins.append({
                "number": int(w), "name": f"{w}号窗口", "kind": "comprehensive", "zone": "z", "state": state,
                "staff_name": None, "pause_reason": None,
                "current": {"id": cur.id, "number": cur.number, "category": cur.category, "status": cur.status, "called_at": None} if cur else None,
                "last_finished": {"id": fin.id, "number": fin.number} if fin else None,
            })
        return {"seq": len(self.events), "hall": {"code": self.code, "name": self.name}, "waiting": {"A": len(self.waiting)},
                "waiting_by_zone": {}, "categories": [{"code": "A", "name": "综合业务", "zone": "z"}], "windows": wins, "latest_calls": []}


def _error(status: int, code: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": code}, status_code=status)


class LostAnswer(Exception):
    pass


def build_app(hall: FakeHall) -> Starlette:
    async def write(request: Request, work: Any) -> Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return _error(401, "unauthorized")
        key = request.headers.get("idempotency-key")
        if key and key in hall.idempotent:
            status, body = hall.idempotent[key]
            return JSONResponse(body, status_code=status)
        status, body = work(await request.json() if await request.body() else {})
        if key:
            hall.idempotent[key] = (status, body)
        if hall.lose_answers > 0:
            hall.lose_answers -= 1
            return _error(503, "answer_lost")  # the work is done, the client hears a 5xx
        return JSONResponse(body, status_code=status)

    async def window_action(request: Request) -> Response:
        w, action = request.path_params["w"], request.path_params["action"]

        def work(body: dict[str, Any]) -> tuple[int, Any]:
            if action == "call":
                t = hall.call(w)
                return (200, {"ticket": None, "reason": None}) if t is None else (200, {"ticket": hall._tdata(t), "reason": {"rule": "fifo", "detail": {}}})
            if action == "pause":
                hall.paused.add(w)
                hall.publish("window.paused", {"window": int(w), "reason": body.get("reason")})
                return 200, {}
            if action == "resume":
                hall.paused.discard(w)
                hall.publish("window.resumed", {"window": int(w)})
                return 200, {}
            if action == "finish":
                hall.finish_current(w)
                return 200, {}
            return 404, {"error": "unknown_action", "message": action}

        return await write(request, work)

    async def rating(request: Request) -> Response:
        tid = int(request.path_params["tid"])
        hall.rating_posts += 1

        def work(body: dict[str, Any]) -> tuple[int, Any]:
            t = hall.tickets.get(tid)
            if t is None:
                return 404, {"error": "not_found", "message": "no ticket"}
            if not 1 <= int(body.get("level", 0)) <= 5:
                return 400, {"error": "bad_level", "message": "level 1..5"}
            if str(body.get("window")) != str(t.window):
                return 403, {"error": "wrong_window", "message": "not this window's ticket"}
            if tid in hall.ratings:
                return 409, {"error": "already_rated", "message": "一次一评"}
            hall.ratings[tid] = int(body["level"])
            return 201, {"id": tid, "level": body["level"]}

        return await write(request, work)

    async def ticket_action(request: Request) -> Response:
        tid, action = int(request.path_params["tid"]), request.path_params["action"]

        def work(body: dict[str, Any]) -> tuple[int, Any]:
            t = hall.tickets[tid]
            if action == "suspend" and t.status in ("called", "serving"):
                t.status = "suspended"
                if t.window is not None:
                    hall.current.pop(t.window, None)
                hall.publish("ticket.suspended", hall._tdata(t) | {"kind": body.get("kind")})
                return 200, {"ticket": hall._tdata(t)}
            if action == "resume" and t.status == "suspended":
                t.status = "waiting"
                hall.waiting.insert(0, t.id)
                hall.publish("ticket.resumed", hall._tdata(t))
                return 200, {"ticket": hall._tdata(t)}
            return 409, {"error": "illegal_move", "message": f"{action} on {t.status}"}

        return await write(request, work)

    async def heartbeat(request: Request) -> Response:
        hall.heartbeats.append((await request.json())["devices"])
        return JSONResponse({})

    async def snapshot(request: Request) -> Response:
        return JSONResponse(hall.snapshot())

    async def ticket(request: Request) -> Response:
        t = hall.tickets[int(request.path_params["tid"])]
        ahead = hall.waiting.index(t.id) if t.id in hall.waiting else 0
        return JSONResponse({"id": t.id, "number": t.number, "ahead": ahead, "eta": {"p50_minutes": 6.0, "p90_minutes": 11.0}})

    async def audio(request: Request) -> Response:
        return Response(b"WAV" + str(request.path_params["tid"]).encode(), media_type="audio/wav")

    async def ws(websocket: WebSocket) -> None:
        if websocket.query_params.get("token") != TOKEN:
            await websocket.close(code=4401)
            return
        await websocket.accept()
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        hall.clients.add(q)
        try:
            await websocket.send_json({"type": "snapshot", "seq": len(hall.events), "data": hall.snapshot()})
            while True:
                env = await q.get()
                if env.get("type") == "_close":
                    await websocket.close(1012)  # "service restart", as a server going down says
                    return
                await websocket.send_json(env)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            hall.clients.discard(q)

    return Starlette(routes=[
        Route("/api/halls/{hall}/windows/{w}/{action}", window_action, methods=["POST"]),
        Route("/api/halls/{hall}/tickets/{tid:int}/rating", rating, methods=["POST"]),
        Route("/api/halls/{hall}/tickets/{tid:int}", ticket),
        Route("/api/halls/{hall}/tickets/{tid:int}/{action}", ticket_action, methods=["POST"]),
        Route("/api/halls/{hall}/devices/heartbeat", heartbeat, methods=["POST"]),
        Route("/api/halls/{hall}/snapshot", snapshot),
        Route("/api/halls/{hall}/calls/{tid:int}/audio.wav", audio),
        WebSocketRoute("/ws/halls/{hall}", ws),
    ])


class FakeServer:
    """`await start()`, `await stop()`, `await start()` again: same port each time."""

    def __init__(self, hall: FakeHall) -> None:
        self.hall = hall
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        config = uvicorn.Config(build_app(self.hall), host="127.0.0.1", port=self.port, log_level="error", lifespan="off", ws="websockets-sansio", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        for q in list(self.hall.clients):
            q.put_nowait({"type": "_close"})
        # A graceful stop: force_exit would abandon request tasks mid-flight, which Python then
        # reports as never-awaited coroutines when they are collected.
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._server = None
