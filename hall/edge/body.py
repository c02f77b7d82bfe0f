"""The one body parser of the HTTP API: a JSON object or nothing, bounded in size and depth,
its text and numbers checked (hall.fields) before any handler sees it.

`read_json` gives the checked object to handlers that take a free-form body; `read_model`
converts it into a request model (hall.http.models), which validates every field."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request

from hall.errors import ApiError, invalid
from hall.fields import MAX_DEPTH, BadField, check_tree
from hall.state import state_of

__all__ = ["read_body", "read_json", "read_model", "too_deep", "too_large"]

M = TypeVar("M")


def too_large(limit: int) -> ApiError:
    return ApiError(413, "body_too_large", f"the body is larger than {limit} bytes", limit=limit)


async def read_body(request: Request, limit: int | None = None) -> bytes:
    """The body, refused with 413 as soon as it passes `limit` bytes (default HALL_MAX_BODY):
    read chunk by chunk, so a huge body is never held in memory. An upload that needs more
    passes its own limit."""
    limit = state_of(request).settings.max_body if limit is None else limit
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def too_deep(raw: bytes, limit: int = MAX_DEPTH + 1) -> bool:
    """Whether `raw` nests arrays and objects more than `limit` deep, found without recursion.

    The decoder would refuse it too, but only by running out of stack: a collection then (and
    its callbacks, such as the pause timer in hall.metrics) runs at the limit and fails. A body
    with fewer brackets than the limit (nearly all) is passed at C speed."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for b in _STRING.sub(b"", raw).translate(None, _NOT_BRACKET):
        depth += 1 if b in (0x5B, 0x7B) else -1
        if depth > limit:
            return True
    return False


def _decode(raw: bytes, type_: Any) -> Any:
    if too_deep(raw):
        raise invalid("body is nested too deeply")
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as e:
        raise invalid(str(e), _field_of(str(e))) from None
    except msgspec.DecodeError as e:
        raise invalid(f"body is not valid JSON (UTF-8, no lone surrogates): {e}") from None
    except RecursionError:
        raise invalid("body is nested too deeply") from None


def _field_of(message: str) -> str | None:
    # msgspec names the place as "at `$.devices[0].id`"; the API names it "devices[0].id".
    start = message.rfind("`$")
    return _field(message[start + 1:message.rfind("`")]) if start >= 0 else None


def _field(where: str) -> str | None:
    return where.removeprefix("$").removeprefix(".") or None


async def read_json(request: Request, limit: int | None = None) -> dict[str, Any]:
    """The request's JSON object (an empty body is `{}`); ApiError 4xx otherwise. `limit`: an
    upload that needs more than HALL_MAX_BODY names its own."""
    raw = await read_body(request, limit)
    if not raw.strip():
        return {}
    body = _decode(raw, Any)
    if not isinstance(body, dict):
        raise invalid("body must be a JSON object")
    try:
        check_tree(body)
    except BadField as e:
        raise invalid(str(e), _field(e.where)) from None
    return body


async def read_model(request: Request, model: type[M]) -> M:
    """The body decoded into `model` (an empty body is `{}`); 422 names the first bad field.
    The whole body is checked first (read_json), fields the model ignores included: a body
    with bad text anywhere is refused, not half-accepted."""
    body = await read_json(request)
    try:
        return msgspec.convert(body, model)
    except msgspec.ValidationError as e:
        raise invalid(str(e), _field_of(str(e))) from None
