"""Dispatch-policy speed: choices per second with 1,000 / 10,000 / 100,000 tickets waiting.

A choice is `HallQueue.call`: read the heads, run `policy.choose`, take the ticket out of the
waiting set. The waiting count is held within 10% of the target by re-adding tickets between
timed batches (the re-adding is not timed). Tickets arrive as in a hall: a walk-in's queue key
is its issue time, so most keys come in order; 5% come back out of order (transfers,
re-check-ins, resumed tickets) and appointments carry their slot start. Two halls:
- pooled: one category, one window serving it, 10% priority tickets;
- wide: a window serving 10 categories × 3 queue classes (normal, priority, appointment).
Beside each, the simulator's path: `HallQueue.call_id`, the same choice without its `Choice`
and `Reason` (the model never reads why).
Prints JSON. Goals: ≥ 300,000 choices/s pooled; ≥ 50,000 choices/s wide at 100,000 waiting;
cost at 100,000 waiting ≤ 2× the cost at 1,000.
"""

from __future__ import annotations

import json
import os
import platform
import random
import sys
import time
from types import MappingProxyType

from queueing.hallqueue import HallQueue
from queueing.layout import Rules
from queueing.policy import Head, WindowView
from queueing.tickets import QueueClass

T0 = 1_790_000_000.0  # an instant in 2026


def make_head(rng: random.Random, i: int, categories: list[str], now: float, wide: bool) -> Head:
    cat = categories[rng.randrange(len(categories))]
    r = rng.random()
    key = now - rng.uniform(0, 1800) if rng.random() < 0.05 else now
    if wide and r < 0.1:
        slot = now + rng.uniform(-600, 3600)
        return Head(i, cat, QueueClass.APPOINTMENT, slot, appointment_start=slot, number=f"Y{cat}{i:03d}")
    if r < 0.2:
        return Head(i, cat, QueueClass.PRIORITY, key, number=f"V{cat}{i:03d}")
    return Head(i, cat, QueueClass.NORMAL, key, number=f"{cat}{i:03d}")


def run(waiting: int, categories: list[str], calls: int, seed: int = 7, *, ids_only: bool = False) -> dict[str, float]:
    rng = random.Random(seed)
    rules = Rules(max_wait_minutes=10_000)  # keep the max-wait rule from short-circuiting the work
    q = HallQueue(rules)
    window = WindowView(1, MappingProxyType({c: 1.0 + (i % 3) for i, c in enumerate(categories)}))
    wide = len(categories) > 1
    next_id = 0
    now = T0
    for _ in range(waiting):
        q.add(make_head(rng, next_id, categories, now, wide))
        next_id += 1
        now += 0.01
    batch = max(1, waiting // 10)
    done = 0
    elapsed = 0.0
    perf = time.perf_counter
    while done < calls:
        n = min(batch, calls - done)
        call = q.call_id if ids_only else q.call
        t = perf()
        for _ in range(n):
            call(window, now)
        elapsed += perf() - t
        done += n
        now += 1.0
        for _ in range(n):
            q.add(make_head(rng, next_id, categories, now, wide))
            next_id += 1
    return {"waiting": waiting, "choices": calls, "seconds": round(elapsed, 4), "choices_per_second": round(calls / elapsed)}


def main() -> None:
    sizes = [1_000, 10_000, 100_000]
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    pooled = [run(n, ["A"], calls) for n in sizes]
    wide = [run(n, [chr(ord("A") + i) for i in range(10)], calls // 2) for n in sizes]
    pooled_ids = [run(n, ["A"], calls, ids_only=True) for n in sizes]
    wide_ids = [run(n, [chr(ord("A") + i) for i in range(10)], calls // 2, ids_only=True) for n in sizes]

    def ratio(rows: list[dict[str, float]]) -> float:
        return round(rows[0]["choices_per_second"] / rows[-1]["choices_per_second"], 2)

    out = {
        "benchmark": "policy",
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],  # a shared machine
        "pooled_single_category": pooled,
        "window_10_categories_x_3_classes": wide,
        "simulator_call_id": {"pooled_single_category": pooled_ids, "window_10_categories_x_3_classes": wide_ids},
        "cost_ratio_100k_vs_1k": {"pooled": ratio(pooled), "wide": ratio(wide)},
        "goals": {
            "pooled_choices_per_second_min": 300_000,
            "wide_choices_per_second_at_100k_min": 50_000,
            "cost_ratio_max": 2.0,
        },
        "met": {
            "pooled": min(r["choices_per_second"] for r in pooled) >= 300_000,
            "wide": wide[-1]["choices_per_second"] >= 50_000,
            "cost_ratio": ratio(pooled) <= 2.0 and ratio(wide) <= 2.0,
        },
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
