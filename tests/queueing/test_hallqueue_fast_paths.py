"""`HallQueue.call_id` and `drop_heads` (the simulator's fast paths) agree with `call` and with
removing expired heads one round of `heads` at a time, on fixed-seed random work."""

from __future__ import annotations

import random

import pytest

from queueing.hallqueue import HallQueue
from queueing.layout import Rules
from queueing.policy import WindowView
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
def test_drop_heads_takes_out_the_same_tickets_as_rounds_of_heads(seed: int) -> None:
    rng = random.Random(seed)
    rules = Rules()
    old, new = HallQueue(rules), HallQueue(rules)
    views = _views(rng)
    now, dropped = T0, 0
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
            got = new.drop_heads(view, expired.__contains__)
            assert sorted(got) == sorted(want)
            dropped += len(got)
            assert sorted(h.ticket_id for h in new.heads(view)) == sorted(h.ticket_id for h in old.heads(view))
    assert dropped > 100
    assert len(new) == len(old)
