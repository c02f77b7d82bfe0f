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
