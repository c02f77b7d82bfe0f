"""The dispatch policy: which waiting ticket a window gets, and why.

`choose` looks only at *heads* — for each (category, queue class) the window serves, the waiting
ticket with the smallest (queue_key, id), plus the head of the tickets transferred to this window
by name — so its cost does not grow with the number waiting. Order of precedence:

1. **max wait** — a head that has waited longer than `rules.max_wait_minutes` (measured on its
   queue key, its place in time) goes first, the oldest first; named-window tickets count here,
   but only at their own window;
2. **named window** — a ticket transferred to this window by name;
3. **appointment** — an appointment whose slot has begun (less the tolerance), by slot start;
4. **priority ratio** — priority classes (老年人, 残疾人, 军人, 孕妇, 绿色通道) go before normal tickets,
   but after `rules.priority_ratio` priority calls in a row a waiting normal ticket is called;
5. **aging** — inside the group chosen, the largest claim wins: claim = weight × minutes since
   the queue key, where the weight is the window's weight for the ticket's category (default 1);
6. **queue key** — equal claims go to the smaller queue key, then the smaller id.

The same inputs always give the same choice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from queueing.layout import Rules, Window
from queueing.tickets import QueueClass

__all__ = ["Head", "WindowView", "WindowState", "Reason", "Choice", "choose", "decide", "heads_wanted", "RULES"]

_NORMAL = QueueClass.NORMAL
_PRIORITY = QueueClass.PRIORITY
_APPOINTMENT = QueueClass.APPOINTMENT

RULES = ("max_wait", "named_window", "appointment", "priority", "priority_ratio", "aging", "queue_key", "staff_pick")


class Head:
    """A candidate: the best waiting ticket of one queue. `klass` is a QueueClass member.

    A plain slotted class rather than a frozen dataclass: the simulator builds one per person
    and the frozen dataclass's constructor cost a microsecond each. Treat it as read-only.
    """

    __slots__ = ("ticket_id", "category", "klass", "queue_key", "appointment_start", "target_window", "number")

    def __init__(
        self,
        ticket_id: int,
        category: str,
        klass: QueueClass,
        queue_key: float,
        appointment_start: float | None = None,
        target_window: int | None = None,
        number: str = "",
    ) -> None:
        self.ticket_id = ticket_id
        self.category = category
        self.klass = klass
        self.queue_key = queue_key
        self.appointment_start = appointment_start
        self.target_window = target_window
        self.number = number

    def _fields(self) -> tuple[Any, ...]:
        return (self.ticket_id, self.category, self.klass, self.queue_key, self.appointment_start,
                self.target_window, self.number)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Head) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (f"Head({self.ticket_id!r}, {self.category!r}, {self.klass.value!r}, {self.queue_key!r}, "
                f"appointment_start={self.appointment_start!r}, target_window={self.target_window!r}, "
                f"number={self.number!r})")


@dataclass(frozen=True, slots=True)
class WindowView:
    """What the policy needs of a window: its number, the weight of each category it serves
    (every category listed is served; weights > 0), and whether it is paused."""

    number: int
    weights: Mapping[str, float]
    paused: bool = False

    @classmethod
    def of(cls, window: Window, *, paused: bool = False) -> WindowView:
        return cls(window.number, MappingProxyType({s.category: s.weight for s in window.skills}), paused)


@dataclass(frozen=True, slots=True)
class WindowState:
    """A window's policy memory: priority calls made in a row (for the priority ratio)."""

    priority_streak: int = 0

    def after(self, klass: QueueClass) -> WindowState:
        if klass is _PRIORITY:
            n = self.priority_streak + 1
            # the common streaks are shared instances: a frozen dataclass costs a microsecond
            return _STREAKS[n] if n < _SHARED_STREAKS else WindowState(n)
        if klass is _NORMAL:
            return _FRESH if self.priority_streak else self
        return self  # appointments neither count nor reset the streak

    def to_dict(self) -> dict[str, Any]:
        return {"priority_streak": self.priority_streak}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> WindowState:
        return cls(int((data or {}).get("priority_streak", 0)))


