"""The simulator's fast paths agree with the general ones on fixed-seed random work:
`HallQueue.call_id` with `call`; `call_id` told who has expired with removing expired heads one
round of `heads` at a time and then calling; `decide` on one head with its general loop."""

from __future__ import annotations

import random

import pytest

from queueing.hallqueue import HallQueue
from queueing.layout import Rules
from queueing.policy import Head, WindowState, WindowView, decide
from queueing.tickets import QueueClass
from tests.queueing.recorded_ops import T0, _head, _views


@pytest.mark.parametrize("seed", [11, 12])
def test_call_id_makes_the_same_calls_as_call(seed: int) -> None:
    rng = random.Random(seed)
    rules = Rules(priority_ratio=2, max_wait_minutes=60.0)
    slow, fast = HallQueue(rules), HallQueue(rules)
    views = _views(rng)
    now, called = T0, 0
    for i in range(3000):
        now += rng.choice((0.0, 1.0, 20.0))
        if rng.random() < 0.5:
            h = _head(rng, i, now)
            slow.add(h)
            fast.add(h)
        else:
            view = rng.choice(views)
            choice = slow.call(view, now)
            assert fast.call_id(view, now) == (None if choice is None else choice.head.ticket_id)
            assert fast.state(view.number) == slow.state(view.number)
            called += choice is not None
    assert called > 500
    assert len(fast) == len(slow)


def _purge_by_rounds(q: HallQueue, view: WindowView, expired: set[int]) -> set[int]:
    """The simulator's old way: remove expired heads, look at the heads again, until none."""
    gone: set[int] = set()
    while True:
        hit = [h.ticket_id for h in q.heads(view) if h.ticket_id in expired]
        if not hit:
            return gone
        for i in hit:
            assert q.remove(i) is not None
        gone.update(hit)


@pytest.mark.parametrize("seed", [21, 22])
def test_call_id_drops_the_same_expired_heads_as_rounds_of_heads(seed: int) -> None:
    rng = random.Random(seed)
    rules = Rules()
    old, new = HallQueue(rules), HallQueue(rules)
    views = _views(rng)
    now, dropped, calls = T0, 0, 0
    for i in range(3000):
        now += 1.0
        r = rng.random()
        if r < 0.6:
            h = _head(rng, i, now)
            old.add(h)
            new.add(h)
        elif r < 0.7 and len(old):
            victim = rng.choice([h.ticket_id for h in old])  # a removal not at a head: lazy
            old.remove(victim)
            new.remove(victim)
        else:
            view = rng.choice(views)
            expired = {h.ticket_id for h in old if rng.random() < 0.5}
            want = _purge_by_rounds(old, view, expired)
            choice = old.call(view, now)
            got: list[int] = []
            assert new.call_id(view, now, expired.__contains__, got) == (None if choice is None else choice.head.ticket_id)
            assert sorted(got) == sorted(want)
            dropped += len(got)
            calls += choice is not None
            assert sorted(h.ticket_id for h in new.heads(view)) == sorted(h.ticket_id for h in old.heads(view))
    assert dropped > 100 and calls > 100
    assert len(new) == len(old)


@pytest.mark.parametrize("seed", [31, 32])
def test_one_head_decides_as_in_company(seed: int) -> None:
    """A lone head goes through `decide`'s one-head path; beside a head the window cannot
    serve (another window's transfer) it goes through the general loop: the same answer."""
    rng = random.Random(seed)
    views = _views(rng)
    rules = Rules(priority_ratio=rng.randint(1, 3), max_wait_minutes=30.0, appointment_tolerance_minutes=10.0)
    outsider = Head(10**6, "A", QueueClass.NORMAL, T0, target_window=99)
    rule_seen = set()
    for i in range(2000):
        now = T0 + rng.uniform(0, 3600)
        h = _head(rng, i, now + rng.uniform(-1800, 600))
        view = rng.choice(views)
        state = WindowState(rng.randint(0, 3))
        alone = decide(view, [h], state, now, rules)
        assert alone == decide(view, [outsider, h], state, now, rules)
        rule_seen.add("nothing it serves" if alone is None else alone[1])
    # a None rule: a normal ticket's claim decided (aging or queue key, told apart by `choose`)
    assert rule_seen == {"nothing it serves", None, "max_wait", "named_window", "appointment", "priority"}
