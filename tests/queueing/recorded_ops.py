"""Fixed-seed random work for the dispatch policy, and what it decided, for comparing versions.

`record(seed)` runs a few thousand random add / remove / call operations through `HallQueue`
(several windows with different weights, paused windows, a window whose weights object changes,
named transfers, appointments, priorities, out-of-order keys, tied keys, a short max wait) and
direct `choose` calls on random supersets of heads, and returns every decision made: the ticket,
the rule, the new priority streak, and a digest of each reason's `to_dict()` and of each head
list. `tests/queueing/data/recorded_choices.json` holds what main's code (before the hot-path
work of issues 15/16) decided; regenerate it only on purpose:

    .venv/bin/python -m tests.queueing.recorded_ops > tests/queueing/data/recorded_choices.json
"""

from __future__ import annotations

import hashlib
import json
import random
from types import MappingProxyType
from typing import Any

from queueing.hallqueue import HallQueue
from queueing.layout import Rules
from queueing.policy import Head, WindowState, WindowView, choose
from queueing.tickets import QueueClass

SEEDS = (1, 2, 3)
OPS = 4000
T0 = 1_795_395_600.0
_CATS = ("A", "B", "C", "D")
_PRIORITY_CLASSES = (QueueClass.PRIORITY, QueueClass.NORMAL, QueueClass.NORMAL, QueueClass.NORMAL)


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def _views(rng: random.Random) -> list[WindowView]:
    views = []
    for number in range(1, 6):
        cats = rng.sample(_CATS, rng.randint(1, len(_CATS)))
        weights = {c: rng.choice((1.0, 1.0, 2.0, 0.5, 3.0)) for c in cats}
        views.append(WindowView(number, MappingProxyType(weights), paused=number == 5 and rng.random() < 0.5))
    return views


def _head(rng: random.Random, i: int, now: float) -> Head:
    cat = rng.choice(_CATS)
    r = rng.random()
    key = now if rng.random() < 0.7 else now - rng.uniform(0, 2400)
    if rng.random() < 0.1:
        key = round(key, -1)  # tied keys: the id decides
    target = rng.randint(1, 6) if rng.random() < 0.08 else None
    if r < 0.12:
        slot = round(now + rng.uniform(-1800, 3600), -1)
        return Head(i, cat, QueueClass.APPOINTMENT, slot, appointment_start=slot, target_window=target,
                    number=f"Y{cat}{i:03d}")
    klass = rng.choice(_PRIORITY_CLASSES) if r < 0.5 else QueueClass.NORMAL
    return Head(i, cat, klass, key, target_window=target, number=f"{cat}{i:03d}")


def _choice_row(choice: Any) -> list[Any]:
    if choice is None:
        return [None]
    return [choice.head.ticket_id, choice.reason.rule, choice.state.priority_streak,
            _digest(choice.reason.to_dict())]


def record(seed: int, ops: int = OPS) -> dict[str, Any]:
    rng = random.Random(seed)
    rules = Rules(priority_ratio=rng.randint(1, 3), max_wait_minutes=rng.choice((45.0, 240.0)),
                  appointment_tolerance_minutes=rng.choice((0.0, 15.0)))
    q = HallQueue(rules)
    views = _views(rng)
    now = T0
    next_id = 0
    waiting: list[int] = []
    rows: list[list[Any]] = []
    for _ in range(ops):
        now += rng.choice((0.0, 0.0, 1.0, 7.5, 30.0))
        r = rng.random()
        if r < 0.45:
            h = _head(rng, next_id, now)
            next_id += 1
            q.add(h)
            waiting.append(h.ticket_id)
        elif r < 0.52 and waiting:
            tid = waiting.pop(rng.randrange(len(waiting)))
            got = q.remove(tid)
            rows.append(["remove", tid, None if got is None else got.ticket_id])
        elif r < 0.54:
            k = rng.randrange(len(views))  # a new weights object for the same window
            old = views[k]
            weights = dict(old.weights)
            weights[rng.choice(_CATS)] = rng.choice((1.0, 2.0))
            views[k] = WindowView(old.number, MappingProxyType(weights), paused=old.paused)
        elif r < 0.58:
            cat, klass = rng.choice(_CATS), rng.choice(list(QueueClass)[:3])
            rows.append(["keys", cat, klass.value, _digest(q.queue_keys(cat, klass, 4)), q.waiting(cat), len(q)])
        elif r < 0.64:
            # choose on a shuffled random superset of heads, with a random state
            pool = [_head(rng, 100_000 + j, now) for j in range(rng.randint(0, 12))]
            rng.shuffle(pool)
            view = rng.choice(views)
            state = WindowState(rng.randint(0, 4))
            rows.append(["choose", view.number, _choice_row(choose(view, pool, state, now, rules))])
        else:
            view = rng.choice(views)
            heads = q.heads(view)
            choice = q.call(view, now)
            if choice is not None:
                waiting.remove(choice.head.ticket_id)
            rows.append(["call", view.number, _digest([h.ticket_id for h in heads]), _choice_row(choice),
                         q.state(view.number).priority_streak])
    return {"seed": seed, "ops": ops, "rows": rows}


def main() -> None:
    print(json.dumps([record(s) for s in SEEDS], separators=(",", ":")))


if __name__ == "__main__":
    main()
