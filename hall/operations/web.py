"""Helpers shared by the operations API and pages: the body parser (hall.edge.body), worker threads, the server's
clock, per-hall settings, days, the manager check and error mapping."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

import anyio
from starlette.requests import Request
from starlette.responses import Response

from hall.core.registry import HallInfo
from hall.edge.body import read_json
from hall.errors import ApiError, invalid
from hall.operations.cases.appeals import AppealError
from hall.operations.cases.rules import CaseError
from hall.operations.config import OpsConfig
from hall.security.auth import require
from hall.state import hall_of, principal_of

__all__ = [
    "read_json", "in_thread", "now_of", "config_of", "today", "parse_day", "manager", "case_error",
    "appeal_error", "file_response",
]

T = TypeVar("T")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


async def in_thread(fn: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(fn)


def now_of(st: Any) -> float:
    """The server's clock (`state.clock`; tests pass a fixed one)."""
    return float(st.clock.now())


def config_of(hall: HallInfo) -> OpsConfig:
    try:
        return OpsConfig.build(hall.layout, hall.settings)
    except ValueError as e:
        raise ApiError(500, "bad_settings", f"operations settings: {e}") from None


def today(hall: HallInfo, now: float) -> str:
    return datetime.fromtimestamp(now, hall.tz).date().isoformat()


def parse_day(value: str | None, hall: HallInfo, now: float, field: str = "day") -> str:
    if not value:
        return today(hall, now)
    if not _DAY.match(value):
        raise invalid("a day is YYYY-MM-DD", field)
    try:
        date.fromisoformat(value)
    except ValueError:
        raise invalid("not a date", field) from None
    return value


async def manager(request: Request) -> tuple[HallInfo, Any]:
    hall = await hall_of(request, request.path_params["hall"])
    p = require(await principal_of(request), "manage", hall.id)
    return hall, p


def case_error(e: CaseError) -> ApiError:
    return ApiError(409 if e.code == "illegal_step" else 422, e.code, e.message)


def appeal_error(e: AppealError) -> ApiError:
    status = {"forbidden": 403, "already_appealed": 409, "already_decided": 409}.get(e.code, 422)
    return ApiError(status, e.code, e.message)


def file_response(content: bytes, media: str, name: str) -> Response:
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
