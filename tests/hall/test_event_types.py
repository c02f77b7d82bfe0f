"""One enum of event types in `hall` (hall.core.events.EventType), and no type spelled out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hall.core.events import EventType
from queueing.tickets import TicketEventType

ROOT = Path(__file__).resolve().parents[2] / "hall"
# A quoted event type: "ticket.called", 'device.status' …
LITERAL = re.compile("|".join(f"[\"']{re.escape(t.value)}[\"']" for t in EventType))


def test_every_engine_event_type_is_a_server_event_type() -> None:
    assert {t.value for t in TicketEventType} <= {t.value for t in EventType}


def test_no_event_type_is_written_as_a_string_in_hall() -> None:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "core/events.py" or rel.startswith("store/migrations/"):
            continue  # the enum itself; migrations are frozen history
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if LITERAL.search(line):
                found.append(f"{rel}:{n}: {line.strip()}")
    assert found == []


def test_a_hall_transaction_refuses_an_unknown_event_type() -> None:
    from hall.core.tx import HallTx

    tx = HallTx.__new__(HallTx)  # emit checks the type before touching anything else
    with pytest.raises(ValueError):
        tx.emit("ticket.teleported", {})  # type: ignore[arg-type]
