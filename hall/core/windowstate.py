"""A window's state — closed / idle / called / serving / paused — decided in one place.

The snapshot (hall.core.snapshot, which the manager view, screens and the bridge load) takes it
from `window_state`; the JavaScript reducer (displays/static/js/reducer.js) and the bridge
(hardware/hallstate.py) follow the same rule event by event (docs/REDUCER.md), and the vectors
in tests/vectors/reducer/ hold all three to it.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["WindowState", "window_state"]


class WindowState(StrEnum):
    CLOSED = "closed"  # nobody signed in and nothing in hand, or dropped from the layout (未开放 / 未上岗)
    PAUSED = "paused"  # 暂停服务, with its reason
    IDLE = "idle"  # a clerk signed in, holding no ticket (空闲)
    CALLED = "called"  # holding a ticket called and not started (叫号中)
    SERVING = "serving"  # holding a ticket being served (办理中)


def window_state(*, active: bool, signed_in: bool, paused: bool, current_status: str | None) -> WindowState:
    """The state of a window from its row; `current_status` is the status of the ticket it holds
    (None when it holds none).

    A window is in use while a clerk is signed in, it holds a ticket or it is paused: a keypad
    may call at a window nobody signed in to. Otherwise it is closed — never idle, so a hall's
    unstaffed windows read 未上岗 — and sign-out (hall.core.calling.sign_out) leaves it so: it
    refuses while a ticket is in hand and ends the pause.
    """
    if not active:
        return WindowState.CLOSED
    if paused:
        return WindowState.PAUSED
    if current_status == "serving":
        return WindowState.SERVING
    if current_status == "called":
        return WindowState.CALLED
    return WindowState.IDLE if signed_in else WindowState.CLOSED
