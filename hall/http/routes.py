"""The server's route table: the API's writes and reads, the websocket, health and metrics, the
operations API and pages, the pages, static files. Writes come first: routes are matched in
order and they are the busiest.

DOCS names each API route's request and answer models (hall.http.models); /openapi.json is
generated from the routes and those models (hall.edge.apidoc). A route without an entry is still
in the document, with a free-form JSON object as its body and answer."""

from __future__ import annotations

import anyio
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from hall.edge.apidoc import Doc, QueryParam, openapi_document
from hall.edge.params import ParamGuard
from hall.edge.respond import json_response
from hall.edge.templates import Templates
from hall.fields import INT64_MAX
from hall.http import models as m
from hall.http.pages import page_routes
from hall.http.reads import read_routes
from hall.http.writes import api_routes
from hall.http.ws import hall_stream
from hall.metrics import CONTENT_TYPE_LATEST
from hall.operations import operation_routes
from hall.state import state_of

__all__ = ["all_routes", "edge_middleware", "DOCS", "API_PREFIXES"]

H = "/api/halls/{hall}"
_SEQ = {"type": "integer", "minimum": 0, "maximum": INT64_MAX}
_WINDOW_ACTIONS = ("recall", "no-show", "start", "finish", "pause", "resume", "sign-in", "sign-out")
API_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics")

DOCS: dict[tuple[str, str], Doc] = {
    ("POST", "/api/auth/login"): Doc("Log in; returns a bearer token", m.LoginBody, m.LoginAnswer, 200),
    ("GET", "/api/halls"): Doc("Halls served"),
    ("POST", f"{H}/tickets"): Doc("Issue a ticket (取号); Idempotency-Key or idempotency_key", m.IssueBody, m.IssueAnswer, 201),
    ("GET", f"{H}/tickets"): Doc("Today's tickets by ?status= (default waiting) and ?category=, in queue order (staff)",
                                 query=(QueryParam("status", {"type": "string"}), QueryParam("category", {"type": "string"}))),
    ("GET", f"{H}/tickets/{{id:int}}"): Doc("One ticket (staff)"),
    ("POST", f"{H}/windows/{{w:int}}/call"): Doc("Call the next ticket, or {ticket} out of order", m.CallBody, m.CallAnswer, 200),
    ("POST", f"{H}/devices/heartbeat"): Doc("Bridge heartbeat with device states", m.HeartbeatBody, m.HeartbeatAnswer, 200),
    ("GET", f"{H}/snapshot"): Doc("The hall's state at a seq (docs/CONTRACTS.md)"),
    ("GET", f"{H}/events"): Doc("Stored events after ?since=SEQ (at most 1000)", answer=m.EventsAnswer, status=200,
                                query=(QueryParam("since", _SEQ), QueryParam("limit", _SEQ))),
    ("GET", f"{H}/matters"): Doc("Matter search by name or pinyin initials (?q=)",
                                 query=(QueryParam("q", {"type": "string", "maxLength": 50}),)),
    ("GET", f"{H}/calls/{{ticket_id:int}}/audio.wav"): Doc("The call's announcement (WAV)", status=200, media="audio/wav"),
    ("GET", "/api/progress/{token}"): Doc("The mobile progress page's data"),
    ("GET", "/healthz"): Doc("The process is alive", status=200),
    ("GET", "/readyz"): Doc("Database and event bus reachable"),
    ("GET", "/metrics"): Doc("Prometheus metrics", status=200, media=CONTENT_TYPE_LATEST.split(";")[0]),
}
for _a in _WINDOW_ACTIONS:
    DOCS[("POST", f"{H}/windows/{{w:int}}/{_a}")] = Doc(
        {"pause": "Pause the window {reason}", "sign-in": "Sign in at the window {takeover?}"}.get(
            _a, f"{_a} at the window (its current ticket)"), m.WindowMoveBody, status=200)
DOCS[("POST", f"{H}/windows/{{w:int}}/visit")] = Doc(
    "A station's visit: issued, called and started at this window", m.IssueBody, status=201)
for _a in ("recall", "no-show", "recheck-in", "start", "finish", "transfer", "suspend", "resume", "cancel"):
    DOCS[("POST", f"{H}/tickets/{{id:int}}/{_a}")] = Doc(f"{_a} a ticket", m.TicketActionBody, m.TicketMoved, 200)


def edge_middleware() -> list[Middleware]:
    """The parameter guard: every path and query is clean text before routing."""
    return [Middleware(ParamGuard)]


def all_routes() -> list[BaseRoute]:
    templates = Templates()  # one template environment for every page of the app
    return [
        *api_routes(),
        *read_routes(),
        WebSocketRoute("/ws/halls/{hall}", hall_stream),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
        Route("/openapi.json", openapi, methods=["GET"]),
        *operation_routes(templates),
        *page_routes(templates),
        Mount("/static", app=StaticFiles(packages=[("displays", "static")]), name="static"),
    ]


async def openapi(request: Request) -> Response:
    return json_response(openapi_document(request.app.routes, DOCS, m.ErrorAnswer, API_PREFIXES))


async def healthz(_request: Request) -> Response:
    return JSONResponse({"ok": True})


async def readyz(request: Request) -> Response:
    """Database and bus, answered without waiting on Redis (the bus keeps its link's state).

    Only an unreachable database answers 503: with the bus away the process still serves (its
    own clients locally, the others from the table), and a load balancer that drained every
    process of a hall because Redis was partitioned would stall the hall it meant to protect.
    """
    st = state_of(request)
    checks: dict[str, bool] = {}
    try:
        await anyio.to_thread.run_sync(st.db.ping)
        checks["database"] = True
    except Exception:  # noqa: BLE001 - reported, not raised
        checks["database"] = False
    checks["bus"] = await st.bus.ping()
    body: dict[str, object] = {"ok": all(checks.values()), **checks}
    if not checks["bus"]:
        body["bus_link"] = st.bus.link().to_dict()
    return JSONResponse(body, status_code=200 if checks["database"] else 503)


async def metrics_endpoint(request: Request) -> Response:
    return Response(state_of(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)
