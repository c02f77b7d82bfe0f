"""Outputs that do not flatter (issue 15, item 9): both mean waits named, the service level beside
the share of all arrivals called in time, intervals inside what a quantity can be, exact M/D/c."""

from __future__ import annotations

import math

import pytest

from queueing.layout import parse_layout
from sim import analytic as an
from sim.analytic_ref import reference
from sim.demand import parse_demand
from sim.model import simulate_day
from sim.population import generate_people
from sim.results import aggregate, summarise_day
from sim.scenarios import mmc_case, mmc_layout_raw
from sim.stats import estimate, mean_ci
from sim.streams import Streams

REPS = 10


def _days(layout, demand) -> list[dict]:  # type: ignore[no-untyped-def]
    out = []
    for day in range(REPS):
        people = generate_people(demand, Streams(20261202, day))
        out.append(summarise_day(simulate_day(layout, demand, people), people, demand))
    return out


def _inside(values: list[float], exact: float) -> bool:
    _, lo, hi = mean_ci(values, 0.99)
    return lo <= exact <= hi


def test_erlang_a_mean_wait_over_all_arrivals_inside_its_99_interval() -> None:
    # heavy abandonment so the two means differ by far more than the interval's width
    c, per_hour, minutes, patience = 3, 21.0, 10.0, 15.0
    layout, demand = mmc_case(c, per_hour, minutes, patience, horizon_hours=15000 / per_hour,
                              warmup_hours=15000 / per_hour / 20)
    days = _days(layout, demand)
    exact = an.mmc_abandon(c, per_hour / 3600, 1 / (60 * minutes), 1 / (60 * patience))
    assert _inside([d["mean_all_arrivals"] for d in days], exact.mean_wait / 60)
    assert _inside([d["mean_served"] for d in days], exact.mean_wait_served / 60)
    assert not _inside([d["mean_served"] for d in days], exact.mean_wait / 60)
    result = aggregate(days, demand)
    assert set(result["wait_minutes"]) >= {"mean_served", "mean_all_arrivals"}
    ref = reference(layout, demand)
    assert ref["mean_wait_all_arrivals_minutes"] == pytest.approx(exact.mean_wait / 60, abs=1e-4)


def test_share_of_arrivals_called_within_is_beside_the_service_level() -> None:
    layout, demand = mmc_case(3, 21.0, 10.0, 15.0, horizon_hours=300, warmup_hours=10)
    people = generate_people(demand, Streams(3, 0))
    day = summarise_day(simulate_day(layout, demand, people), people, demand)
    exact = an.mmc_abandon(3, 21 / 3600, 1 / 600, 1 / 900)
    # people who gave up within the limit count against the share of arrivals, not the level
    assert day["share_called_within"] < day["service_level"]
    assert day["share_called_within"] == pytest.approx(exact.service_level(900), abs=0.03)
    result = aggregate([day, day], demand)
    assert result["service_level"]["share_called_within"]["value"] == pytest.approx(
        day["share_called_within"], abs=1e-6)


def test_intervals_are_clipped_to_what_the_quantity_can_be() -> None:
    e = estimate([1.0, 1.0, 0.9], lo=0.0, hi=1.0)
    assert e["ci95"][1] == 1.0 and e["ci95"][0] >= 0.0  # type: ignore[index]
    layout, demand = mmc_case(8, 10.0, 10.0, horizon_hours=200, warmup_hours=5)
    days = [summarise_day(simulate_day(layout, demand, p), p, demand)
            for p in (generate_people(demand, Streams(1, d)) for d in range(3))]
    days[0]["service_level"] = 0.97  # a spread that would put an unclipped bound above 1
    result = aggregate(days, demand)
    assert result["service_level"]["ci95"][1] <= 1.0
    assert result["wait_minutes"]["p50"]["ci95"][0] >= 0.0


def test_exact_md1_is_pollaczek_khinchine() -> None:
    lam, d = 0.8, 1.0
    exact = an.mdc(1, lam, d)
    assert exact.mean_wait == pytest.approx(lam * d * d / (2 * (1 - lam * d)), rel=1e-6)
    assert 1 - exact.service_level(0.0) == pytest.approx(0.8, abs=1e-9)


def _mdc_case(c: int, per_hour: float, minutes: float, hours: float):  # type: ignore[no-untyped-def]
    layout = parse_layout(mmc_layout_raw(c))
    demand = parse_demand({
        "stationary": {"horizon_hours": hours, "warmup_hours": hours / 20},
        "categories": {"A": {"rate_per_hour": per_hour,
                             "service": {"dist": "deterministic", "minutes": minutes}}},
    }, layout)
    return layout, demand


def test_simulated_mdc_matches_the_exact_values_and_the_reference_uses_them() -> None:
    c, per_hour, minutes = 10, 54.0, 10.0  # rho = 0.9
    layout, demand = _mdc_case(c, per_hour, minutes, 20000 / per_hour)
    days = _days(layout, demand)
    exact = an.mdc(c, per_hour / 3600, 60 * minutes)
    assert _inside([d["mean"] for d in days], exact.mean_wait / 60)
    assert _inside([d["service_level"] for d in days], exact.service_level(15 * 60))
    ac = an.allen_cunneen_wait(c, per_hour / 3600, 1 / (60 * minutes), 1.0, 0.0)
    assert abs(ac - exact.mean_wait) / exact.mean_wait > 0.02  # the approximation is visibly off
    ref = reference(layout, demand)
    assert ref["model"] == "m_d_c (exact)"
    assert ref["mean_wait_minutes"] == pytest.approx(exact.mean_wait / 60, abs=1e-4)
    assert not math.isnan(ref["service_level"])
