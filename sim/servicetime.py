"""Service time of a person at a window by a clerk: factors on top of the person's own time.

A person's drawn service time is what the matter takes a specialist at an ordinary window.
The optional `[service_factors]` table of a profile says how the window and its clerk change it:

```toml
[service_factors]
window_kind = { help_desk = 1.3 }   # every service at a window of this kind takes 1.3×
generalist = { C = 1.4 }            # a 无差别 (comprehensive) window on category C takes 1.4×
staff_cv = 0.1                      # clerks differ: each window's speed × lognormal(1, cv 0.1)
```

Without it pooling always looks free: a 无差别 window is as fast on 工程建设 as the zone's own
clerk, so `plan --mode split` could never find a split worth having. The clerk's speed is drawn
per day and window number from its own stream (`Source.STAFF`), so two layouts on one seed give
window 3 the same clerk (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from queueing.layout import HallLayout, WindowKind
from sim.staffing import DemandError
from sim.streams import Source, Streams

__all__ = ["ServiceFactors", "parse_service_factors", "window_factors", "staff_speeds",
           "absent_windows"]


@dataclass(frozen=True, slots=True)
class ServiceFactors:
    window_kind: tuple[tuple[str, float], ...] = ()
    generalist: tuple[tuple[str, float], ...] = ()
    staff_cv: float = 0.0

    def kind_factor(self, kind: str) -> float:
        return dict(self.window_kind).get(kind, 1.0)

    def factor(self, kind: str, category: str) -> float:
        """The window's factor on a category (before the clerk's own speed)."""
        f = self.kind_factor(kind)
        if kind == WindowKind.COMPREHENSIVE:
            f *= dict(self.generalist).get(category, 1.0)
        return f


def parse_service_factors(raw: Any, layout: HallLayout) -> ServiceFactors | None:
    """The `[service_factors]` table (None when absent); raises DemandError naming the field."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise DemandError("service_factors", "must be a table")
    for key in raw:
        if key not in ("window_kind", "generalist", "staff_cv"):
            raise DemandError(f"service_factors.{key}",
                              "unknown field (one of generalist, staff_cv, window_kind)")
    kinds = {k.value for k in WindowKind}
    codes = {c.code for c in layout.categories}
    out: dict[str, list[tuple[str, float]]] = {"window_kind": [], "generalist": []}
    for table, allowed, what in (("window_kind", kinds, "window kind"),
                                 ("generalist", codes, "category")):
        t = raw.get(table, {})
        if not isinstance(t, Mapping):
            raise DemandError(f"service_factors.{table}", "must be a table {name = factor}")
        for key, value in t.items():
            where = f"service_factors.{table}.{key}"
            if key not in allowed:
                raise DemandError(where, f"unknown {what} (one of {', '.join(sorted(allowed))})")
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0.1 <= value <= 10:
                raise DemandError(where, f"must be a factor between 0.1 and 10, got {value!r}")
            out[table].append((key, float(value)))
    cv = raw.get("staff_cv", 0.0)
    if isinstance(cv, bool) or not isinstance(cv, int | float) or not 0 <= cv <= 2:
        raise DemandError("service_factors.staff_cv", f"must be between 0 and 2, got {cv!r}")
    return ServiceFactors(tuple(out["window_kind"]), tuple(out["generalist"]), float(cv))


def staff_speeds(factors: ServiceFactors | None, layout: HallLayout,
                 streams: Streams) -> dict[int, float]:
    """Each window's clerk today: a lognormal multiplier of mean 1 (empty: all equal)."""
    if factors is None or factors.staff_cv <= 0:
        return {}
    s2 = math.log(1 + factors.staff_cv ** 2)
    mu, sd = -s2 / 2, math.sqrt(s2)
    return {w.number: math.exp(streams.get(Source.STAFF, f"speed|{w.number}").gauss(mu, sd))
            for w in layout.windows}


def absent_windows(share: float, layout: HallLayout, streams: Streams) -> frozenset[int]:
    """Windows whose clerk is absent today (each with chance `share`, its own stream)."""
    if share <= 0:
        return frozenset()
    return frozenset(w.number for w in layout.windows
                     if streams.get(Source.STAFF, f"absent|{w.number}").random() < share)


def window_factors(factors: ServiceFactors | None, layout: HallLayout,
                   speeds: Mapping[int, float] | None = None) -> dict[int, dict[str, float]]:
    """Per window number, the factor on each category it serves; empty when all are 1."""
    speeds = speeds or {}
    if factors is None and not speeds:
        return {}
    out: dict[int, dict[str, float]] = {}
    for w in layout.windows:
        s = speeds.get(w.number, 1.0)
        out[w.number] = {sk.category: s * (factors.factor(w.kind.value, sk.category)
                                           if factors is not None else 1.0)
                         for sk in w.skills}
    return out
