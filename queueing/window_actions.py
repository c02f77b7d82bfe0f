"""What a window may do now: the buttons a staff console enables and the refusals the API answers.

One function for both, read from the transitions' own table (`lifecycle.MOVES_FROM`), so a
console never offers a move the server refuses and the server never refuses one it offered.
"""

from __future__ import annotations

from enum import StrEnum

from queueing.lifecycle import MOVES_FROM
from queueing.tickets import TicketStatus

__all__ = ["WindowAction", "allowed_actions", "refusal"]


class WindowAction(StrEnum):
    """A window's actions, spelled as in the API's paths (…/windows/{w}/no-show)."""

    CALL = "call"
    RECALL = "recall"
    START = "start"
    FINISH = "finish"
    NO_SHOW = "no-show"
    TRANSFER = "transfer"
    SUSPEND = "suspend"
    PAUSE = "pause"
    RESUME = "resume"


# Actions on the window's current ticket, by the transition each runs.
_ON_CURRENT = {
    WindowAction.RECALL: "recall",
    WindowAction.START: "start",
    WindowAction.FINISH: "finish",
    WindowAction.NO_SHOW: "no_show",
    WindowAction.TRANSFER: "transfer",
    WindowAction.SUSPEND: "suspend",
}


def refusal(action: WindowAction | str, current: TicketStatus | str | None, *, paused: bool) -> str | None:
    """The API's error code for `action` at a window now, or None when it is allowed.

    `current`: the status of the window's current ticket (None when it holds none); `paused`:
    the window is in 暂停服务. Calling finishes a ticket being served first, so it is refused
    only while the current ticket is called and not started (window_busy) or when paused.
    """
    action = WindowAction(action)
    status = None if current is None else TicketStatus(current)
    if action is WindowAction.CALL:
        if paused:
            return "window_paused"
        if status is not None and status is not TicketStatus.SERVING:
            return "window_busy"
        return None
    if action is WindowAction.PAUSE:
        return "already_paused" if paused else None
    if action is WindowAction.RESUME:
        return None if paused else "not_paused"
    if status is None:
        return "no_current_ticket"
    return None if status in MOVES_FROM[_ON_CURRENT[action]] else "illegal_move"


def allowed_actions(current: TicketStatus | str | None, *, paused: bool) -> frozenset[WindowAction]:
    """Every action `refusal` lets through now."""
    return frozenset(a for a in WindowAction if refusal(a, current, paused=paused) is None)
