"""Demand as it varies (issue 15, item 2): calendar factors, gamma–Poisson days and their fit."""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
import tomllib
from pathlib import Path
from typing import Any

import pytest

from queueing.layout import parse_layout
from sim.calibrate import calibrate
from sim.demand import DemandError, parse_demand
from sim.eventlog import day_to_events
from sim.model import day_epoch, simulate_day
from sim.population import generate_people
from sim.streams import Streams
from sim.variation import design_factor

ROOT = Path(__file__).resolve().parents[2]
START = "2026-11-23"  # a Monday


def _layout_raw(windows: int = 12) -> dict[str, Any]:
    raw = tomllib.loads((ROOT / "examples/halls/township.toml").read_text(encoding="utf-8"))
    for n in range(5, windows + 1):
        raw["windows"].append({"number": n, "name": f"综合窗口{n}", "kind": "comprehensive",
                               "serves": ["A", "B", "C"]})
    return raw


def _demand_raw(per_day: float, variation: dict[str, Any] | None) -> dict[str, Any]:
    # 08:30-12:00 and 14:00-17:00 in 30-minute intervals, lunch closed
    shape = [1.0] * 7 + [0.0] * 4 + [1.0] * 5
    per = per_day / sum(shape)
    raw: dict[str, Any] = {
        "profile": {"date": START, "start": "08:30", "interval_minutes": 30, "cutoff_minutes": 30,
                    "service": {"dist": "lognormal", "mean_minutes": 8, "cv": 0.5}},
        "categories": {"A": {"arrivals": [round(per * s, 4) for s in shape]}},
    }
    if variation is not None:
        raw["variation"] = variation
    return raw


def _daily_counts(raw: dict[str, Any], days: int, seed: int = 7) -> list[int]:
    layout = parse_layout(_layout_raw())
    demand = parse_demand(raw, layout)
    return [len(generate_people(demand, Streams(seed, d))) for d in range(days)]


def test_days_are_gamma_poisson_with_the_stated_overdispersion() -> None:
    k, mu = 0.05, 200.0
    plain = _daily_counts(_demand_raw(mu, None), 150)
    mixed = _daily_counts(_demand_raw(mu, {"overdispersion": k}), 150)
    assert statistics.variance(plain) == pytest.approx(mu, rel=0.35)
    # variance mu + k mu^2 = 2200 instead of Poisson's 200
    assert statistics.variance(mixed) == pytest.approx(mu + k * mu * mu, rel=0.35)
    assert statistics.mean(mixed) == pytest.approx(mu, rel=0.06)


def test_weekday_and_month_end_factors_follow_the_calendar() -> None:
    variation = {"weekday": {"mon": 1.5, "sat": 0, "sun": 0}, "month_end": {"last_days": 2,
                                                                          "factor": 2.0}}
    layout = parse_layout(_layout_raw())
    demand = parse_demand(_demand_raw(100, variation), layout)
    v = demand.variation
    assert v is not None
    # day 0 is Monday 23 Nov; open days skip the weekend; 30 Nov is a Monday and month-end
    assert [v.date_of(d).isoformat() for d in (0, 4, 5)] == ["2026-11-23", "2026-11-27",
                                                              "2026-11-30"]
    assert v.calendar_factor(dt.date(2026, 11, 24)) == 1.0
    assert v.calendar_factor(dt.date(2026, 11, 30)) == 3.0
    counts = _daily_counts(_demand_raw(100, variation), 10)
    assert counts[5] > 2 * counts[1]  # month-end Monday against an ordinary Tuesday


def test_bad_variation_is_refused_naming_the_field() -> None:
    layout = parse_layout(_layout_raw())
    for bad, field in (({"weekday": {"funday": 1}}, "variation.weekday.funday"),
                       ({"overdispersion": -1}, "variation.overdispersion"),
                       ({"weekday": dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat",
                                                   "sun"), 0)}, "variation.weekday"),
                       ({"periods": [{"from": "2026-09-05", "to": "2026-09-01", "factor": 1.2}]},
                        "variation.periods[0].to")):
        with pytest.raises(DemandError) as e:
            parse_demand(_demand_raw(100, bad), layout)
        assert e.value.field == field


def test_design_day_is_a_high_percentile_of_the_day_to_day_spread() -> None:
    layout = parse_layout(_layout_raw())
    v = parse_demand(_demand_raw(100, {"overdispersion": 0.04, "growth": 1.1}), layout).variation
    assert design_factor(v, "profile") == pytest.approx(1.1)
    p90 = design_factor(v, "p90")
    # Gamma(mean 1, sd 0.2): its 90th percentile is about 1.26, times growth 1.1
    assert p90 == pytest.approx(1.1 * 1.26, rel=0.03)
    assert design_factor(v, "p50") < design_factor(v, "p75") < p90 < design_factor(v, "p95")
    assert design_factor(None, "p90") == 1.0


def test_calibrate_recovers_weekday_factors_and_overdispersion() -> None:
    truth = {"weekday": {"mon": 1.3, "fri": 0.7, "sat": 0, "sun": 0}, "overdispersion": 0.05}
    layout_raw = _layout_raw()
    layout = parse_layout(layout_raw)
    demand = parse_demand(_demand_raw(200, truth), layout)
    assert demand.variation is not None
    envs: list[dict[str, Any]] = []
    tid = seq = 1
    for day in range(80):
        d = dataclasses.replace(demand, date=demand.variation.date_of(day))
        people = generate_people(d, Streams(11, day))
        rec = simulate_day(layout, d, people)
        e = day_to_events(rec, people, "township", day_epoch(d, layout), layout.timezone, tid, seq)
        envs += e
        seq += len(e)
        tid += len(people)
    for env in envs:
        env["at_epoch"] = dt.datetime.fromisoformat(env["at"]).timestamp()
    fitted = calibrate(envs, layout, 30)
    var = fitted["variation"]
    # stated tolerances: weekday factors within 0.1 (about two standard errors over 16 days
    # each), overdispersion within 40% (its moment estimate's se is about 18% over 80 days)
    for day, want in (("mon", 1.3), ("tue", 1.0), ("fri", 0.7), ("sat", 0.0)):
        assert var["weekday"][day] == pytest.approx(want, abs=0.1), day
    assert var["overdispersion"] == pytest.approx(0.05, rel=0.4)
    parse_demand({**fitted, "variation": var}, layout)  # the fitted profile reads back
