"""Event types, the wire envelope and what each audience may see of an event.

An event is stored once, with its staff-audience `data`. The public stream (screens, LED boards,
anyone without a token) gets `public_data(type, data)`: no names of people, no ID or phone numbers, no
progress tokens or URLs, no issuing device, no policy reasons. Exports get `export_data(data)`.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from hall.errors import invalid
from hall.fields import BadField, check_tree

__all__ = [
    "EventType", "envelope", "public_data", "export_data", "iso", "PRIVATE_KEYS", "check_storable", "wire_json",
]


class EventType(StrEnum):
    """Every event type the server stores: the one list in `hall` (its ticket types are the
    engine's `queueing.tickets.TicketEventType`, value for value; a test holds them together)."""

    TICKET_ISSUED = "ticket.issued"
    TICKET_CALLED = "ticket.called"
    TICKET_RECALLED = "ticket.recalled"
    TICKET_STARTED = "ticket.started"
    TICKET_FINISHED = "ticket.finished"
    TICKET_NO_SHOW = "ticket.no_show"
    TICKET_RECHECKED_IN = "ticket.rechecked_in"
    TICKET_TRANSFERRED = "ticket.transferred"
    TICKET_SUSPENDED = "ticket.suspended"
    TICKET_RESUMED = "ticket.resumed"
    TICKET_CANCELLED = "ticket.cancelled"
    TICKET_CLOSED = "ticket.closed"
    TICKET_RATED = "ticket.rated"
    TICKET_MATTER_STARTED = "ticket.matter_started"
    TICKET_MATTER_FINISHED = "ticket.matter_finished"
    WINDOW_PAUSED = "window.paused"
    WINDOW_RESUMED = "window.resumed"
    WINDOW_SIGNED_IN = "window.signed_in"
    WINDOW_SIGNED_OUT = "window.signed_out"
    WINDOW_RETARGETED = "window.retargeted"  # 潮汐: the categories a window serves changed
    DEVICE_STATUS = "device.status"


# Staff-only keys. `staff_name` stays public on window.signed_in: the window screen shows the
# clerk on duty (工作人员), as halls are required to; it is never a citizen's name.
PRIVATE_KEYS = frozenset(
    {
        "device",
        "progress_url",
        "progress_token",
        "channel",
        "priority",
        "appointment_start",
        "matters",
        "reasons",
        "user",
        "finished_by_call",
        "detail",
        # People ahead and the estimate given at issue: for the bridge's printed ticket, the
        # export and the scoring of estimates; screens show waiting counts instead.
        "ahead",
        "estimate",
    }
)
# The dispatch policy's explanation of a call is for staff; a pause reason or a closing reason
# ("day closed") is for everyone.
_PRIVATE_BY_TYPE = {"ticket.called": frozenset({"reason"}), "ticket.recalled": frozenset({"reason"})}
_EXPORT_DROPPED = frozenset({"progress_url", "progress_token", "user"})


def public_data(type_: str, data: dict[str, Any]) -> dict[str, Any]:
    """What the public stream may carry of an event's data."""
    extra = _PRIVATE_BY_TYPE.get(type_, frozenset())
    return {k: v for k, v in data.items() if k not in PRIVATE_KEYS and k not in extra}


def export_data(data: dict[str, Any]) -> dict[str, Any]:
    """What `hall export events` writes of an event's data (no tokens, no staff accounts)."""
    return {k: v for k, v in data.items() if k not in _EXPORT_DROPPED}


def iso(instant: float, tz: ZoneInfo) -> str:
    """`2026-11-21T09:03:12.123+08:00`: milliseconds, the hall's offset."""
    return datetime.fromtimestamp(instant, tz).isoformat(timespec="milliseconds")


def envelope(seq: int, type_: str, at: float, hall: str, data: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """The wire form `{seq, type, at, hall, data}` of a stored event."""
    return {"seq": seq, "type": type_, "at": iso(at, tz), "hall": hall, "data": data}


def check_storable(type_: str, data: dict[str, Any]) -> None:
    """Refuse (ApiError 422, before the commit) an event whose data could not be sent: every
    string clean Unicode text, every integer within 64 bits (hall.fields.check_tree). The edge
    already refuses such input; this is the last line, so that no stored event can ever stop a
    stream, an export or a bridge."""
    try:
        check_tree(data)
    except BadField as e:
        raise invalid(f"{type_}: {e}", e.where) from None


_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def wire_json(value: Any) -> str:
    """JSON text of `value` (UTF-8 clean): the one encoder of stored events for streams, reads
    and exports. Events stored before check_storable existed may hold lone surrogates; they are
    sent as U+FFFD rather than failing the whole stream."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _LONE_SURROGATE.sub("\ufffd", text)
    return text
