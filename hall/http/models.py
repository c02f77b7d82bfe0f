"""The API's request and answer bodies as msgspec models: decoding a request into its model is
its validation (hall.edge.body.read_model), and /openapi.json is generated from the same models
(hall.edge.apidoc, through the route table hall.http.routes). Field types and their limits are hall.fields.

Unknown fields in a request are ignored (older and newer clients keep working); a field of the
wrong type, length or range is a 422 that names it."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from hall.fields import Code, Id, Key, Kind, Line, Password, Seq, Short, Username

__all__ = [
    "Body", "ErrorAnswer", "LoginBody", "LoginAnswer", "IssueBody", "IssueAnswer", "CallBody",
    "CallAnswer", "CalledTicket", "WindowMoveBody", "TicketActionBody", "TicketMoved", "HeartbeatBody",
    "DeviceReport", "HeartbeatAnswer", "EventsAnswer", "Envelope", "Anything", "WindowNumber",
]

WindowNumber = Id  # window numbers are row-like integers too: positive, 64-bit


class Body(msgspec.Struct, omit_defaults=True, kw_only=True):
    """Base of every request body: fields left out are not passed on as nulls."""


class ErrorAnswer(msgspec.Struct):
    """Every 4xx answer. `error` is a stable code (its words: displays/messages/errors.toml)."""

    error: str
    message: str


class Anything(msgspec.Struct):
    """An answer documented by its route's summary (a JSON object)."""


# --- auth ------------------------------------------------------------------------------------


class LoginBody(Body):
    username: Username
    password: Password


class LoginAnswer(msgspec.Struct):
    token: str
    role: str
    name: str
    expires_in: int


# --- tickets ---------------------------------------------------------------------------------


class IssueBody(Body):
    """取号: a category, matters or an appointment code (at least one)."""

    category: Code | None = None
    priority: Literal["normal", "elderly", "disabled", "military", "pregnant", "green"] | None = None
    channel: Literal["kiosk", "mobile", "appointment", "staff", "api"] | None = None
    matters: list[Code] | None = msgspec.field(default=None)
    appointment_code: Code | None = None
    id_number: Short | None = None
    phone: Short | None = None
    idempotency_key: Key | None = None


class Estimate(msgspec.Struct):
    ahead: int
    state: str


class Eta(msgspec.Struct):
    p50_minutes: float | None = None
    p90_minutes: float | None = None


class HallRef(msgspec.Struct):
    code: str
    name: str


class IssueAnswer(msgspec.Struct):
    id: int
    number: str
    category: str
    status: str
    queue_class: str
    ahead: int
    issued_at: str
    progress_token: str
    progress_url: str
    hall: HallRef
    category_name: str
    eta: Eta | None = None
    estimate: dict[str, Any] | None = None


class TicketActionBody(Body):
    """transfer {category | window}, suspend {kind}, cancel {reason}; the others take nothing."""

    category: Code | None = None
    window: WindowNumber | None = None
    kind: Code | None = None
    reason: Line | None = None


class TicketMoved(msgspec.Struct):
    id: int
    number: str
    category: str
    status: str
    window: int | None


# --- windows ---------------------------------------------------------------------------------


class CallBody(Body):
    """Call the next ticket, or `ticket` (an id) out of order."""

    ticket: Id | None = None


class CalledTicket(msgspec.Struct):
    id: int
    number: str
    category: str
    status: str
    window: int | None
    recalls: int
    called_at: str | None


class CallAnswer(msgspec.Struct):
    """`ticket` and `reason` are both null when nobody is waiting for this window."""

    ticket: CalledTicket | None
    reason: dict[str, Any] | None


class WindowMoveBody(Body):
    """A window action's body: pause {reason}; sign-in {takeover} (sign the other clerk out)."""

    reason: Line | None = None
    takeover: bool = False


class DeviceReport(Body):
    id: Code | Id
    kind: Kind | None = None
    window: WindowNumber | None = None
    ok: bool = True
    detail: Line | None = None


class HeartbeatBody(Body):
    devices: list[DeviceReport]


class HeartbeatAnswer(msgspec.Struct):
    ok: bool
    changed: int


# --- reads -----------------------------------------------------------------------------------


class Envelope(msgspec.Struct):
    seq: Seq
    type: str
    at: str
    hall: str
    data: dict[str, Any]


class EventsAnswer(msgspec.Struct):
    events: list[Envelope]
    seq: int
    more: bool
