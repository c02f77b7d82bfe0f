"""The reducer vectors on the bridge (docs/REDUCER.md): its hallstate, loaded with the initial
snapshot and given each vector's events, holds the windows the vector expects. (The bridge keeps
no waiting counts or latest calls: the vectors' windows are what it must agree on.)"""

from __future__ import annotations

from typing import Any

import pytest

from hardware.hallstate import HallState
from tests.vectors import envelopes, initial, vectors


def _windows(state: HallState) -> dict[str, dict[str, Any]]:
    return {
        number: {
            "state": w.state, "staff_name": w.staff_name, "pause_reason": w.pause_reason,
            "current": w.current_number, "serves": sorted(w.serves),
        }
        for number, w in state.windows.items()
    }


@pytest.mark.parametrize("vector", vectors(), ids=lambda v: v["name"])
def test_vector_on_the_bridge(vector: dict[str, Any]) -> None:
    state = HallState()
    state.load_snapshot(0, initial())
    for env in envelopes(vector):
        _, gap = state.apply(env)
        assert not gap
    assert _windows(state) == vector["expected"]["windows"]


def test_a_signed_out_window_drops_its_ticket_like_the_snapshot() -> None:
    # The snapshot after a sign-out never shows a ticket at the window; nor does the bridge,
    # whatever it held before (a missed event, say).
    state = HallState()
    state.load_snapshot(0, initial())
    state.apply({"seq": 1, "type": "ticket.called", "data": {"id": 9, "number": "A009", "window": 1}})
    state.apply({"seq": 2, "type": "window.signed_out", "data": {"window": 1}})
    w = state.windows["1"]
    assert (w.state, w.current_number, w.staff_name) == ("closed", None, None)
