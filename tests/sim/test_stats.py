"""Intervals across replications."""

from __future__ import annotations

import random

import pytest

from sim.stats import estimate, mean_ci, paired_difference, t_quantile
from sim.streams import Source, Streams, stream_seed


def test_t_quantile_matches_tables() -> None:
    assert t_quantile(0.975, 1) == pytest.approx(12.706, abs=1e-3)
    assert t_quantile(0.975, 9) == pytest.approx(2.262, abs=1e-3)
    assert t_quantile(0.995, 29) == pytest.approx(2.756, abs=1e-3)
    assert t_quantile(0.975, 1000) == pytest.approx(1.962, abs=1e-3)


def test_mean_ci_covers_the_true_mean_about_95_percent() -> None:
    rng = random.Random(1)
    hits = 0
    for _ in range(400):
        _, lo, hi = mean_ci([rng.gauss(5.0, 2.0) for _ in range(8)])
        hits += lo <= 5.0 <= hi
    assert 0.91 <= hits / 400 <= 0.99


def test_estimate_shape_and_paired_difference() -> None:
    e = estimate([1.0, 2.0, 3.0])
    assert e["value"] == 2.0 and e["ci95"][0] < 2.0 < e["ci95"][1]
    d = paired_difference([3.0, 4.0, 5.0], [1.0, 2.0, 3.0])
    assert d["value"] == 2.0 and d["variance"] == 0.0
    with pytest.raises(ValueError):
        paired_difference([1.0], [1.0, 2.0])


def test_streams_are_reproducible_and_independent_per_source() -> None:
    a, b = Streams(7, 0), Streams(7, 0)
    assert [a.get(Source.SERVICE).random() for _ in range(3)] == [
        b.get(Source.SERVICE).random() for _ in range(3)]
    assert a.get(Source.ARRIVALS, "A").random() != a.get(Source.ARRIVALS, "B").random()
    assert stream_seed(7, 0, "service") != stream_seed(7, 1, "service")
