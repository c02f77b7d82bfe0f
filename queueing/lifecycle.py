"""The life of a ticket as pure transitions.

Each function takes a ticket and the instant, and returns a `Transition`: the new ticket and the
events to record. An illegal move raises `IllegalMove` and changes nothing (tickets are frozen).
The server runs these inside its transaction; the simulator runs them in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from queueing.layout import Rules
from queueing.tickets import (
    Channel,
    IllegalMove,
    MatterProgress,
    PriorityClass,
    SuspendKind,
    Ticket,
    TicketEventType,
    TicketStatus,
)

__all__ = [
    "Transition",
    "issue",
    "call",
    "recall",
    "start",
    "finish",
    "no_show",
    "recheck_in",
    "recheckin_key",
    "transfer",
    "suspend",
    "resume",
    "cancel",
    "close",
    "start_matter",
    "finish_matter",
    "MOVES_FROM",
]

Event = tuple[TicketEventType, dict[str, Any]]

S = TicketStatus
# A gap small against any real interval but representable at epoch magnitudes (ulp ≈ 2e-7 s).
_EPSILON = 1e-3


@dataclass(frozen=True, slots=True)
class Transition:
    ticket: Ticket
    events: tuple[Event, ...]


# The statuses each move starts from: the one table the transitions below check, and that
# queueing.window_actions reads to tell a console which buttons the server will accept.
MOVES_FROM: dict[str, frozenset[TicketStatus]] = {
    "call": frozenset({S.WAITING}),
    "recall": frozenset({S.CALLED}),
    "start": frozenset({S.CALLED}),
    "finish": frozenset({S.SERVING}),
    "no_show": frozenset({S.CALLED}),
    "recheck_in": frozenset({S.NO_SHOW}),
    "transfer": frozenset({S.WAITING, S.CALLED, S.SERVING}),
    "suspend": frozenset({S.CALLED, S.SERVING}),
    "resume": frozenset({S.SUSPENDED}),
    "cancel": frozenset({S.WAITING, S.CALLED, S.SUSPENDED, S.NO_SHOW}),
    "start_matter": frozenset({S.SERVING}),
    "finish_matter": frozenset({S.SERVING}),
}


def _need(t: Ticket, action: str, move: str) -> None:
    if t.status not in MOVES_FROM[move]:
        raise IllegalMove(action, t.status)


def issue(
    id: int,
    number: str,
    category: str,
    now: float,
    *,
    priority: PriorityClass = PriorityClass.NORMAL,
    channel: Channel = Channel.KIOSK,
    appointment_start: float | None = None,
    matters: Sequence[str] = (),
) -> Transition:
    """A new waiting ticket. An appointment's place is its slot start; its wait starts at the
    later of check-in and slot start."""
    key = appointment_start if appointment_start is not None else now
    wait_start = max(now, appointment_start) if appointment_start is not None else now
    t = Ticket(
        id=id,
        number=number,
        category=category,
        priority=PriorityClass(priority),
        channel=Channel(channel),
        status=S.WAITING,
        queue_key=key,
        issued_at=now,
        wait_started_at=wait_start,
        appointment_start=appointment_start,
        matters=tuple(MatterProgress(code) for code in matters),
    )
    data = {"appointment_start": appointment_start, "queue_key": key}
    return Transition(t, ((TicketEventType.ISSUED, data),))


def call(t: Ticket, window: int, now: float) -> Transition:
    """A window calls a waiting ticket (a named-window ticket only by its window)."""
    _need(t, "call", "call")
    if t.target_window is not None and t.target_window != window:
        raise IllegalMove("call", t.status, f"it was transferred to window {t.target_window}")
    waited = t.waited_seconds + max(0.0, now - t.wait_started_at)
    new = replace(t, status=S.CALLED, window=window, called_at=now, recalls=0, target_window=None, waited_seconds=waited)
    return Transition(new, ((TicketEventType.CALLED, {"window": window}),))


def recall(t: Ticket, now: float, rules: Rules) -> Transition:
    """Call the same ticket again; past the hall's limit of recalls it becomes a no-show."""
    _need(t, "recall", "recall")
    if t.recalls >= rules.recalls_before_no_show:
        return no_show(t, now, automatic=True)
    new = replace(t, recalls=t.recalls + 1)
    return Transition(new, ((TicketEventType.RECALLED, {"window": t.window, "recalls": new.recalls}),))


def start(t: Ticket, now: float) -> Transition:
    """The person arrived at the window: service starts."""
    _need(t, "start", "start")
    return Transition(replace(t, status=S.SERVING, started_at=now), ((TicketEventType.STARTED, {"window": t.window}),))


def finish(t: Ticket, now: float) -> Transition:
    """Service done (办结); open matters finish with it."""
    _need(t, "finish", "finish")
    matters = tuple(
        replace(m, started_at=m.started_at or t.started_at, finished_at=now) if m.finished_at is None else m
        for m in t.matters
    )
    new = replace(t, status=S.FINISHED, finished_at=now, matters=matters)
    return Transition(new, ((TicketEventType.FINISHED, {"window": t.window}),))


def no_show(t: Ticket, now: float, *, automatic: bool = False) -> Transition:
    """The called person did not come (过号)."""
    _need(t, "mark a no-show for", "no_show")
    new = replace(t, status=S.NO_SHOW)
    return Transition(new, ((TicketEventType.NO_SHOW, {"window": t.window, "automatic": automatic}),))


