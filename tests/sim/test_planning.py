"""Planning: fewest windows, splits between 无差别 and zone windows, layout variants."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from queueing.layout import parse_layout
from sim.demand import parse_demand
from sim.planning import Target, analytic_start, lower_bound, plan
from sim.variants import dedicated, share_out, zone_split

ROOT = Path(__file__).resolve().parents[2]
TOWNSHIP = tomllib.loads((ROOT / "examples/halls/township.toml").read_text(encoding="utf-8"))
DEMAND = {
    "profile": {"start": "08:30", "interval_minutes": 60},
    "categories": {
        "A": {"arrivals": [8, 10, 8, 0, 0, 0, 6, 8, 0]},
        "B": {"arrivals": [4, 5, 4, 0, 0, 0, 3, 4, 0]},
        "C": {"arrivals": [2, 2, 2, 0, 0, 0, 1, 2, 0]},
        "D": {"arrivals": [2, 2, 2, 0, 0, 0, 2, 2, 0]},
    },
}


def test_share_out_is_proportional_with_a_minimum() -> None:
    assert share_out(10, {"a": 3.0, "b": 1.0}) == {"a": 7, "b": 3}
    assert sum(share_out(7, {"a": 1.0, "b": 1.0, "c": 5.0}).values()) == 7
    with pytest.raises(ValueError):
        share_out(1, {"a": 1.0, "b": 1.0})


def test_variants_are_valid_layouts() -> None:
    layout = parse_layout(TOWNSHIP)
    demand = parse_demand(DEMAND, layout)
    d = parse_layout(dedicated(TOWNSHIP, demand, 6))
    assert len(d.windows) == 6 and all(len(w.skills) == 1 for w in d.windows)
    z = parse_layout(zone_split(TOWNSHIP, demand, 2, 1))
    assert [w.kind.value for w in z.windows] == ["comprehensive", "comprehensive", "zone"]


def test_lower_bound_is_below_the_mean() -> None:
    assert lower_bound([0.9, 0.92, 0.94], 0.95) < 0.92
    assert lower_bound([0.9], 0.95) == 0.9


def test_split_plan_is_the_fewest_and_meets() -> None:
    target = Target(0.85, 15, 0.95)
    layout = parse_layout(TOWNSHIP)
    start = analytic_start(parse_demand(DEMAND, layout), target)
    assert start["windows"] >= 1 and start["method"] == "lag_sipp"
    result = plan(TOWNSHIP, DEMAND, target, days=5, seed=2, mode="split")
    k = result["windows"]
    assert len(result["windows_table"]) == k
    tried = {t["windows"]: t for t in result["tried"]}
    assert tried[k]["meets"] and (k == 1 or not tried[k - 1]["meets"])
    pooled = plan(TOWNSHIP, DEMAND, target, days=5, seed=2, mode="pooled")
    assert pooled["windows"] >= k  # the split search includes the all-pooled layout


def test_plan_sizes_for_the_design_day_and_shows_sensitivity_and_weak_hours() -> None:
    from sim.report import render_plan

    target = Target(0.9, 15, 0.95)
    varied = {**DEMAND, "variation": {"overdispersion": 0.04, "forecast_error": 0.05}}
    base = plan(TOWNSHIP, DEMAND, target, days=12, seed=3)
    p90 = plan(TOWNSHIP, varied, target, days=12, seed=3)
    assert base["design_day"]["rule"] == "profile" and p90["design_day"]["rule"] == "p90"
    assert p90["design_day"]["volume_factor"] > 1.2
    assert p90["design_day"]["expected_people"] > 1.2 * base["design_day"]["expected_people"]
    assert p90["windows"] >= base["windows"]
    table = p90["sensitivity"]
    assert [r["windows"] for r in table["rows"]] == [p90["windows"] - 1, p90["windows"],
                                                      p90["windows"] + 1]
    chosen = table["rows"][1]["cases"]
    by_case = {c["case"]: c for c in chosen}
    assert by_case["design day"]["meets"]
    # more demand or slower service can only lower the chosen size's service level
    assert by_case["demand +30%"]["service_level"] < by_case["design day"]["service_level"]
    assert by_case["service time +15%"]["service_level"] < by_case["design day"]["service_level"]
    assert by_case["demand -10%"]["service_level"] >= by_case["demand +10%"]["service_level"]
    # the smaller neighbour fails the target on the design day (that is why k was chosen)
    assert not {c["case"]: c for c in table["rows"][0]["cases"]}["design day"]["meets"]
    assert all(w["service_level"] < 0.9 for w in p90["weak_hours"])
    page = render_plan(p90)
    assert "设计日" in page and "需求 +30%" in page and "推荐方案的薄弱时段" in page  # in words (issue 13)


def test_comprehensive_plan_says_when_the_zone_windows_are_the_limit() -> None:
    # the help desk alone serves D; no number of 无差别 windows (A, B, C) shortens D's queue
    heavy_d = {**DEMAND, "categories": {**DEMAND["categories"],
                                        "D": {"arrivals": [8, 8, 8, 0, 0, 0, 8, 8, 0]}}}
    with pytest.raises(ValueError, match="do not help"):
        plan(TOWNSHIP, heavy_d, Target(0.9, 15, 0.95), days=4, seed=1, mode="comprehensive",
             with_sensitivity=False)