_FRESH = WindowState()
_SHARED_STREAKS = 32
_STREAKS = (_FRESH, *(WindowState(n) for n in range(1, _SHARED_STREAKS)))


class Reason:
    """Why a ticket was chosen: the deciding rule and the figures it compared.

    Built cheaply on the hot path; `to_dict()` works out the comparison when someone asks.
    """

    __slots__ = ("rule", "head", "_now", "_heads", "_window", "_state", "_rules")

    def __init__(
        self,
        rule: str,
        head: Head,
        now: float,
        heads: Sequence[Head] = (),
        window: WindowView | None = None,
        state: WindowState | None = None,
        rules: Rules | None = None,
    ) -> None:
        self.rule = rule
        self.head = head
        self._now = now
        self._heads = heads
        self._window = window
        self._state = state
        self._rules = rules

    def __repr__(self) -> str:
        return f"Reason({self.rule!r}, {self.head.number or self.head.ticket_id})"

    def to_dict(self) -> dict[str, Any]:
        h, now = self.head, self._now
        detail: dict[str, Any] = {
            "ticket": h.ticket_id,
            "number": h.number,
            "category": h.category,
            "class": h.klass.value,
            "waited_minutes": round((now - h.queue_key) / 60, 2),
        }
        rules, window, state = self._rules, self._window, self._state
        if self.rule == "max_wait" and rules is not None:
            detail["max_wait_minutes"] = rules.max_wait_minutes
        elif self.rule == "appointment" and h.appointment_start is not None:
            detail["slot_start"] = h.appointment_start
        elif self.rule in ("priority", "priority_ratio") and rules is not None and state is not None:
            detail["priority_streak"] = state.priority_streak
            detail["priority_ratio"] = rules.priority_ratio
        if window is not None:
            weights = window.weights
            detail["claim"] = round(weights.get(h.category, 1.0) * (now - h.queue_key) / 60, 3)
            others = []
            for o in self._heads:
                if o is h or (o.target_window is not None and o.target_window != window.number):
                    continue
                if o.target_window is None and o.category not in weights:
                    continue
                others.append(
                    {
                        "ticket": o.ticket_id,
                        "number": o.number,
                        "category": o.category,
                        "class": o.klass.value,
                        "waited_minutes": round((now - o.queue_key) / 60, 2),
                        "claim": round(weights.get(o.category, 1.0) * (now - o.queue_key) / 60, 3),
                    }
                )
            detail["compared"] = others
        return {"rule": self.rule, "detail": detail}


class Choice:
    """The chosen head, why, and the window's new policy state (read-only, like Head)."""

    __slots__ = ("head", "reason", "state")

    def __init__(self, head: Head, reason: Reason, state: WindowState) -> None:
        self.head = head
        self.reason = reason
        self.state = state

    def __repr__(self) -> str:
        return f"Choice({self.head!r}, {self.reason!r}, {self.state!r})"


def heads_wanted(window: WindowView) -> list[tuple[str, QueueClass]]:
    """The (category, class) queues whose heads `choose` needs for this window (plus the
    window's own named-transfer queue)."""
    return [(c, k) for c in sorted(window.weights) for k in (_APPOINTMENT, _PRIORITY, _NORMAL)]


def choose(
    window: WindowView, heads: Sequence[Head], state: WindowState, now: float, rules: Rules
) -> Choice | None:
    """Choose among the heads for this window; None when paused or nothing it can serve waits.

    Heads the window cannot serve (other categories, other windows' named transfers) are
    ignored, so a caller may pass a superset.
    """
    if window.paused:
        return None
    decided = decide(window, heads, state, now, rules)
    if decided is None:
        return None
    head, rule, after = decided
    if rule is None:
        rule = _aging_or_key(window, heads, head, now + rules.appointment_tolerance_minutes * 60.0)
    return Choice(head, Reason(rule, head, now, heads, window, state, rules), after)