def recheckin_key(now: float, queue_keys: Sequence[float], places_back: int) -> float:
    """The queue key that puts a ticket `places_back` places from the head of a queue.

    `queue_keys` are the keys of that queue's waiting tickets, smallest first; only the first
    `places_back + 1` matter. With fewer waiting, the ticket goes to the end (never later than now).
    """
    if places_back <= 0:
        return (queue_keys[0] - _EPSILON) if queue_keys else now
    if len(queue_keys) <= places_back:
        return queue_keys[-1] + _EPSILON if queue_keys else now
    before, after = queue_keys[places_back - 1], queue_keys[places_back]
    return (before + after) / 2 if after - before > 2 * _EPSILON else before + _EPSILON / 2


def recheck_in(t: Ticket, now: float, rules: Rules, queue_keys: Sequence[float]) -> Transition:
    """A no-show comes back: a configured number of places back in its queue, not to the end.

    `queue_keys`: keys of the waiting tickets of its (category, class) queue, smallest first.
    Its wait restarts now (waits before the no-show no longer count).
    """
    _need(t, "re-check-in", "recheck_in")
    key = recheckin_key(now, queue_keys, rules.recheckin_places_back)
    new = replace(
        t, status=S.WAITING, queue_key=key, wait_started_at=now, window=t.window, recalls=0, target_window=None,
        waited_seconds=0.0,
    )
    return Transition(new, ((TicketEventType.RECHECKED_IN, {"queue_key": key}),))


def transfer(
    t: Ticket, now: float, *, to_category: str | None = None, to_window: int | None = None
) -> Transition:
    """Send a ticket to another category or to a named window (转办); it keeps its place in time."""
    _need(t, "transfer", "transfer")
    if (to_category is None) == (to_window is None):
        raise IllegalMove("transfer", t.status, "give either a category or a window")
    if to_window is not None and to_window == t.window and t.status is not S.WAITING:
        raise IllegalMove("transfer", t.status, "it is already at that window")
    new = replace(
        t,
        status=S.WAITING,
        category=to_category or t.category,
        target_window=to_window,
        wait_started_at=now if t.status is not S.WAITING else t.wait_started_at,
        transfers=t.transfers + 1,
        recalls=0,
    )
    data = {"from_category": t.category, "to_category": to_category, "to_window": to_window, "window": t.window}
    return Transition(new, ((TicketEventType.TRANSFERRED, data),))


def suspend(t: Ticket, now: float, kind: SuspendKind | str) -> Transition:
    """Set a ticket aside (挂起) while the person fetches a missing paper."""
    _need(t, "suspend", "suspend")
    kind = SuspendKind(kind)
    new = replace(t, status=S.SUSPENDED, suspend_kind=kind, suspended_by=t.window)
    return Transition(new, ((TicketEventType.SUSPENDED, {"window": t.window, "kind": kind.value}),))


def resume(t: Ticket, now: float, *, window_open: bool, head_key: float | None) -> Transition:
    """Bring a suspended ticket back to the head of the queue of the window that suspended it,
    or of its category when that window is closed.

    `head_key`: the smallest queue key of the queue it rejoins (that window's named queue when
    open, else its category's), or None when that queue is empty.
    """
    _need(t, "resume", "resume")
    key = t.queue_key if head_key is None else min(t.queue_key, head_key - _EPSILON)
    target = t.suspended_by if window_open else None
    new = replace(t, status=S.WAITING, queue_key=key, target_window=target, wait_started_at=now, suspend_kind=None)
    return Transition(new, ((TicketEventType.RESUMED, {"to_window": target, "queue_key": key}),))


def cancel(t: Ticket, now: float, reason: str = "cancelled") -> Transition:
    _need(t, "cancel", "cancel")
    new = replace(t, status=S.CANCELLED, close_reason=reason)
    return Transition(new, ((TicketEventType.CANCELLED, {"reason": reason}),))


def close(t: Ticket, now: float, reason: str) -> Transition:
    """End of day: leftovers are closed with a reason."""
    if t.status in (S.FINISHED, S.CANCELLED, S.CLOSED):
        raise IllegalMove("close", t.status)
    new = replace(t, status=S.CLOSED, close_reason=reason)
    return Transition(new, ((TicketEventType.CLOSED, {"reason": reason, "was": t.status.value}),))


def _matter(t: Ticket, code: str) -> int:
    for i, m in enumerate(t.matters):
        if m.code == code:
            return i
    raise IllegalMove("work on a matter of", t.status, f"the ticket has no matter {code!r}")


def start_matter(t: Ticket, code: str, now: float) -> Transition:
    """Start one matter of a ticket that lists several (一事联办)."""
    _need(t, "start a matter of", "start_matter")
    i = _matter(t, code)
    if t.matters[i].started_at is not None:
        raise IllegalMove("start a matter of", t.status, f"matter {code!r} has already started")
    matters = t.matters[:i] + (replace(t.matters[i], started_at=now),) + t.matters[i + 1 :]
    return Transition(replace(t, matters=matters), ((TicketEventType.MATTER_STARTED, {"matter": code}),))


def finish_matter(t: Ticket, code: str, now: float) -> Transition:
    _need(t, "finish a matter of", "finish_matter")
    i = _matter(t, code)
    m = t.matters[i]
    if m.started_at is None or m.finished_at is not None:
        raise IllegalMove("finish a matter of", t.status, f"matter {code!r} is not in progress")
    matters = t.matters[:i] + (replace(m, finished_at=now),) + t.matters[i + 1 :]
    return Transition(replace(t, matters=matters), ((TicketEventType.MATTER_FINISHED, {"matter": code}),))
