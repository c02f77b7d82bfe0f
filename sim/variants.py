"""Layout variants a planner compares, built as raw layout tables (what a layout TOML holds).

- `pooled(raw, k)`: k 无差别 comprehensive windows serving every category;
- `dedicated(raw, demand, n)`: n single-category windows, shared out by offered load;
- `with_comprehensive(raw, k)`: the layout's non-comprehensive (zone, dedicated …) windows kept,
  and exactly k comprehensive windows serving the categories its comprehensive windows served
  (every category when it had none);
- `zone_split(raw, demand, k, z)`: k comprehensive windows plus z zone windows shared between
  the zones by offered load (each zone window serves its zone's categories).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

from sim.demand import Demand

__all__ = ["pooled", "dedicated", "with_comprehensive", "zone_split", "offered_load",
           "share_out"]


def _base(raw: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(raw))
    out["windows"] = []
    return out


def _codes(raw: Mapping[str, Any]) -> list[str]:
    return [c["code"] for c in raw.get("categories", [])]


def pooled(raw: Mapping[str, Any], k: int) -> dict[str, Any]:
    out = _base(raw)
    out["windows"] = [{"number": i + 1, "name": f"综合窗口{i + 1}", "kind": "comprehensive",
                       "serves": "*"} for i in range(k)]
    return out


def offered_load(demand: Demand) -> dict[str, float]:
    """Expected busy window-seconds per category over the day (or per hour when stationary)."""
    out = {}
    for c in demand.categories:
        people = c.rate_per_hour if demand.stationary else sum(c.arrivals)
        out[c.code] = people * c.service.mean
    return out


def share_out(total: int, weights: Mapping[str, float], minimum: int = 1) -> dict[str, int]:
    """Split `total` between keys by weight (largest remainder), at least `minimum` each for a
    positive weight. Raises ValueError when `total` is too small for that."""
    keys = [k for k, w in weights.items() if w > 0]
    if total < minimum * len(keys):
        raise ValueError(f"{total} windows cannot give {minimum} to each of {len(keys)}")
    out = {k: minimum for k in keys}
    rest = total - minimum * len(keys)
    s = sum(weights[k] for k in keys)
    if rest and s > 0:
        exact = {k: rest * weights[k] / s for k in keys}
        for k in keys:
            out[k] += math.floor(exact[k])
        left = total - sum(out.values())
        for k in sorted(keys, key=lambda k: exact[k] - math.floor(exact[k]), reverse=True)[:left]:
            out[k] += 1
    return out


def dedicated(raw: Mapping[str, Any], demand: Demand, n: int) -> dict[str, Any]:
    out = _base(raw)
    counts = share_out(n, offered_load(demand))
    number = 0
    for code in _codes(raw):
        for _ in range(counts.get(code, 0)):
            number += 1
            out["windows"].append({"number": number, "name": f"{code}专窗{number}",
                                   "kind": "dedicated", "serves": [code]})
    return out


def with_comprehensive(raw: Mapping[str, Any], k: int) -> dict[str, Any]:
    out = _base(raw)
    keep = [copy.deepcopy(w) for w in raw.get("windows", [])
            if w.get("kind", "comprehensive") != "comprehensive"]
    comp = [w for w in raw.get("windows", []) if w.get("kind", "comprehensive") == "comprehensive"]
    serves: Any = comp[0].get("serves", "*") if comp else "*"
    numbers = [w["number"] for w in keep]
    number = 0
    windows = []
    for _ in range(k):
        number += 1
        while number in numbers:
            number += 1
        windows.append({"number": number, "name": f"综合窗口{number}", "kind": "comprehensive",
                        "serves": copy.deepcopy(serves)})
    out["windows"] = windows + keep
    return out


def zone_split(raw: Mapping[str, Any], demand: Demand, k: int, z: int) -> dict[str, Any]:
    out = _base(raw)
    zone_of = {c["code"]: c["zone"] for c in raw.get("categories", [])}
    load = offered_load(demand)
    zone_load: dict[str, float] = {}
    for code, w in load.items():
        zone_load[zone_of[code]] = zone_load.get(zone_of[code], 0.0) + w
    counts = share_out(z, zone_load) if z else {}
    windows = [{"number": i + 1, "name": f"综合窗口{i + 1}", "kind": "comprehensive",
                "serves": "*"} for i in range(k)]
    number = k
    for zone, count in counts.items():
        cats = [c for c, zz in zone_of.items() if zz == zone]
        for _ in range(count):
            number += 1
            windows.append({"number": number, "name": f"{zone}窗口{number}", "kind": "zone",
                            "zone": zone, "serves": cats})
    out["windows"] = windows
    return out
