"""An in-memory waiting set for one hall: heaps of heads feeding `policy.choose`.

The simulator (and tests) use it; the server keeps the same ordering in indexed SQL instead.
Each (category, queue class) queue and each window's named-transfer queue is ordered by
(queue_key, id) and kept in two parts: a run of entries that arrived in key order (a deque — most
tickets, since a walk-in's key is its issue time) and a binary heap of those that did not
(transfers, re-check-ins, resumed tickets, appointments). The head is the smaller of the two
fronts, so a call costs O(heads) for in-order tickets and O(heads + log n) at worst, whatever the
number waiting. Removal of a ticket that is not at a head (cancel, reneging, transfer) is lazy:
its entry is marked dead and dropped when it reaches the front.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from heapq import heappop, heappush, nsmallest
from typing import Any

from queueing.layout import Rules
from queueing.policy import Choice, Head, WindowState, WindowView, choose, decide
from queueing.tickets import QueueClass

__all__ = ["HallQueue"]

_CLASSES = (QueueClass.APPOINTMENT, QueueClass.PRIORITY, QueueClass.NORMAL)
_FRESH = WindowState()
_Queue = tuple[deque[list[Any]], list[list[Any]]]


def _drop_dead(run: deque[list[Any]], heap: list[list[Any]]) -> None:
    """Drop the removed entries (marked dead) from the fronts of a queue's two parts."""
    while run and run[0][2] is None:
        run.popleft()
    while heap and heap[0][2] is None:
        heappop(heap)