def decide(
    window: WindowView, heads: Sequence[Head], state: WindowState, now: float, rules: Rules
) -> tuple[Head, str | None, WindowState] | None:
    """`choose` without its explanation: (head, deciding rule, new state), or None.

    The rule is None when the claim among normal tickets decided ("aging" or "queue_key"):
    telling those apart walks the heads again, and the simulator, which never reads a reason,
    should not pay for it. Ignores `window.paused` (the caller checks it).
    """
    if len(heads) == 1:
        return _decide_one(window, heads[0], state, now, rules)
    weights = window.weights
    number = window.number
    oldest = rules.max_wait_minutes * 60.0
    overdue_limit = now - oldest  # a key below this has waited past the maximum
    slot_open = now + rules.appointment_tolerance_minutes * 60.0  # slots starting before this are due

    overdue: Head | None = None
    named: Head | None = None
    appt: Head | None = None
    pri: Head | None = None
    pri_claim = 0.0
    norm: Head | None = None
    norm_claim = 0.0

    for h in heads:
        tw = h.target_window
        key = h.queue_key
        if tw is None:
            w = weights.get(h.category)
            if w is None:
                continue
        elif tw == number:
            if key < overdue_limit and (
                overdue is None or key < overdue.queue_key or (key == overdue.queue_key and h.ticket_id < overdue.ticket_id)
            ):
                overdue = h
            if named is None or key < named.queue_key or (key == named.queue_key and h.ticket_id < named.ticket_id):
                named = h
            continue
        else:
            continue
        if key < overdue_limit and (
            overdue is None or key < overdue.queue_key or (key == overdue.queue_key and h.ticket_id < overdue.ticket_id)
        ):
            overdue = h
        k = h.klass
        if k is _APPOINTMENT and h.appointment_start is not None and h.appointment_start <= slot_open:
            if appt is None or key < appt.queue_key or (key == appt.queue_key and h.ticket_id < appt.ticket_id):
                appt = h
        elif k is _PRIORITY:
            claim = w * (now - key)
            if (
                pri is None
                or claim > pri_claim
                or (claim == pri_claim and (key < pri.queue_key or (key == pri.queue_key and h.ticket_id < pri.ticket_id)))
            ):
                pri, pri_claim = h, claim
        else:
            claim = w * (now - key)
            if (
                norm is None
                or claim > norm_claim
                or (claim == norm_claim and (key < norm.queue_key or (key == norm.queue_key and h.ticket_id < norm.ticket_id)))
            ):
                norm, norm_claim = h, claim

    if overdue is not None:
        return overdue, "max_wait", state.after(overdue.klass)
    if named is not None:
        return named, "named_window", state.after(named.klass)
    if appt is not None:
        return appt, "appointment", state
    if pri is not None:
        if norm is None or state.priority_streak < rules.priority_ratio:
            return pri, "priority", state.after(_PRIORITY)
        return norm, "priority_ratio", _FRESH
    if norm is None:
        return None
    return norm, None, state.after(norm.klass)


def _decide_one(
    window: WindowView, h: Head, state: WindowState, now: float, rules: Rules
) -> tuple[Head, str | None, WindowState] | None:
    """`decide` for a single head — most calls in a quiet hall or a one-queue window: the same
    rules in the same order, without the bookkeeping of comparing heads."""
    tw = h.target_window
    if tw is None:
        if h.category not in window.weights:
            return None
    elif tw != window.number:
        return None
    if h.queue_key < now - rules.max_wait_minutes * 60.0:
        return h, "max_wait", state.after(h.klass)
    if tw is not None:
        return h, "named_window", state.after(h.klass)
    k = h.klass
    if k is _APPOINTMENT and h.appointment_start is not None \
            and h.appointment_start <= now + rules.appointment_tolerance_minutes * 60.0:
        return h, "appointment", state
    if k is _PRIORITY:
        return h, "priority", state.after(_PRIORITY)
    return h, None, state.after(k)


def _aging_or_key(window: WindowView, heads: Sequence[Head], norm: Head, slot_open: float) -> str:
    """Aging decided it when a head with an earlier place lost on claim (a heavier weight won)."""
    weights = window.weights
    for h in heads:
        if h is not norm and h.target_window is None and h.klass is not _PRIORITY and h.queue_key < norm.queue_key:
            if h.category in weights and not (h.klass is _APPOINTMENT and h.appointment_start is not None and h.appointment_start <= slot_open):
                return "aging"
    return "queue_key"
