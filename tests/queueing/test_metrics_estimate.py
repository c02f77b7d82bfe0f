from __future__ import annotations

import math
import random

import pytest

from queueing.estimate import (
    Estimate,
    competing_categories,
    estimate_wait,
    score_estimates,
    service_stats,
)
from queueing.metrics import (
    abandoned_wait_seconds,
    percentile,
    service_level,
    service_seconds,
    summary,
    wait_seconds,
)
from queueing.tickets import TicketEventType as E


def ev(kind, at, **data):
    return (kind, float(at), data)


def test_plain_wait_ends_at_the_first_call_and_recalls_do_not_count():
    events = [ev(E.ISSUED, 0), ev(E.CALLED, 300), ev(E.RECALLED, 360), ev(E.STARTED, 400), ev(E.FINISHED, 1000)]
    assert wait_seconds(events) == 300
    assert service_seconds(events) == 600


def test_appointment_wait_starts_at_the_later_of_checkin_and_slot():
    assert wait_seconds([ev(E.ISSUED, 0, appointment_start=600), ev(E.CALLED, 900)]) == 300
    assert wait_seconds([ev(E.ISSUED, 700, appointment_start=600), ev(E.CALLED, 900)]) == 200


def test_a_transferred_tickets_waits_add_up_and_service_periods_too():
    events = [
        ev(E.ISSUED, 0), ev(E.CALLED, 100), ev(E.STARTED, 120), ev(E.TRANSFERRED, 400),
        ev(E.CALLED, 700), ev(E.STARTED, 710), ev(E.FINISHED, 810),
    ]
    assert wait_seconds(events) == 100 + 300
    assert service_seconds(events) == 280 + 100


def test_a_rechecked_in_tickets_wait_restarts():
    events = [ev(E.ISSUED, 0), ev(E.CALLED, 500), ev(E.NO_SHOW, 600), ev(E.RECHECKED_IN, 2000), ev(E.CALLED, 2240)]
    assert wait_seconds(events) == 240


def test_open_and_abandoned_waits():
    assert wait_seconds([ev(E.ISSUED, 0)]) is None
    assert wait_seconds([ev(E.ISSUED, 0)], now=120) == 120
    assert abandoned_wait_seconds([ev(E.ISSUED, 0), ev(E.CANCELLED, 1300)]) == 1300
    assert abandoned_wait_seconds([ev(E.ISSUED, 0), ev(E.CALLED, 5), ev(E.NO_SHOW, 60)]) is None


def test_service_level_counts_late_abandons_and_ignores_early_ones():
    waits = [60, 600, 1200]  # two within 15 minutes
    assert service_level(waits, 900) == pytest.approx(2 / 3)
    assert service_level(waits, 900, abandoned=[100, 1000]) == pytest.approx(2 / 4)
    assert service_level([], 900) is None


def test_percentile_is_type_7():
    xs = [1, 2, 3, 4, 10]
    assert percentile(xs, 50) == 3
    assert percentile(xs, 90) == pytest.approx(4 + 0.6 * 6)
    assert percentile([5], 95) == 5
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile(xs, 101)
    s = summary([1.0, 3.0])
    assert s["mean"] == 2.0 and s["p50"] == 2.0 and s["max"] == 3.0


def test_estimate_is_zero_with_an_idle_window_and_grows_with_the_queue():
    assert estimate_wait(0, 4, 10, idle_windows=1) == Estimate(0, 0.0, 0.0)
    small, big = estimate_wait(3, 4, 10), estimate_wait(30, 4, 10)
    assert 0 < small.p50_minutes < small.p90_minutes
    assert big.p50_minutes > small.p50_minutes
    # 30 ahead of 4 windows at 10 min each: around 77 minutes.
    assert 65 < big.p50_minutes < 85
    assert math.isinf(estimate_wait(3, 0, 10).p90_minutes)
    with pytest.raises(ValueError):
        estimate_wait(-1, 1, 1)


def test_estimates_are_calibrated_on_simulated_exponential_service():
    rng = random.Random(3)
    pairs = []
    for _ in range(400):
        ahead, c, m = rng.randint(0, 20), rng.randint(1, 5), 8.0
        # c windows all busy; the ticket is called at completion number ahead+1 (memoryless service).
        t = sum(rng.expovariate(c / m) for _ in range(ahead + 1))
        pairs.append((estimate_wait(ahead, c, m), t))
    score = score_estimates(pairs)
    assert 0.35 < score["share_under_p50"] < 0.7
    assert 0.8 < score["share_under_p90"] < 0.97


def test_competing_categories_and_service_stats(county):
    # B is served by comprehensive windows (A, B, C, D) and market windows (B, A).
    assert competing_categories(county, "B") == {"A", "B", "C", "D"}
    assert competing_categories(county, "E") == {"E"}
    assert service_stats([1, 2], 12.0) == (12.0, 1.0)
    mean, cv = service_stats([10, 10, 10, 10, 10, 10], 12.0)
    assert mean == 10 and cv == 0
    assert score_estimates([])["count"] == 0


def test_no_wait_is_scored_apart_and_a_tie_counts_half():
    told_zero = Estimate(0, 0.0, 0.0)
    score = score_estimates([(told_zero, 0.0), (told_zero, 2.0), (Estimate(3, 4.0, 9.0), 4.0),
                             (Estimate(3, 4.0, 9.0), 3.0), (Estimate(3, 4.0, 9.0), 12.0)])
    assert score["count"] == 5 and score["told_no_wait"] == 2 and score["no_wait_kept"] == 0.5
    # of the three with a spread: a tie at p50 (half), one under both, one over both
    assert score["share_under_p50"] == 1.5 / 3
    assert score["share_under_p90"] == 2 / 3
    assert score["mean_abs_error_minutes"] == (0 + 2 + 0 + 1 + 8) / 5
