"""The OpenAPI 3.1 document served at /openapi.json (kept beside the routes it describes)."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

__all__ = ["openapi_document", "openapi"]

_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}
_ANY = {"type": "object", "additionalProperties": True}

_ISSUE = {
    "type": "object",
    "properties": {
        "category": {"type": "string", "description": "category code (A); or give matters / appointment_code"},
        "priority": {"enum": ["normal", "elderly", "disabled", "military", "pregnant", "green"]},
        "channel": {"enum": ["kiosk", "mobile", "appointment", "staff", "api"]},
        "matters": {"type": "array", "items": {"type": "string"}},
        "appointment_code": {"type": "string"},
        "id_number": {"type": "string", "description": "encrypted at rest; one waiting ticket per person and category"},
        "phone": {"type": "string"},
        "idempotency_key": {"type": "string"},
    },
}
_TICKET = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "number": {"type": "string"}, "category": {"type": "string"},
        "status": {"type": "string"}, "ahead": {"type": "integer"},
        "eta": {"type": "object", "properties": {"p50_minutes": {"type": "number"}, "p90_minutes": {"type": "number"}}},
        "issued_at": {"type": "string", "format": "date-time"}, "progress_token": {"type": "string"},
        "progress_url": {"type": "string"},
    },
}

# (method, path, summary, request schema, response schema, success status)
_OPS: list[tuple[str, str, str, dict[str, Any] | None, dict[str, Any], int]] = [
    ("post", "/api/auth/login", "Log in; returns a bearer token",
     {"type": "object", "required": ["username", "password"], "properties": {"username": {"type": "string"}, "password": {"type": "string"}}},
     {"type": "object", "properties": {"token": {"type": "string"}, "role": {"type": "string"}, "name": {"type": "string"}}}, 200),
    ("get", "/api/halls", "Halls served", None, _ANY, 200),
    ("post", "/api/halls/{hall}/tickets", "Issue a ticket (取号); Idempotency-Key or idempotency_key", _ISSUE, _TICKET, 201),
    ("get", "/api/halls/{hall}/tickets", "Today's tickets by ?status= (default waiting) and ?category=, in queue order (staff)", None, _ANY, 200),
    ("get", "/api/halls/{hall}/tickets/{id}", "One ticket (staff)", None, _ANY, 200),
    ("post", "/api/halls/{hall}/tickets/{id}/rating", "Rate a finished ticket (好差评), one per ticket",
     {"type": "object", "required": ["level"], "properties": {"level": {"type": "integer", "minimum": 1, "maximum": 5},
      "reasons": {"type": "array", "items": {"type": "string"}}, "channel": {"enum": ["pad", "keypad", "qr", "sms"]},
      "progress_token": {"type": "string"}}}, _ANY, 201),
    ("post", "/api/halls/{hall}/tickets/{id}/{action}",
     "recall | no-show | recheck-in | start | finish | transfer {category|window} | suspend {kind} | resume | cancel", _ANY, _ANY, 200),
    ("post", "/api/halls/{hall}/windows/{w}/call", "Call the next ticket, or {ticket} out of order",
     {"type": "object", "properties": {"ticket": {"type": "integer"}}},
     {"type": "object", "properties": {"ticket": _ANY, "reason": _ANY}}, 200),
    ("post", "/api/halls/{hall}/windows/{w}/{action}",
     "recall | no-show | start | finish (current ticket) | pause {reason} | resume | sign-in | sign-out", _ANY, _ANY, 200),
    ("get", "/api/halls/{hall}/snapshot", "The hall's state at a seq (docs/CONTRACTS.md)", None, _ANY, 200),
    ("get", "/api/halls/{hall}/events", "Stored events after ?since=SEQ (at most 1000)", None, _ANY, 200),
    ("get", "/api/halls/{hall}/matters", "Matter search by name or pinyin initials (?q=)", None, _ANY, 200),
    ("post", "/api/halls/{hall}/devices/heartbeat", "Bridge heartbeat with device states", _ANY, _ANY, 200),
    ("get", "/api/halls/{hall}/calls/{ticket_id}/audio.wav", "The call's announcement (WAV)", None, {"type": "string", "format": "binary"}, 200),
    ("get", "/api/progress/{token}", "The mobile progress page's data", None, _ANY, 200),
    ("get", "/healthz", "The process is alive", None, _ANY, 200),
    ("get", "/readyz", "Database and event bus reachable", None, _ANY, 200),
    ("get", "/metrics", "Prometheus metrics", None, {"type": "string"}, 200),
]


def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for method, path, summary, req, resp, status in _OPS:
        params = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "integer" if p in ("id", "w", "ticket_id") else "string"}}
            for p in re.findall(r"{(\w+)}", path)
        ]
        op: dict[str, Any] = {
            "summary": summary,
            "parameters": params,
            "responses": {
                str(status): {"description": "success", "content": {"application/json": {"schema": resp}}},
                "4XX": {"description": "refused; final, do not retry", "content": {"application/json": {"schema": _ERROR}}},
            },
        }
        if method == "post":
            params.append({"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}})
        if req is not None:
            op["requestBody"] = {"content": {"application/json": {"schema": req}}}
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "政务服务大厅 hall server", "version": "1.0"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}, {}],
        "paths": paths,
    }


async def openapi(_request: Request) -> JSONResponse:
    return JSONResponse(openapi_document())
