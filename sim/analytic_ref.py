"""The analytic figures shown beside simulated results (report and `run` JSON).

Stationary profile, every window serving every category: Erlang C (exponential service),
Erlang A (exponential patience), exact M/D/c (one fixed service time) or Allen–Cunneen (other
service laws; an approximation, and the output says so) for the pooled hall. Waits are named by
whom they average over: `mean_wait_served_minutes` (those called) and
`mean_wait_all_arrivals_minutes` (everyone, a person who gave up counting until they left).
Hall day: lag-SIPP windows needed per interval for 90% within the profile's limit, next to the
windows the layout has — a quick sanity check on the simulation, not a replacement for it.
"""

from __future__ import annotations

import math
from typing import Any

from queueing.layout import HallLayout
from sim import analytic
from sim.demand import Demand

__all__ = ["reference"]


def _mix(demand: Demand, weights: list[float]) -> tuple[float, float]:
    """Mean and squared CV of the service time of a random person (a mixture)."""
    total = sum(weights)
    m1 = sum(w * c.service.mean for w, c in zip(weights, demand.categories, strict=True)) / total
    m2 = sum(w * c.service.mean ** 2 * (1 + c.service.cv2)
             for w, c in zip(weights, demand.categories, strict=True)) / total
    return m1, max(m2 / (m1 * m1) - 1.0, 0.0)


def reference(layout: HallLayout, demand: Demand) -> dict[str, Any]:
    within = demand.service_level_minutes * 60
    all_codes = {c.code for c in demand.categories}
    pooled = all(all_codes <= w.categories for w in layout.windows)
    c = len(layout.windows)
    if demand.stationary:
        rates = [cd.rate_per_hour / 3600 for cd in demand.categories]
        lam = sum(rates)
        if lam <= 0:
            return {}
        mean, cs2 = _mix(demand, rates)
        out: dict[str, Any] = {"model": "", "windows": c, "offered_load_erlangs": round(lam * mean, 4)}
        if not pooled:
            out["model"] = "none (windows do not all serve every category)"
            return out
        patience = {cd.patience.mean if cd.patience and cd.patience.kind == "exponential" else None
                    for cd in demand.categories}
        if cs2 == 1.0 and all(cd.service.kind == "exponential" for cd in demand.categories) \
                and len({cd.service.mean for cd in demand.categories}) == 1:
            if patience == {None} and all(cd.patience is None for cd in demand.categories):
                if lam * mean >= c:
                    out["model"] = "erlang_c (unstable: load ≥ windows)"
                    return out
                e = analytic.mmc(c, lam, 1 / mean)
                w = round(e.mean_wait / 60, 4)
                out.update(model="erlang_c", mean_wait_minutes=w, mean_wait_served_minutes=w,
                           mean_wait_all_arrivals_minutes=w,
                           service_level=round(e.service_level(within), 6),
                           p_wait=round(e.p_wait, 6), utilisation=round(e.utilisation, 6))
                return out
            only = next(iter(patience)) if len(patience) == 1 else None
            if only is not None:
                theta = 1 / only
                a = analytic.mmc_abandon(c, lam, 1 / mean, theta)
                out.update(model="erlang_a", mean_wait_minutes=round(a.mean_wait_served / 60, 4),
                           mean_wait_served_minutes=round(a.mean_wait_served / 60, 4),
                           mean_wait_all_arrivals_minutes=round(a.mean_wait / 60, 4),
                           service_level=round(a.metrics_service_level(within), 6),
                           abandonment_rate=round(a.p_abandon, 6),
                           utilisation=round(a.utilisation, 6))
                return out
        no_patience = all(cd.patience is None for cd in demand.categories)
        if lam * mean < c and no_patience and cs2 == 0.0 and all(
                cd.service.kind == "deterministic" for cd in demand.categories):
            d = analytic.mdc(c, lam, mean)
            w = round(d.mean_wait / 60, 4)
            out.update(model="m_d_c (exact)", mean_wait_minutes=w, mean_wait_served_minutes=w,
                       mean_wait_all_arrivals_minutes=w,
                       service_level=round(d.service_level(within), 6),
                       p_wait=round(d.p_wait, 6), utilisation=round(d.utilisation, 6))
        elif lam * mean < c:
            w = analytic.allen_cunneen_wait(c, lam, 1 / mean, 1.0, cs2)
            out.update(model="allen_cunneen", mean_wait_minutes=round(w / 60, 4),
                       service_cv2=round(cs2, 4),
                       note="approximate (Allen–Cunneen), patience not included"
                       if not no_patience else "approximate (Allen–Cunneen)")
        return out
    n = max(len(cd.arrivals) for cd in demand.categories)
    counts = [sum(cd.arrivals[i] for cd in demand.categories if i < len(cd.arrivals))
              for i in range(n)]
    totals = [sum(cd.arrivals) for cd in demand.categories]
    if sum(totals) <= 0:
        return {}
    mean, cs2 = _mix(demand, totals)
    per = analytic.lag_sipp([x / demand.interval for x in counts], demand.interval, 1 / mean,
                            within, 0.9)
    labels = []
    for i in range(n):
        t = demand.start + i * demand.interval
        labels.append(f"{int(t // 3600):02d}:{int(t % 3600 // 60):02d}")
    return {
        "model": "lag_sipp (pooled hall, Erlang C per interval, 90% target)",
        "windows_in_layout": c,
        "peak_windows_needed": max(per),
        "windows_needed": dict(zip(labels, per, strict=True)),
        "mean_service_minutes": round(mean / 60, 3),
        "service_cv2": round(cs2, 4) if not math.isnan(cs2) else None,
        "expected_people": round(sum(counts), 1),
    }
