"""An in-memory waiting set for one hall: heaps of heads feeding `policy.choose`.

The simulator (and tests) use it; the server keeps the same ordering in indexed SQL instead.
Each (category, queue class) queue and each window's named-transfer queue is a binary heap
ordered by (queue_key, id), so a call costs O(heads + log n) whatever the number waiting.
Removal of a ticket that is not at a head (cancel, reneging, transfer) is lazy: its entry is
marked dead and dropped when it reaches the top.
"""

from __future__ import annotations

from collections.abc import Iterator
from heapq import heappop, heappush, nsmallest
from typing import Any

from queueing.layout import Rules
from queueing.policy import Choice, Head, WindowState, WindowView, choose
from queueing.tickets import QueueClass

__all__ = ["HallQueue"]

_CLASSES = (QueueClass.APPOINTMENT, QueueClass.PRIORITY, QueueClass.NORMAL)
_FRESH = WindowState()


class HallQueue:
    """Waiting tickets of one hall, and the windows' policy states."""

    __slots__ = ("rules", "_queues", "_named", "_entries", "_states", "_plans")

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._queues: dict[tuple[str, QueueClass], list[list[Any]]] = {}
        self._named: dict[int, list[list[Any]]] = {}
        # ticket id -> heap entry [queue_key, id, head-or-None, heap]
        self._entries: dict[int, list[Any]] = {}
        self._states: dict[int, WindowState] = {}
        # window number -> (weights object it was built for, the heaps it reads)
        self._plans: dict[int, tuple[Any, tuple[list[list[Any]], ...]]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, ticket_id: object) -> bool:
        return ticket_id in self._entries

    def __iter__(self) -> Iterator[Head]:
        """The waiting heads in no particular order."""
        for entry in self._entries.values():
            yield entry[2]

    def _heap(self, head: Head) -> list[list[Any]]:
        if head.target_window is not None:
            heap = self._named.get(head.target_window)
            if heap is None:
                heap = self._named[head.target_window] = []
            return heap
        key = (head.category, head.klass)
        heap = self._queues.get(key)
        if heap is None:
            heap = self._queues[key] = []
        return heap

    def add(self, head: Head) -> None:
        """A ticket starts (or starts again) waiting. Raises ValueError if it already waits."""
        if head.ticket_id in self._entries:
            raise ValueError(f"ticket {head.ticket_id} is already waiting")
        heap = self._heap(head)
        entry = [head.queue_key, head.ticket_id, head, heap]
        heappush(heap, entry)
        self._entries[head.ticket_id] = entry

    def remove(self, ticket_id: int) -> Head | None:
        """Take a waiting ticket out (cancel, reneging, transfer); None if it was not waiting."""
        entry = self._entries.pop(ticket_id, None)
        if entry is None:
            return None
        head = entry[2]
        heap = entry[3]
        if heap[0] is entry:
            heappop(heap)
        else:
            entry[2] = None  # dropped when it reaches the top
        return head

    def state(self, window: int) -> WindowState:
        return self._states.get(window, _FRESH)

    def _plan(self, window: WindowView) -> tuple[list[list[Any]], ...]:
        plan = self._plans.get(window.number)
        if plan is not None and plan[0] is window.weights:
            return plan[1]
        heaps = []
        for category in sorted(window.weights):
            for klass in _CLASSES:
                key = (category, klass)
                heap = self._queues.get(key)
                if heap is None:
                    heap = self._queues[key] = []
                heaps.append(heap)
        named = self._named.get(window.number)
        if named is None:
            named = self._named[window.number] = []
        heaps.append(named)
        built = tuple(heaps)
        self._plans[window.number] = (window.weights, built)
        return built

    def heads(self, window: WindowView) -> list[Head]:
        """The heads `choose` needs for this window."""
        out = []
        for heap in self._plan(window):
            while heap:
                head = heap[0][2]
                if head is None:
                    heappop(heap)
                    continue
                out.append(head)
                break
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
        entry = self._entries.pop(choice.head.ticket_id)
        heappop(entry[3])  # a chosen head is always the top of its heap
        self._states[window.number] = choice.state
        return choice

    def queue_keys(self, category: str, klass: QueueClass, limit: int) -> list[float]:
        """The smallest `limit` queue keys waiting in one queue (for re-check-in places)."""
        heap = self._queues.get((category, klass), [])
        live = (e for e in heap if e[2] is not None)
        return [e[0] for e in nsmallest(limit, live)]

    def waiting(self, category: str | None = None) -> int:
        """How many wait (in one category, or in all)."""
        if category is None:
            return len(self._entries)
        return sum(1 for e in self._entries.values() if e[2].category == category)
