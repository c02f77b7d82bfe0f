"""The live forecast: from a scripted hall state, with the planner's model and real policy."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from queueing.layout import load_layout
from sim.demand import load_demand
from sim.forecast import AtWindow, HallState, WaitingTicket, arrival_scale, flat_demand, forecast

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOW = 15 * 3600.0  # 15:00: the afternoon's rest is short, so the test stays quick


@pytest.fixture(scope="module")
def county():  # type: ignore[no-untyped-def]
    layout = load_layout(EXAMPLES / "halls" / "county.toml")
    return layout, load_demand(EXAMPLES / "demand" / "county.toml", layout)


def _state(layout, demand, waiting: int, windows: int, arrived: int = 60):  # type: ignore[no-untyped-def]
    cats = [c.code for c in demand.categories]
    tickets = tuple(WaitingTicket(cats[i % len(cats)], NOW - 1800 + i * 5, NOW - 1800 + i * 5)
                    for i in range(waiting))
    open_ = [w.number for w in layout.windows][:windows]
    serving = tuple(AtWindow(w, cats[0], NOW - 120) for w in open_)
    return HallState(NOW, tickets, serving, frozenset(open_), {c: arrived for c in cats})


def test_bands_contain_a_long_simulations_mean(county) -> None:  # type: ignore[no-untyped-def]
    layout, demand = county
    state = _state(layout, demand, waiting=300, windows=30)
    f = forecast(layout, demand, state, hours=2, replications=30, seed=1)
    long = forecast(layout, demand, state, hours=2, replications=120, seed=99)
    inside = total = 0
    for s in f.slots:
        ref = long.slot(s.zone, s.start).waiting
        assert s.waiting.p10 <= s.waiting.p50 <= s.waiting.p90
        total += 1
        # the long run's mean lies near its median; an 80% band holds it in most slots
        inside += s.waiting.p10 - 1 <= ref.p50 <= s.waiting.p90 + 1
    assert total == len(f.zones) * 8
    assert inside / total >= 0.9
    # 300 people are waiting at 15:00: the first slot says so, whatever the draws
    assert sum(f.slot(z, NOW).waiting.p50 for z in f.zones) == 300
    assert 0.0 <= f.service_level.p10 <= f.service_level.p90 <= 1.0


def test_more_open_windows_lower_the_forecast_waits(county) -> None:  # type: ignore[no-untyped-def]
    layout, demand = county
    few = forecast(layout, demand, _state(layout, demand, 300, 20), hours=2, replications=20)
    many = forecast(layout, demand, _state(layout, demand, 300, 30), hours=2, replications=20)
    later = NOW + 3600

    def total_waiting(f):  # type: ignore[no-untyped-def]
        return sum(f.slot(z, later).waiting.p50 for z in f.zones)

    assert total_waiting(many) < total_waiting(few)
    assert many.service_level.p50 > few.service_level.p50
    assert len(many.at_risk) <= len(few.at_risk)


def test_todays_arrivals_scale_the_rest_of_the_day(county) -> None:  # type: ignore[no-untyped-def]
    layout, demand = county
    quiet = _state(layout, demand, 0, 30, arrived=20)
    busy = _state(layout, demand, 0, 30, arrived=200)
    assert arrival_scale(demand, quiet) < 1 < arrival_scale(demand, busy)
    fq = forecast(layout, demand, quiet, hours=1, replications=10)
    fb = forecast(layout, demand, busy, hours=1, replications=10)
    assert sum(s.waiting.p50 for s in fb.slots) > sum(s.waiting.p50 for s in fq.slots)


def test_a_hall_without_profile_forecasts_from_recent_rates(county) -> None:  # type: ignore[no-untyped-def]
    layout, demand = county
    flat = flat_demand(layout, demand.date, {"A": 40.0, "H": 30.0}, {"A": 12.0})
    state = _state(layout, flat, 40, 30, arrived=0)
    f = forecast(layout, flat, state, hours=1, replications=10)
    assert f.zones == tuple(dict.fromkeys(c.zone for c in layout.categories))
    assert not any(math.isnan(s.waiting.p50) for s in f.slots)