class HallQueue:
    """Waiting tickets of one hall, and the windows' policy states."""

    __slots__ = ("rules", "count", "_queues", "_named", "_entries", "_states", "_plans")

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        # each queue: (in-order deque, heap of the rest); entries are [queue_key, id, head|None, queue]
        self._queues: dict[tuple[str, QueueClass], _Queue] = {}
        self._named: dict[int, _Queue] = {}
        self._entries: dict[int, list[Any]] = {}
        self._states: dict[int, WindowState] = {}
        # window number -> (weights object it was built for, the queues it reads)
        self._plans: dict[int, tuple[Any, tuple[_Queue, ...]]] = {}
        # how many wait, as the dict's own C method: the simulator asks on nearly every event
        self.count = self._entries.__len__

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, ticket_id: object) -> bool:
        return ticket_id in self._entries

    def __iter__(self) -> Iterator[Head]:
        """The waiting heads in no particular order."""
        for entry in self._entries.values():
            yield entry[2]

    def _queue(self, head: Head) -> _Queue:
        if head.target_window is not None:
            q = self._named.get(head.target_window)
            if q is None:
                q = self._named[head.target_window] = (deque(), [])
            return q
        key = (head.category, head.klass)
        q = self._queues.get(key)
        if q is None:
            q = self._queues[key] = (deque(), [])
        return q

    def add(self, head: Head) -> None:
        """A ticket starts (or starts again) waiting. Raises ValueError if it already waits."""
        entries = self._entries
        ticket_id = head.ticket_id
        if ticket_id in entries:
            raise ValueError(f"ticket {ticket_id} is already waiting")
        # the common case inline (a walk-in in a queue that exists): this runs once a person
        q = self._queues.get((head.category, head.klass)) if head.target_window is None else None
        if q is None:
            q = self._queue(head)
        entry = [head.queue_key, ticket_id, head, q]
        run = q[0]
        if not run or run[-1] < entry:
            run.append(entry)
        else:
            heappush(q[1], entry)
        entries[ticket_id] = entry

    def remove(self, ticket_id: int) -> Head | None:
        """Take a waiting ticket out (cancel, reneging, transfer); None if it was not waiting."""
        entry = self._entries.pop(ticket_id, None)
        if entry is None:
            return None
        head = entry[2]
        run, heap = entry[3]
        if run and run[0] is entry:
            run.popleft()
        elif heap and heap[0] is entry:
            heappop(heap)
        else:
            entry[2] = None  # dropped when it reaches the front
        return head

    def state(self, window: int) -> WindowState:
        return self._states.get(window, _FRESH)

    def _plan(self, window: WindowView) -> tuple[_Queue, ...]:
        plan = self._plans.get(window.number)
        if plan is not None and plan[0] is window.weights:
            return plan[1]
        queues = []
        for category in sorted(window.weights):
            for klass in _CLASSES:
                key = (category, klass)
                q = self._queues.get(key)
                if q is None:
                    q = self._queues[key] = (deque(), [])
                queues.append(q)
        named = self._named.get(window.number)
        if named is None:
            named = self._named[window.number] = (deque(), [])
        queues.append(named)
        built = tuple(queues)
        self._plans[window.number] = (window.weights, built)
        return built

    def heads(self, window: WindowView) -> list[Head]:
        """The heads `choose` needs for this window."""
        plan = self._plans.get(window.number)
        queues = plan[1] if plan is not None and plan[0] is window.weights else self._plan(window)
        out = []
        for run, heap in queues:
            if not (run or heap):  # most queues a wide window reads are empty: two tests each
                continue
            if run and run[0][2] is None or heap and heap[0][2] is None:
                _drop_dead(run, heap)
            if run:
                out.append(heap[0][2] if heap and heap[0] < run[0] else run[0][2])
            elif heap:
                out.append(heap[0][2])
        return out

    def call(self, window: WindowView, now: float) -> Choice | None:
        """Choose for this window, take the ticket out of the waiting set, keep the new state."""
        if window.paused:
            return None
        heads = self.heads(window)
        if not heads:
            return None
        choice = choose(window, heads, self._states.get(window.number, _FRESH), now, self.rules)
        if choice is None:
            return None
        self._take(choice.head.ticket_id)
        self._states[window.number] = choice.state
        return choice

    def call_id(
        self,
        window: WindowView,
        now: float,
        expired: Callable[[int], bool] | None = None,
        dropped: list[int] | None = None,
    ) -> int | None:
        """`call` for callers that need only the ticket (the simulator): the same choice, the
        same new state, but no `Choice` or `Reason` is built. The chosen ticket id, or None.

        With `expired` (a test on a ticket id; the simulator's reneging: who has run out of
        patience by now), first each of the window's queues loses the heads it holds for, until
        its head is one it does not; their ids are appended to `dropped`. This is one walk of
        the queues, not one to take them out and another to read the heads."""
        if expired is not None:
            heads = self._heads_dropping(window, expired, [] if dropped is None else dropped)
            if window.paused:
                return None
        elif window.paused:
            return None
        else:
            heads = self.heads(window)
        if not heads:
            return None
        number = window.number
        decided = decide(window, heads, self._states.get(number, _FRESH), now, self.rules)
        if decided is None:
            return None
        ticket_id: int = decided[0].ticket_id
        self._take(ticket_id)
        self._states[number] = decided[2]
        return ticket_id

    def _heads_dropping(self, window: WindowView, expired: Callable[[int], bool], dropped: list[int]) -> list[Head]:
        """`heads`, after taking the expired heads out of each queue (see `call_id`)."""
        entries = self._entries
        out = []
        for run, heap in self._plan(window):
            while run or heap:
                if run and run[0][2] is None or heap and heap[0][2] is None:
                    _drop_dead(run, heap)
                    continue
                from_heap = bool(heap) and (not run or heap[0] < run[0])
                entry = (heap if from_heap else run)[0]
                if not expired(entry[1]):
                    out.append(entry[2])
                    break
                if from_heap:
                    heappop(heap)
                else:
                    run.popleft()
                del entries[entry[1]]
                dropped.append(entry[1])
        return out

    def _take(self, ticket_id: int) -> None:
        entry = self._entries.pop(ticket_id)
        run, heap = entry[3]
        if run and run[0] is entry:  # a chosen head is always at the front of its run or heap
            run.popleft()
        else:
            heappop(heap)

    def queue_keys(self, category: str, klass: QueueClass, limit: int) -> list[float]:
        """The smallest `limit` queue keys waiting in one queue (for re-check-in places)."""
        q = self._queues.get((category, klass))
        if q is None:
            return []
        live = (e for part in q for e in part if e[2] is not None)
        return [e[0] for e in nsmallest(limit, live)]

    def waiting(self, category: str | None = None) -> int:
        """How many wait (in one category, or in all)."""
        if category is None:
            return len(self._entries)
        return sum(1 for e in self._entries.values() if e[2].category == category)
