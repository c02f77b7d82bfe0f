"""Property-based tests over random sequences of hall operations (hypothesis)."""

from __future__ import annotations

from types import MappingProxyType

from hypothesis import given, settings
from hypothesis import strategies as st

from queueing import lifecycle as lc
from queueing.hallqueue import HallQueue
from queueing.layout import Rules
from queueing.policy import Head, WindowView, choose
from queueing.tickets import PriorityClass, QueueClass, Ticket
from queueing.tickets import TicketStatus as S
from tests.queueing.conftest import T0

RULES = Rules(priority_ratio=2, max_wait_minutes=30, recalls_before_no_show=1, recheckin_places_back=3)
WINDOWS = {
    1: WindowView(1, MappingProxyType({"A": 1.0, "B": 1.0, "C": 1.0})),
    2: WindowView(2, MappingProxyType({"A": 1.0, "B": 3.0})),
    3: WindowView(3, MappingProxyType({"C": 1.0})),
}


def head_of(t: Ticket) -> Head:
    return Head(t.id, t.category, t.queue_class, t.queue_key, t.appointment_start, t.target_window, t.number)


class Hall:
    """The engine driven as the simulator drives it, with bookkeeping to check invariants."""

    def __init__(self) -> None:
        self.q = HallQueue(RULES)
        self.now = T0
        self.tickets: dict[int, Ticket] = {}
        self.holding: dict[int, int] = {}  # window -> ticket id
        self.calls: list[tuple[int, int]] = []
        self.rechecks: list[tuple[int, float]] = []
        self.next_id = 1

    def issue(self, cat: str, pri: bool) -> None:
        t = lc.issue(self.next_id, f"{cat}{self.next_id:03d}", cat, self.now,
                     priority=PriorityClass.ELDERLY if pri else PriorityClass.NORMAL).ticket
        self.next_id += 1
        self.tickets[t.id] = t
        self.q.add(head_of(t))

    def call(self, w: int) -> None:
        if w in self.holding:
            return
        window = WINDOWS[w]
        before = [self.tickets[h.ticket_id] for h in self.q]
        choice = self.q.call(window, self.now)
        servable = [t for t in before if (t.target_window == w) or (t.target_window is None and t.category in window.weights)]
        if choice is None:
            assert servable == [], "a window that can serve a waiting ticket got nothing"
            return
        t = self.tickets[choice.head.ticket_id]
        assert t.status is S.WAITING
        assert t.id not in self.holding.values(), "one ticket at two windows"
        # Max wait: no overdue servable ticket is overtaken by a younger one.
        for o in servable:
            if self.now - o.queue_key > RULES.max_wait_minutes * 60:
                assert (t.queue_key, t.id) <= (o.queue_key, o.id), f"{o.number} overdue, overtaken by {t.number}"
        self.tickets[t.id] = lc.call(t, w, self.now).ticket
        self.holding[w] = t.id
        self.calls.append((t.id, w))

    def act(self, w: int, what: str, arg: int) -> None:
        tid = self.holding.get(w)
        if tid is None:
            return
        t = self.tickets[tid]
        if what == "finish":
            if t.status is S.CALLED:
                t = lc.start(t, self.now).ticket
            t = lc.finish(t, self.now).ticket
            del self.holding[w]
        elif what == "no_show":
            t = lc.no_show(t, self.now).ticket
            del self.holding[w]
        elif what == "transfer":
            cat = "ABC"[arg % 3]
            before_key = t.queue_key
            t = lc.transfer(t, self.now, to_category=cat).ticket
            assert t.queue_key == before_key, "a transferred ticket lost its place"
            del self.holding[w]
            self.q.add(head_of(t))
        self.tickets[tid] = t

    def recheck(self, arg: int) -> None:
        gone = [t for t in self.tickets.values() if t.status is S.NO_SHOW]
        if not gone:
            return
        t = gone[arg % len(gone)]
        keys = self.q.queue_keys(t.category, t.queue_class, RULES.recheckin_places_back + 1)
        t = lc.recheck_in(t, self.now, RULES, keys).ticket
        self.tickets[t.id] = t
        self.rechecks.append((t.id, self.now))
        self.q.add(head_of(t))
        ahead = sorted(k for k in (h.queue_key for h in self.q if h.category == t.category and h.klass == t.queue_class))
        assert ahead.index(t.queue_key) == min(RULES.recheckin_places_back, len(ahead) - 1)

    def cancel(self, arg: int) -> None:
        waiting = sorted(h.ticket_id for h in self.q)
        if waiting:
            tid = waiting[arg % len(waiting)]
            assert self.q.remove(tid) is not None
            self.tickets[tid] = lc.cancel(self.tickets[tid], self.now).ticket

    def check(self) -> None:
        waiting_ids = {h.ticket_id for h in self.q}
        for t in self.tickets.values():
            where = (t.id in waiting_ids) + (t.id in self.holding.values())
            if t.status is S.WAITING:
                assert t.id in waiting_ids and where == 1, f"{t.number} lost"
            elif t.status in (S.CALLED, S.SERVING):
                assert where == 1 and self.holding[t.window] == t.id
            else:
                assert where == 0
        assert len(waiting_ids) == len(self.q)


