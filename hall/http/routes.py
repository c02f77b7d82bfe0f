"""The server's route table: the API's writes and reads, the websocket, health and metrics, the
operations API and pages, the pages, static files. Writes come first: routes are matched in
order and they are the busiest."""

from __future__ import annotations

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from hall.edge.templates import Templates
from hall.http.openapi import openapi
from hall.http.pages import page_routes
from hall.http.reads import read_routes
from hall.http.writes import api_routes
from hall.http.ws import hall_stream
from hall.metrics import CONTENT_TYPE_LATEST
from hall.operations import operation_routes
from hall.state import state_of

__all__ = ["all_routes"]


def all_routes() -> list[BaseRoute]:
    templates = Templates()  # one template environment for every page of the app
    return [
        *api_routes(),
        *read_routes(),
        WebSocketRoute("/ws/halls/{hall}", hall_stream),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
        Route("/openapi.json", openapi),
        *operation_routes(templates),
        *page_routes(templates),
        Mount("/static", app=StaticFiles(packages=[("displays", "static")]), name="static"),
    ]


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
