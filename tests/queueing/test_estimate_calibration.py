"""The analytic estimate (queueing.estimate.estimate_wait) against waits simulated in a FIFO
queue of c windows (Poisson arrivals at 92% load, gamma service of spread cv: exponential, and
near-deterministic at cv 0.2): in every band of positions, the head of the queue (nobody ahead
of the ticket but the windows' current services) included, about half the waits fall under the
p50 and nine in ten under the p90. Fixed seeds, a few thousand tickets a case (well under 1 s).
"""

from __future__ import annotations

import heapq
import random

import pytest

from queueing.estimate import estimate_wait, score_estimates

BANDS = {"head": range(0, 1), "near": range(1, 4), "mid": range(4, 11), "far": range(11, 10_000)}


def _simulate(seed: int, c: int, cv: float, n: int, load: float = 0.92) -> list[tuple[int, int, float]]:
    """(people ahead, idle windows, wait) of each arrival, in mean-service units."""
    rng = random.Random(seed)
    shape = 1.0 / (cv * cv)
    free_at = [0.0] * c  # when each window is next free; FIFO: the earliest one serves next
    starts: list[float] = []  # service starts still to come of those who arrived earlier
    t, out = 0.0, []
    for _ in range(n):
        t += rng.expovariate(c * load)
        while starts and starts[0] <= t:
            heapq.heappop(starts)
        idle = sum(1 for f in free_at if f <= t)
        begin = max(t, heapq.heappop(free_at))
        heapq.heappush(free_at, begin + rng.gammavariate(shape, 1.0 / shape))
        if begin > t:
            heapq.heappush(starts, begin)
        out.append((len(starts) - (begin > t), idle, begin - t))
    return out


@pytest.mark.parametrize(("c", "cv"), [(1, 1.0), (2, 1.0), (4, 1.0), (1, 0.5), (2, 0.5), (4, 0.5), (2, 0.2)])
def test_the_analytic_estimate_is_calibrated_at_every_position(c: int, cv: float) -> None:
    rows = _simulate(seed=11 + c, c=c, cv=cv, n=12_000)[300:]  # from a warmed-up queue
    for band, positions in BANDS.items():
        pairs = [(estimate_wait(ahead, c, 1.0, cv=cv, idle_windows=idle), wait)
                 for ahead, idle, wait in rows if ahead >= idle and ahead - idle in positions]
        score = score_estimates(pairs)
        assert score["count"] >= 300, band
        assert 0.4 <= score["share_under_p50"] <= 0.6, (band, score)  # type: ignore[operator]
        assert 0.85 <= score["share_under_p90"] <= 0.95, (band, score)  # type: ignore[operator]


def test_the_head_of_the_queue_waits_for_the_first_of_the_residual_services() -> None:
    # Exponential service: the first of two busy windows' residuals is one step m/c, exactly.
    head = estimate_wait(0, 2, 10.0)
    assert head.p50_minutes == pytest.approx(5.0 * 0.6931, abs=0.05)
    assert head.p90_minutes == pytest.approx(5.0 * 2.3026, abs=0.05)
    # Near-constant service: one window's residual is about uniform on [0, m], median m/2 ...
    assert estimate_wait(0, 1, 10.0, cv=0.1).p50_minutes == pytest.approx(5.0, abs=0.1)
    # ... and a ticket behind k others waits k services more.
    assert estimate_wait(3, 1, 10.0, cv=0.1).p50_minutes == pytest.approx(35.0, abs=0.5)
    # More spread, longer residual: (1 + cv²)/2 of the mean for one window.
    assert estimate_wait(0, 1, 10.0, cv=2.0).p50_minutes > estimate_wait(0, 1, 10.0, cv=1.0).p50_minutes
    # A free window for the ticket: no wait; more windows: a shorter one.
    assert estimate_wait(1, 3, 10.0, idle_windows=2).p90_minutes == 0.0
    assert estimate_wait(0, 3, 10.0).p50_minutes < head.p50_minutes
