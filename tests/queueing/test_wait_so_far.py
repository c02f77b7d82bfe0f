"""A ticket's wait kept by its transitions (`Ticket.wait_so_far`, `wait_origin`) is exactly
`queueing.metrics.wait_seconds` over its events, whatever moves it went through."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queueing import lifecycle as lc
from queueing import metrics
from queueing.layout import Rules
from queueing.tickets import IllegalMove, SuspendKind, Ticket
from queueing.tickets import TicketStatus as S
from tests.queueing.conftest import T0

RULES = Rules(recalls_before_no_show=1, recheckin_places_back=2)
MOVES = ("call", "recall", "start", "finish", "no_show", "recheck_in", "transfer_cat", "transfer_window",
         "suspend", "resume", "cancel")


def _move(t: Ticket, name: str, now: float) -> lc.Transition:
    if name == "call":
        return lc.call(t, t.target_window or 1, now)
    if name == "recall":
        return lc.recall(t, now, RULES)
    if name == "start":
        return lc.start(t, now)
    if name == "finish":
        return lc.finish(t, now)
    if name == "no_show":
        return lc.no_show(t, now)
    if name == "recheck_in":
        return lc.recheck_in(t, now, RULES, [T0, T0 + 1])
    if name == "transfer_cat":
        return lc.transfer(t, now, to_category="B" if t.category == "A" else "A")
    if name == "transfer_window":
        return lc.transfer(t, now, to_window=2 if t.window != 2 else 3)
    if name == "suspend":
        return lc.suspend(t, now, SuspendKind.HOLDING)
    if name == "resume":
        return lc.resume(t, now, window_open=True, head_key=None)
    return lc.cancel(t, now)


@settings(max_examples=300, deadline=None)
@given(
    slot=st.one_of(st.none(), st.floats(-600, 1800)),
    steps=st.lists(st.tuples(st.sampled_from(MOVES), st.floats(0, 900)), max_size=25),
    probe=st.floats(0, 3600),
)
def test_wait_so_far_is_the_metrics_wait(slot: float | None, steps: list[tuple[str, float]], probe: float) -> None:
    now = T0
    tr = lc.issue(1, "A001", "A", now, appointment_start=None if slot is None else T0 + slot)
    t = tr.ticket
    events: list[tuple[str, float, dict[str, Any]]] = [(e.value, now, d) for e, d in tr.events]
    for name, gap in steps:
        now += gap
        try:
            tr = _move(t, name, now)
        except IllegalMove:
            continue
        t = tr.ticket
        events += [(e.value, now, d) for e, d in tr.events]
        if t.status in (S.CANCELLED, S.FINISHED):
            break
    later = now + probe
    if t.status is S.WAITING:
        assert t.wait_so_far(later) == metrics.wait_seconds(events, later)
        assert max(0.0, later - t.wait_origin) == pytest.approx(t.wait_so_far(later), abs=1e-6)
    else:
        got = metrics.wait_seconds(events)
        # Ended by a call since the last (re)start: the completed waits; else nothing counted.
        assert got is None or t.waited_seconds == got
        if got is not None:
            assert t.wait_so_far(later) == got
