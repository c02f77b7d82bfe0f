"""Routes of the server-rendered pages, the call audio, QR images and two read-only JSON views.

Mounted by ``hall.app.create_app`` through :func:`page_routes` (displays work). The pages are
thin jinja2 shells from ``displays/templates``: everything live comes from the HTTP API and the
websocket; a page route only looks up cosmetic data (zone names, a progress token's hall) and
still renders when that fails. The call audio (``/api/halls/{hall}/calls/{ticket_id}/audio.wav``)
is public like the hall screen that plays it and says nothing the screen does not show. The
staff console's ``/api/halls/{hall}/windows/{w}/console`` and the manager view's
``/api/halls/{hall}/live-summary`` need a staff / manager token (see ``hall.http.pagedata``).
The database is the lifespan state's (``request.state.hall.db``).
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from threading import Lock
from typing import Any

import anyio.to_thread
import qrcode
import qrcode.image.svg
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from displays.messages import catalogue, say
from displays.voice import ClipPack, ClipPackError
from hall.edge.templates import STATIC, Templates
from hall.errors import ApiError
from hall.http import pagedata
from hall.http.reads import screen_access
from hall.security.session import request_token
from hall.state import hall_of, state_of

__all__ = ["page_routes", "render_page", "error_page", "is_page_path", "STATIC"]

_QR_MAX = 512  # characters: progress URLs are ~60; more is someone abusing the endpoint


def _words(*codes: str) -> dict[str, str]:
    """The catalogue's words a page's script shows (displays/messages), by code."""
    return {code: say(code) for code in codes}


def render_page(template: str, page: str, config: dict[str, Any], **extra: Any) -> str:
    """Render one page to HTML (for tests and tools); ``config`` becomes the page's JSON config."""
    return Templates().html(template, page=page, config=_with_messages(config), **extra)


@lru_cache(maxsize=1)
def _error_templates() -> Templates:
    return Templates()


def is_page_path(path: str) -> bool:
    """A page a person opens in a browser (not the API, websocket, static files or images)."""
    return not path.startswith(("/api/", "/ws/", "/static/", "/healthz", "/metrics", "/qr.svg"))


def error_page(exc: ApiError, hall_code: str | None) -> HTMLResponse:
    """A clear page in Chinese for a page route that cannot be shown (a mistyped hall: 404
    未找到该大厅) — a shell that would only retry forever is never rendered for it."""
    if exc.code == "unknown_hall":
        title, detail = say("unknown_hall"), say("page_unknown_hall_detail")
    else:
        title = say(exc.code, fallback=say("page_error"))
        detail, hall_code = say("page_error_detail"), None
    return _error_templates().response(
        "notfound.html", status=exc.status, headers={"Cache-Control": "no-store"},
        page="error", config={"error": exc.code}, title=title, detail=detail, code=hall_code,
    )


def _render(templates: Templates, template: str, page: str, config: dict[str, Any], **extra: Any) -> HTMLResponse:
    return templates.response(template, page=page, config=_with_messages(config), **extra)


def _with_messages(config: dict[str, Any]) -> dict[str, Any]:
    # Every page reads its words from the one catalogue (Hall.say in live.js).
    return {**config, "messages": dict(catalogue())}


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        value = default
    return max(low, min(high, value))


class _AudioCache:
    """Rendered call WAVs by (number, window, repeat): every screen of a hall asks for the same call."""

    def __init__(self, size: int = 64) -> None:
        self._items: OrderedDict[tuple[str, str, int], bytes] = OrderedDict()
        self._size = size
        self._lock = Lock()

    def get(self, key: tuple[str, str, int], make: Callable[[], bytes]) -> bytes:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        data = make()
        with self._lock:
            self._items[key] = data
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return data


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def _database(request: Request) -> Any:
    """The app's Database: on the lifespan state (``request.state.hall.db``) or ``app.state``."""
    hall_state = getattr(request.state, "hall", None)
    db = getattr(hall_state, "db", None)
    if db is not None:
        return db
    for name in ("db", "database"):
        db = getattr(request.app.state, name, None)
        if db is not None:
            return db
    raise RuntimeError("the app has no database on its state")


def _bearer(request: Request) -> str:
    return request_token(request)[0] or ""


