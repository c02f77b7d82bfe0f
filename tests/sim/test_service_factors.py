"""Service time of a person at a window by a clerk (issue 15, item 3)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

import pytest

from queueing.layout import parse_layout
from sim import variants
from sim.calibrate import calibrate
from sim.demand import DemandError, parse_demand
from sim.eventlog import day_to_events
from sim.model import OUTCOME_SERVED, day_epoch, simulate_day
from sim.planning import Target, lower_bound, plan
from sim.population import generate_people
from sim.runner import Config, run_days
from sim.servicetime import staff_speeds
from sim.streams import Streams


def _layout_raw(comprehensive: int, zone: int, help_desk: int = 0) -> dict[str, Any]:
    windows: list[dict[str, Any]] = []
    for _ in range(comprehensive):
        windows.append({"number": len(windows) + 1, "kind": "comprehensive", "serves": "*"})
    for _ in range(zone):
        windows.append({"number": len(windows) + 1, "kind": "zone", "zone": "build",
                        "serves": ["C"]})
    for _ in range(help_desk):
        windows.append({"number": len(windows) + 1, "kind": "help_desk", "serves": ["A"]})
    return {
        "hall": {"code": "sf", "name": "试验大厅", "timezone": "Asia/Shanghai"},
        "hours": {"periods": [["08:30", "12:00"], ["14:00", "17:00"]]},
        "rules": {"max_wait_minutes": 600},
        "zones": [{"code": "general", "name": "综合"}, {"code": "build", "name": "工程建设"}],
        "categories": [
            {"code": "A", "name": "综合受理", "zone": "general", "service_minutes": 8},
            {"code": "C", "name": "工程建设", "zone": "build", "service_minutes": 20}],
        "windows": windows,
    }


SHAPE = [1.0] * 7 + [0.0] * 4 + [1.0] * 5


def _demand_raw(a_per_day: float, c_per_day: float, factors: dict[str, Any] | None,
                c_minutes: float = 20.0) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "profile": {"date": "2026-11-23", "start": "08:30", "interval_minutes": 30,
                    "cutoff_minutes": 30},
        "categories": {
            "A": {"arrivals": [round(a_per_day / 12 * s, 4) for s in SHAPE],
                  "service": {"dist": "lognormal", "mean_minutes": 8, "cv": 0.5}},
            "C": {"arrivals": [round(c_per_day / 12 * s, 4) for s in SHAPE],
                  "service": {"dist": "lognormal", "mean_minutes": c_minutes, "cv": 0.5}}},
    }
    if factors is not None:
        raw["service_factors"] = factors
    return raw


def test_a_generalist_window_takes_longer_on_a_specialist_matter() -> None:
    layout = parse_layout(_layout_raw(2, 1))
    demand = parse_demand(_demand_raw(40, 30, {"generalist": {"C": 1.5}}), layout)
    people = generate_people(demand, Streams(1, 0))
    rec = simulate_day(layout, demand, people)
    ratios = {w: [] for w in (1, 3)}  # type: dict[int, list[float]]
    for i, p in enumerate(people):
        if p.category == "C" and rec.outcome[i] == OUTCOME_SERVED and rec.window[i] in ratios:
            ratios[rec.window[i]].append((rec.service_end[i] - rec.called[i]) / p.service)
    assert ratios[1] and ratios[3]
    assert all(r == pytest.approx(1.5) for r in ratios[1])  # 无差别 window
    assert all(r == pytest.approx(1.0) for r in ratios[3])  # the zone's own window


def test_bad_service_factors_are_refused_naming_the_field() -> None:
    layout = parse_layout(_layout_raw(2, 1))
    for bad, field in (({"generalist": {"Z": 1.2}}, "service_factors.generalist.Z"),
                       ({"window_kind": {"kiosk": 1.2}}, "service_factors.window_kind.kiosk"),
                       ({"staff_cv": -0.1}, "service_factors.staff_cv"),
                       ({"generalist": {"C": 0}}, "service_factors.generalist.C")):
        with pytest.raises(DemandError) as e:
            parse_demand(_demand_raw(40, 30, bad), layout)
        assert e.value.field == field


def test_calibrate_recovers_window_kind_generalist_and_clerk_spread() -> None:
    truth = {"generalist": {"C": 1.4}, "window_kind": {"help_desk": 1.3}, "staff_cv": 0.15}
    layout = parse_layout(_layout_raw(6, 2, 3))
    demand = parse_demand(_demand_raw(180, 60, truth), layout)
    envs: list[dict[str, Any]] = []
    tid = seq = 1
    for day in range(15):
        d = dataclasses.replace(demand, date=demand.date + dt.timedelta(days=day))
        streams = Streams(5, day)
        people = generate_people(d, streams)
        rec = simulate_day(layout, d, people, speeds=staff_speeds(d.service_factors, layout,
                                                                  streams))
        e = day_to_events(rec, people, "sf", day_epoch(d, layout), layout.timezone, tid, seq)
        envs += e
        seq += len(e)
        tid += len(people)
    for env in envs:
        env["at_epoch"] = dt.datetime.fromisoformat(env["at"]).timestamp()
    fitted = calibrate(envs, layout, 30)
    sf = fitted["service_factors"]
    # stated tolerances: factors within 0.12, clerk spread within 0.07 (15 days x 11 windows)
    assert sf["generalist"]["C"] == pytest.approx(1.4, abs=0.12)
    assert sf["window_kind"]["help_desk"] == pytest.approx(1.3, abs=0.12)
    assert sf["staff_cv"] == pytest.approx(0.15, abs=0.07)
    # the category's own time is the specialist's, not inflated by the generalists
    c_mean = fitted["categories"]["C"]["service"]["mean_minutes"]
    assert c_mean == pytest.approx(20.0, rel=0.1)
    parse_demand(fitted, layout)


def _sl(layout_raw: dict[str, Any], demand_raw: dict[str, Any]) -> float:
    per_day = run_days(Config(layout_raw, demand_raw), 8, 4)
    return lower_bound([d["service_level"] for d in per_day], 0.95)


def test_with_a_generalist_slowdown_a_zone_split_beats_pooling() -> None:
    slow = _demand_raw(150, 60, {"generalist": {"C": 1.6}})
    even = _demand_raw(150, 60, None)
    base = _layout_raw(1, 0)
    layout = parse_layout(base)
    k, z = 9, 3
    split = variants.zone_split(base, parse_demand(even, layout), k - z, z)
    pooled = variants.pooled(base, k)
    assert _sl(pooled, even) >= _sl(split, even) - 0.02  # equal speeds: pooling is no worse
    assert _sl(split, slow) > _sl(pooled, slow) + 0.03
    result = plan(base, slow, Target(0.8, 15, 0.95), days=6, seed=4, mode="split",
                  with_sensitivity=False)
    assert not result["layout"].endswith("+ 0 zone") and not math.isnan(result["windows"])
