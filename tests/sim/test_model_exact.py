"""The hall model, with the real policy in the loop, against exact M/M/c and M/M/c+M results.

Each check runs independent stationary replications (warm-up left out) and asserts that the
exact value lies inside the simulated 99% confidence interval.
"""

from __future__ import annotations

import pytest

from sim.analytic import mmc, mmc_abandon
from sim.model import simulate_day
from sim.population import generate_people
from sim.results import summarise_day
from sim.scenarios import mmc_case
from sim.stats import mean_ci
from sim.streams import Streams

REPS = 10


def _replicate(c: int, per_hour: float, minutes: float, patience: float | None,
               hours: float) -> list[dict]:
    layout, demand = mmc_case(c, per_hour, minutes, patience, horizon_hours=hours,
                              warmup_hours=hours / 20)
    out = []
    for day in range(REPS):
        people = generate_people(demand, Streams(20261121, day))
        out.append(summarise_day(simulate_day(layout, demand, people), people, demand))
    return out


def _covers(values: list[float], exact: float) -> tuple[bool, tuple[float, float, float]]:
    m, lo, hi = mean_ci(values, 0.99)
    return lo <= exact <= hi, (m, lo, hi)


@pytest.mark.parametrize(
    ("c", "per_hour", "minutes"),
    [(1, 4.8, 10.0), (5, 25.5, 10.0), (10, 54.0, 10.0), (30, 160.0, 10.0)],
)
def test_erlang_c_mean_wait_and_service_level(c: int, per_hour: float, minutes: float) -> None:
    # ~20,000 people per replication
    hours = 20000 / per_hour
    days = _replicate(c, per_hour, minutes, None, hours)
    exact = mmc(c, per_hour / 3600, 1 / (60 * minutes))
    ok, got = _covers([d["mean"] for d in days], exact.mean_wait / 60)
    assert ok, f"mean wait {got} vs exact {exact.mean_wait / 60}"
    ok, got = _covers([d["service_level"] for d in days], exact.service_level(15 * 60))
    assert ok, f"service level {got} vs exact {exact.service_level(900)}"
    ok, got = _covers([d["utilisation"] for d in days], exact.utilisation)
    assert ok, f"utilisation {got} vs exact {exact.utilisation}"


@pytest.mark.parametrize(
    ("c", "per_hour", "minutes", "patience"),
    [(3, 21.0, 10.0, 15.0), (10, 63.0, 10.0, 60.0), (5, 33.0, 10.0, 60.0)],
)
def test_erlang_a_abandonment_wait_and_service_level(c: int, per_hour: float, minutes: float,
                                                     patience: float) -> None:
    hours = 15000 / per_hour
    days = _replicate(c, per_hour, minutes, patience, hours)
    exact = mmc_abandon(c, per_hour / 3600, 1 / (60 * minutes), 1 / (60 * patience))
    ok, got = _covers([d["abandonment_rate"] for d in days], exact.p_abandon)
    assert ok, f"abandonment {got} vs exact {exact.p_abandon}"
    ok, got = _covers([d["mean"] for d in days], exact.mean_wait_served / 60)
    assert ok, f"mean wait of the served {got} vs exact {exact.mean_wait_served / 60}"
    ok, got = _covers([d["service_level"] for d in days], exact.metrics_service_level(900))
    assert ok, f"service level {got} vs exact {exact.metrics_service_level(900)}"
