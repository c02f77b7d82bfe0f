"""Demand profiles: the examples load, and bad input is refused naming the field."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from queueing.layout import load_layout
from sim.demand import DemandError, load_demand, parse_demand

ROOT = Path(__file__).resolve().parents[2]
COUNTY = ROOT / "examples" / "halls" / "county.toml"


def _raw(name: str) -> dict[str, Any]:
    return tomllib.loads((ROOT / "examples" / "demand" / name).read_text(encoding="utf-8"))


def test_examples_load() -> None:
    layout = load_layout(COUNTY)
    d = load_demand(ROOT / "examples" / "demand" / "county.toml", layout)
    assert 900 < d.expected_total() < 1200
    assert d.cutoff == 17 * 3600  # 30 minutes before 17:30
    assert {c.code for c in d.categories} == {c.code for c in layout.categories}
    noon = load_demand(ROOT / "examples" / "demand" / "county-noon.toml", layout)
    assert len(noon.staff) >= 3  # staggered lunch groups
    township = load_layout(ROOT / "examples" / "halls" / "township.toml")
    steady = load_demand(ROOT / "examples" / "demand" / "township-stationary.toml", township)
    assert steady.stationary and steady.category("A").service.kind == "exponential"


def _bad(mutate: Any, field: str, why: str = "") -> None:
    layout = load_layout(COUNTY)
    raw = copy.deepcopy(_raw("county.toml"))
    mutate(raw)
    with pytest.raises(DemandError) as e:
        parse_demand(raw, layout)
    assert e.value.field == field, str(e.value)
    assert why in e.value.why


def test_negative_rate_names_the_interval() -> None:
    _bad(lambda r: r["categories"]["A"]["arrivals"].__setitem__(2, -1), "categories.A.arrivals[2]",
         "negative")


def test_unknown_category() -> None:
    _bad(lambda r: r["categories"].__setitem__("Z", {"arrivals": [1]}), "categories.Z", "unknown")


def test_unknown_distribution_and_bad_share() -> None:
    _bad(lambda r: r["categories"]["B"].__setitem__("service", {"dist": "pareto"}),
         "categories.B.service.dist", "unknown distribution")
    _bad(lambda r: r["profile"].__setitem__("no_show", 1.5), "categories.A.no_show", "share")


def test_lunch_leaving_no_window_open_while_tickets_are_issued() -> None:
    def noon_tickets_without_staff(r: dict[str, Any]) -> None:
        r["categories"]["E"]["arrivals"][8] = 3.0  # 12:30-13:00, the hall is shut for lunch

    _bad(noon_tickets_without_staff, "categories.E", "12:30-13:00")


def test_category_no_staffed_window_serves() -> None:
    def nobody_for_l(r: dict[str, Any]) -> None:
        r["staff"] = [{"windows": [40], "periods": [["08:30", "09:00"]]}]

    _bad(nobody_for_l, "categories.L", "no window serving it is staffed")


def test_staff_unknown_window() -> None:
    _bad(lambda r: r.__setitem__("staff", [{"windows": [99]}]), "staff[0].windows[0]", "unknown window")


def test_stationary_mode_has_warmup_and_no_breaks() -> None:
    layout = load_layout(COUNTY)
    d = parse_demand({"stationary": {"horizon_hours": 100, "warmup_hours": 5},
                      "categories": {"A": {"rate_per_hour": 30}}}, layout)
    assert d.stationary and d.warmup == 5 * 3600
    assert d.category("A").service.kind == "exponential"
    with pytest.raises(DemandError, match="stationary.warmup_hours"):
        parse_demand({"stationary": {"horizon_hours": 10, "warmup_hours": 10},
                      "categories": {"A": {"rate_per_hour": 30}}}, layout)