async def _read(request: Request, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a pagedata query in a worker thread inside one read transaction."""

    def run() -> Any:
        with _database(request).read() as conn:
            return fn(conn, *args, **kwargs)

    return await anyio.to_thread.run_sync(run)


async def _optional(request: Request, fn: Callable[..., Any], *args: Any, default: Any) -> Any:
    """Like _read, but a page still renders (with less) when the lookup fails."""
    try:
        return await _read(request, fn, *args)
    except Exception:  # noqa: BLE001 - a page shell must not fail for a cosmetic lookup
        return default


def page_routes(templates: Templates) -> list[BaseRoute]:
    """Routes for kiosk, screens, staff console, pad, mobile progress and manager pages."""
    audio_cache = _AudioCache()
    clip_pack = ClipPack.default()
    layouts: dict[Any, Any] = {}

    async def kiosk(request: Request) -> Response:
        hall = (await hall_of(request, request.path_params["hall"])).code
        printer = request.query_params.get("printer", "")
        config = {
            "hall": hall,
            "zones": await _optional(request, pagedata.zone_names, hall, default={}),
            "idle_seconds": _int_param(request, "idle", 60, 10, 3600),
            "ticket_seconds": _int_param(request, "ticket_idle", 25, 5, 600),
            "printer": printer if printer in {"bridge", "browser", "none"} else "",
        }
        return _render(templates, "kiosk.html", "kiosk", config)

    async def hall_screen(request: Request) -> Response:
        hall = (await hall_of(request, request.path_params["hall"])).code
        zone = request.query_params.get("zone", "")[:64]
        zones = await _optional(request, pagedata.zone_names, hall, default={})
        zone_name = zones.get(zone, zone)
        return _render(templates, "screen.html", "screen",
                       {"hall": hall, "zone": zone, "zones": zones, "words": _words("call_recalled")}, zone=zone_name)

    async def window_screen(request: Request) -> Response:
        hall = (await hall_of(request, request.path_params["hall"])).code
        window = request.path_params["window"]
        words = _words("window_screen_closed", "window_screen_paused", "window_screen_welcome", "call_recalled")
        return _render(templates, "window_screen.html", "window", {"hall": hall, "window": window, "words": words},
                            window=window)

    async def staff(request: Request) -> Response:
        config = {"hall": request.query_params.get("hall", "")[:64],
                  "window": _int_param(request, "window", 0, 0, 100000) or None,
                  "messages": templates.messages}  # the console turns API codes into words (words.js)
        return _render(templates, "staff.html", "staff", config)

    async def pad(request: Request) -> Response:
        hall = (await hall_of(request, request.path_params["hall"])).code
        window = request.path_params["window"]
        config = {"hall": hall, "window": window,
                  "rate_seconds": _int_param(request, "rate_idle", 90, 10, 3600)}
        return _render(templates, "pad.html", "pad", config, window=window)

    async def progress(request: Request) -> Response:
        token = request.path_params["token"]
        hall = await _optional(request, pagedata.progress_hall, token, default=None)
        return _render(templates, "progress.html", "progress", {"token": token, "hall": hall})

    async def manage(request: Request) -> Response:
        hall = (await hall_of(request, request.path_params["hall"])).code
        return _render(templates, "manage.html", "manage", {"hall": hall, "messages": templates.messages})

    async def qr_svg(request: Request) -> Response:
        data = request.query_params.get("data", "")
        if not data or len(data) > _QR_MAX:
            return _error(400, "invalid", f"data must be 1..{_QR_MAX} characters")
        image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
        buffer = io.BytesIO()
        image.save(buffer)
        return Response(buffer.getvalue(), media_type="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=86400"})

    async def call_audio(request: Request) -> Response:
        hall = request.path_params["hall"]
        ticket_id = request.path_params["ticket_id"]
        # Same access as the hall's snapshot: halls whose screens need a token need it here too.
        await screen_access(request, await hall_of(request, hall))
        repeat = _int_param(request, "repeat", 2, 1, 3)
        found = await _read(request, pagedata.called_ticket, hall, ticket_id)
        if found is None:
            return _error(404, "not_found", f"no called ticket {ticket_id} in hall {hall}")
        number, window = found

        def make() -> bytes:
            return clip_pack.render_call(number, window, repeat=repeat)

        try:
            wav = await anyio.to_thread.run_sync(audio_cache.get, (number, str(window), repeat), make)
        except (ClipPackError, ValueError) as exc:
            return _error(409, "cannot_speak", str(exc))
        return Response(wav, media_type="audio/wav", headers={"Cache-Control": "private, max-age=600"})

    async def console(request: Request) -> Response:
        try:
            data = await _read(request, pagedata.window_console, request.path_params["hall"],
                               request.path_params["window"], _bearer(request), now=state_of(request).clock.now(),
                               layouts=layouts)
        except ApiError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        return JSONResponse(data, headers={"Cache-Control": "no-store"})

    async def live_summary(request: Request) -> Response:
        try:
            data = await _read(request, pagedata.live_summary, request.path_params["hall"],
                               _bearer(request), now=state_of(request).clock.now(), layouts=layouts)
        except ApiError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        # This process's link to the others: a partitioned Redis shows here, not as a stall.
        data["bus"] = state_of(request).bus.link().view((await hall_of(request, request.path_params["hall"])).tz)
        return JSONResponse(data, headers={"Cache-Control": "no-store"})

    return [
        Route("/kiosk/{hall}", kiosk, methods=["GET"]),
        Route("/screen/{hall}", hall_screen, methods=["GET"]),
        Route("/screen/{hall}/windows/{window:int}", window_screen, methods=["GET"]),
        Route("/staff", staff, methods=["GET"]),
        Route("/pad/{hall}/windows/{window:int}", pad, methods=["GET"]),
        Route("/t/{token}", progress, methods=["GET"]),
        # Tickets print /t/{token}; /progress/{token} stays for tickets printed before the rename.
        Route("/progress/{token}", progress, methods=["GET"]),
        Route("/manage/{hall}", manage, methods=["GET"]),
        Route("/qr.svg", qr_svg, methods=["GET"]),
        Route("/api/halls/{hall}/calls/{ticket_id:int}/audio.wav", call_audio, methods=["GET"]),
        Route("/api/halls/{hall}/windows/{window:int}/console", console, methods=["GET"]),
        Route("/api/halls/{hall}/live-summary", live_summary, methods=["GET"]),
    ]
