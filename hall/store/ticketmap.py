"""Between the engine's `Ticket` and the `tickets` table (hall.store.models.TicketRow)."""

from __future__ import annotations

from typing import Any

from queueing.tickets import (
    Channel,
    MatterProgress,
    PriorityClass,
    SuspendKind,
    Ticket,
    TicketStatus,
)

__all__ = ["ticket_from_row", "ticket_columns"]

_EXTRA = (
    "wait_started_at", "appointment_start", "recalls", "started_at", "suspended_by", "transfers", "close_reason",
    "waited_seconds",
)


def ticket_from_row(row: Any) -> Ticket:
    """The engine's view of a `tickets` row (a Row or mapping with the table's columns)."""
    extra = row.extra or {}
    kind = extra.get("suspend_kind")
    return Ticket(
        id=row.id,
        number=row.number,
        category=row.category,
        priority=PriorityClass(row.priority),
        channel=Channel(row.channel),
        status=TicketStatus(row.status),
        queue_key=row.queue_key,
        issued_at=row.issued_at,
        wait_started_at=extra.get("wait_started_at", row.issued_at),
        appointment_start=extra.get("appointment_start"),
        target_window=row.target_window,
        window=row.window,
        recalls=extra.get("recalls", 0),
        called_at=row.called_at,
        started_at=extra.get("started_at"),
        finished_at=row.finished_at,
        suspend_kind=SuspendKind(kind) if kind else None,
        suspended_by=extra.get("suspended_by"),
        transfers=extra.get("transfers", 0),
        matters=tuple(MatterProgress(m["code"], m.get("started_at"), m.get("finished_at")) for m in extra.get("matters", ())),
        close_reason=extra.get("close_reason"),
        waited_seconds=extra.get("waited_seconds", 0.0),
    )


def ticket_columns(t: Ticket) -> dict[str, Any]:
    """Column values that store a ticket (all but id, hall, day, person data and token)."""
    extra: dict[str, Any] = {name: getattr(t, name) for name in _EXTRA}
    extra["suspend_kind"] = t.suspend_kind.value if t.suspend_kind else None
    extra["matters"] = [
        {"code": m.code, "started_at": m.started_at, "finished_at": m.finished_at} for m in t.matters
    ]
    return {
        "number": t.number,
        "category": t.category,
        "priority": t.priority.value,
        "queue_class": t.queue_class.value,
        "channel": t.channel.value,
        "status": t.status.value,
        "queue_key": t.queue_key,
        "target_window": t.target_window,
        "window": t.window,
        "issued_at": t.issued_at,
        "called_at": t.called_at,
        "finished_at": t.finished_at,
        "extra": extra,
        "wait_origin": t.wait_origin,
    }