ops = st.lists(
    st.one_of(
        st.tuples(st.just("issue"), st.sampled_from("ABC"), st.booleans()),
        st.tuples(st.just("call"), st.sampled_from([1, 2, 3]), st.just(0)),
        st.tuples(st.sampled_from(["finish", "no_show", "transfer"]), st.sampled_from([1, 2, 3]), st.integers(0, 9)),
        st.tuples(st.just("recheck"), st.integers(0, 9), st.just(0)),
        st.tuples(st.just("cancel"), st.integers(0, 99), st.just(0)),
        st.tuples(st.just("wait"), st.integers(1, 20), st.just(0)),
    ),
    max_size=120,
)


@settings(max_examples=150, deadline=None)
@given(ops)
def test_random_operations_keep_every_invariant(sequence):
    hall = Hall()
    for op, a, b in sequence:
        if op == "issue":
            hall.issue(a, b)
        elif op == "call":
            hall.call(a)
        elif op in ("finish", "no_show", "transfer"):
            hall.act(a, op, b)
        elif op == "recheck":
            hall.recheck(a)
        elif op == "cancel":
            hall.cancel(a)
        else:
            hall.now += a * 60
        hall.check()
    # With every category served by an open window, nobody waits forever: drain the hall.
    budget = 10 * (len(hall.q) + 3) * len(WINDOWS)
    while len(hall.q) and budget:
        for w in WINDOWS:
            hall.act(w, "finish", 0)
            hall.call(w)
            hall.now += 60
            budget -= 1
        hall.check()
    assert len(hall.q) == 0, "tickets left waiting with open windows that serve them"
    # Every ticket was called at most once per time it waited: calls never exceed waits.
    waits = {t.id: 1 + t.transfers for t in hall.tickets.values()}
    for t in hall.tickets.values():
        assert sum(1 for tid, _ in hall.calls if tid == t.id) <= waits[t.id] + sum(
            1 for tid, _ in hall.rechecks if tid == t.id
        )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("AB"), st.booleans(), st.integers(0, 120)), min_size=1, max_size=60))
def test_the_queue_gives_the_same_order_as_a_full_scan(items):
    """The heads structure chooses what a scan over every waiting ticket would choose."""
    q = HallQueue(RULES)
    all_heads = []
    for i, (cat, pri, minutes) in enumerate(items):
        h = Head(i, cat, QueueClass.PRIORITY if pri else QueueClass.NORMAL, T0 - minutes * 60)
        q.add(h)
        all_heads.append(h)
    window = WINDOWS[2]
    state = q.state(2)
    now = T0
    while all_heads:
        expected = choose(window, all_heads, state, now, RULES)
        got = q.call(window, now)
        assert (got is None) == (expected is None)
        if got is None:
            break
        assert got.head == expected.head
        state = got.state
        all_heads.remove(got.head)
