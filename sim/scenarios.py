"""Ready-made layouts and profiles for checks and benchmarks: M/M/c(+M) and two-class halls.

They are built through the same parsers as user files (`queueing.layout.parse_layout`,
`sim.demand.parse_demand`), so they exercise the real validation too.
"""

from __future__ import annotations

from typing import Any

from queueing.layout import HallLayout, parse_layout
from sim.demand import Demand, parse_demand

__all__ = ["mmc_layout_raw", "mmc_case", "two_class_raw", "two_class_case"]


def _categories(codes: list[str]) -> list[dict[str, Any]]:
    return [{"code": c, "name": f"业务{c}", "zone": "main", "service_minutes": 10} for c in codes]


def mmc_layout_raw(c: int, categories: list[str] | None = None) -> dict[str, Any]:
    """A hall of `c` comprehensive windows serving every category (default one category A)."""
    codes = categories or ["A"]
    return {
        "hall": {"code": "mmc", "name": "M/M/c"},
        # a long max wait so the policy stays first-come-first-served, as Erlang C assumes
        "rules": {"max_wait_minutes": 100000},
        "zones": [{"code": "main", "name": "综合"}],
        "categories": _categories(codes),
        "windows": [{"number": i + 1, "kind": "comprehensive"} for i in range(c)],
    }


def mmc_case(c: int, rate_per_hour: float, mean_service_minutes: float,
             patience_minutes: float | None = None, horizon_hours: float = 1000.0,
             warmup_hours: float = 20.0) -> tuple[HallLayout, Demand]:
    """M/M/c (or M/M/c+M with exponential patience) as a stationary profile."""
    layout = parse_layout(mmc_layout_raw(c))
    cat: dict[str, Any] = {
        "rate_per_hour": rate_per_hour,
        "service": {"dist": "exponential", "mean_minutes": mean_service_minutes},
    }
    if patience_minutes is not None:
        cat["patience"] = {"dist": "exponential", "mean_minutes": patience_minutes}
    demand = parse_demand({
        "stationary": {"horizon_hours": horizon_hours, "warmup_hours": warmup_hours},
        "categories": {"A": cat},
    }, layout)
    return layout, demand


def two_class_raw(pooled: int, dedicated_a: int, dedicated_b: int) -> dict[str, Any]:
    """Two categories; `pooled` windows serve both, the others serve one each."""
    windows: list[dict[str, Any]] = []
    n = 0
    for _ in range(pooled):
        n += 1
        windows.append({"number": n, "kind": "comprehensive", "serves": ["A", "B"]})
    for code, count in (("A", dedicated_a), ("B", dedicated_b)):
        for _ in range(count):
            n += 1
            windows.append({"number": n, "kind": "dedicated", "serves": [code]})
    return {
        "hall": {"code": "two", "name": "两类业务"},
        "rules": {"max_wait_minutes": 100000},
        "zones": [{"code": "main", "name": "综合"}],
        "categories": _categories(["A", "B"]),
        "windows": windows,
    }


def two_class_case(pooled: int, dedicated_a: int, dedicated_b: int, rate_a: float,
                   rate_b: float, mean_minutes: float, horizon_hours: float = 200.0,
                   warmup_hours: float = 10.0) -> tuple[HallLayout, Demand]:
    layout = parse_layout(two_class_raw(pooled, dedicated_a, dedicated_b))
    svc = {"dist": "exponential", "mean_minutes": mean_minutes}
    demand = parse_demand({
        "stationary": {"horizon_hours": horizon_hours, "warmup_hours": warmup_hours},
        "categories": {"A": {"rate_per_hour": rate_a, "service": svc},
                       "B": {"rate_per_hour": rate_b, "service": svc}},
    }, layout)
    return layout, demand


_CITY = [  # code, name, zone, tickets a day, mean service minutes
    ("A", "综合受理", "comprehensive", 800, 7.0),
    ("B", "市场主体登记", "comprehensive", 300, 10.0),
    ("C", "工程建设审批", "comprehensive", 100, 15.0),
    ("D", "社会事务", "comprehensive", 400, 6.0),
    ("E", "不动产登记", "estate", 250, 12.0),
    ("F", "户籍办理", "police", 250, 6.0),
    ("G", "出入境证件", "police", 100, 8.0),
    ("H", "社保业务", "insurance", 300, 5.0),
    ("J", "医保业务", "insurance", 200, 5.0),
    ("K", "税务办理", "tax", 250, 8.0),
    ("L", "跨省通办", "cross", 20, 12.0),
    ("M", "帮办代办", "help", 30, 10.0),
]
_CITY_ZONE_WINDOWS = {"estate": 10, "police": 8, "insurance": 9, "tax": 5, "cross": 1, "help": 2}
# share of a day's tickets per 30-minute interval from 08:30 (shut 12:00-14:00, cut-off 17:00)
_SHAPE = [0.07, 0.10, 0.11, 0.10, 0.08, 0.06, 0.04, 0, 0, 0, 0,
          0.07, 0.08, 0.08, 0.07, 0.06, 0.05, 0.03]


def city_case_raw(comprehensive: int = 25) -> tuple[dict[str, Any], dict[str, Any]]:
    """A 60-window city-district hall (25 无差别 + 35 zone windows) and a 3,000-ticket day."""
    zones = sorted({z for _, _, z, _, _ in _CITY})
    layout: dict[str, Any] = {
        "hall": {"code": "district", "name": "某某区政务服务中心"},
        "zones": [{"code": z, "name": z} for z in zones],
        "categories": [{"code": c, "name": n, "zone": z, "service_minutes": m}
                       for c, n, z, _, m in _CITY],
        "windows": [],
    }
    front = [c for c, _, z, _, _ in _CITY if z == "comprehensive"]
    number = 0
    for _ in range(comprehensive):
        number += 1
        layout["windows"].append({"number": number, "kind": "comprehensive", "serves": front})
    for zone, count in _CITY_ZONE_WINDOWS.items():
        for _ in range(count):
            number += 1
            layout["windows"].append({"number": number, "kind": "zone", "zone": zone})
    total = sum(_SHAPE)
    demand: dict[str, Any] = {
        "profile": {"name": "区级大厅 3000 号/日", "start": "08:30", "interval_minutes": 30,
                    "cutoff_minutes": 30, "no_show": 0.03,
                    "patience": {"dist": "lognormal", "mean_minutes": 120, "cv": 0.5},
                    "priority_shares": {"elderly": 0.06, "disabled": 0.01}},
        "categories": {c: {"arrivals": [round(n * s / total, 3) for s in _SHAPE],
                           "service": {"dist": "lognormal", "mean_minutes": m, "cv": 0.6}}
                       for c, _, _, n, m in _CITY},
    }
    return layout, demand
