"""`plan` and `compare`: the fewest windows meeting a target, and layouts side by side.

A target reads "`share` of people wait at most `within` minutes, with `confidence`": a layout
meets it when the one-sided lower confidence bound of the daily service level (in
`queueing.metrics`' definition), across simulated days, is at least `share`.

The search starts from an analytic estimate — lag-SIPP with Erlang C on the whole hall's load,
the peak over the day's intervals — gallops and bisects, every candidate on the same seed and
days (common random numbers, so neighbours differ by the window and not by the noise). With
many days it screens on a quarter of them and confirms one window at a time on all of them.

A plan sizes for a stated **design day** (`sim.variation.design_factor`): with a `[variation]`
table, by default the 90th-percentile day of calendar × overdispersion × forecast error, run as
one fixed day at that volume (Poisson noise kept). Beside the answer stands a **sensitivity
table** — the service level of the chosen size and its neighbours at −10 %…+30 % demand and at
+15 % service time, all on the same seed and days — and the chosen size's **weak hours** (hours
of arrival whose service level falls below the target), because a plan that just meets its
target on the design day can fall far short on a busier one, and the reader must see that.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from queueing.layout import parse_layout
from sim import analytic, variants
from sim.demand import (
    Demand,
    parse_demand,
    scale_raw,
    scale_service_raw,
    with_booking_capacity,
    without_variation,
)
from sim.results import aggregate
from sim.runner import Config, run_days
from sim.stats import paired_difference, t_quantile, variance
from sim.variation import design_factor

__all__ = ["Target", "analytic_start", "plan", "compare", "fit_staff", "lower_bound",
           "SENSITIVITY_CASES", "sensitivity", "weak_hours", "design_day", "slot_sizes"]

# (label, demand factor, service-time factor) of the sensitivity table
SENSITIVITY_CASES: tuple[tuple[str, float, float], ...] = (
    ("demand -10%", 0.9, 1.0), ("design day", 1.0, 1.0), ("demand +10%", 1.1, 1.0),
    ("demand +20%", 1.2, 1.0), ("demand +30%", 1.3, 1.0), ("service time +15%", 1.0, 1.15))


class Target:
    """`share` served within `within_minutes`, asserted with `confidence` (one-sided)."""

    def __init__(self, share: float = 0.9, within_minutes: float = 15.0,
                 confidence: float = 0.95) -> None:
        if not 0 < share < 1:
            raise ValueError("target share must be between 0 and 1")
        if not 0 < confidence < 1:
            raise ValueError("confidence must be between 0 and 1")
        if within_minutes <= 0:
            raise ValueError("within must be more than 0 minutes")
        self.share = share
        self.within_minutes = within_minutes
        self.confidence = confidence

    def to_dict(self) -> dict[str, float]:
        return {"share": self.share, "within_minutes": self.within_minutes,
                "confidence": self.confidence}


def lower_bound(values: Sequence[float], confidence: float) -> float:
    """One-sided lower confidence bound of the mean (NaN values left out)."""
    vals = [v for v in values if not math.isnan(v)]
    n = len(vals)
    if n == 0:
        return math.nan
    m = sum(vals) / n
    if n == 1:
        return m
    return m - t_quantile(confidence, n - 1) * math.sqrt(variance(vals) / n)


def fit_staff(demand_raw: Mapping[str, Any], layout_raw: Mapping[str, Any]) -> dict[str, Any]:
    """The profile with its [[staff]] groups limited to windows the layout has."""
    out = copy.deepcopy(dict(demand_raw))
    staff = out.get("staff")
    if isinstance(staff, list):
        numbers = {w["number"] for w in layout_raw.get("windows", [])}
        kept = []
        for g in staff:
            wins = g.get("windows", "rest")
            if isinstance(wins, list):
                wins = [w for w in wins if w in numbers]
                if not wins:
                    continue
                g = {**g, "windows": wins}
            kept.append(g)
        out["staff"] = kept
    return out


def _with_target(demand_raw: Mapping[str, Any], target: Target) -> dict[str, Any]:
    out = copy.deepcopy(dict(demand_raw))
    out.setdefault("profile", {})
    out["profile"] = {**out["profile"], "service_level_minutes": target.within_minutes}
    return out


def analytic_start(demand: Demand, target: Target) -> dict[str, Any]:
    """Lag-SIPP (Erlang C per interval, on the hall's total load) and its peak."""
    within = target.within_minutes * 60
    if demand.stationary:
        lam = sum(c.rate_per_hour for c in demand.categories) / 3600
        mean = sum(c.rate_per_hour * c.service.mean for c in demand.categories) / 3600 / lam
        c = analytic.staff_for_service_level(lam, 1 / mean, within, target.share)
        return {"method": "erlang_c", "windows": c, "per_interval": [c]}
    n = max(len(c.arrivals) for c in demand.categories)
    rates = []
    work = 0.0
    people = 0.0
    for i in range(n):
        count = sum(c.arrivals[i] for c in demand.categories if i < len(c.arrivals))
        rates.append(count / demand.interval)
        for cd in demand.categories:
            if i < len(cd.arrivals):
                work += cd.arrivals[i] * cd.service.mean
                people += cd.arrivals[i]
    mean = work / people if people else 600.0
    per = analytic.lag_sipp(rates, demand.interval, 1 / mean, within, target.share)
    return {"method": "lag_sipp", "windows": max(per) if per else 1, "per_interval": per,
            "mean_service_minutes": round(mean / 60, 3)}


def _evaluate(layout_raw: Mapping[str, Any], demand_raw: Mapping[str, Any], days: int,
              seed: int, workers: int) -> tuple[list[dict[str, Any]], Demand]:
    config = Config(layout_raw, fit_staff(demand_raw, layout_raw))
    per_day = run_days(config, days, seed, workers)
    return per_day, config.parsed()[1]


def design_day(layout_raw: Mapping[str, Any], demand_raw: Mapping[str, Any],
               rule: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The design day's profile (one fixed day at the design volume) and what it is.

    `rule` None: "p90" when the profile has a [variation] table, else the profile as written."""
    layout = parse_layout(layout_raw)
    v = parse_demand(demand_raw, layout).variation
    rule = rule or ("p90" if v is not None else "profile")
    factor = design_factor(v, rule)
    fixed = scale_raw(without_variation(demand_raw), factor)
    expected = parse_demand(fixed, layout).expected_total()
    info: dict[str, Any] = {"rule": rule, "volume_factor": round(factor, 4),
                            "expected_people": round(expected, 1),
                            "variation": v is not None}
    if v is not None:
        info.update(overdispersion=v.overdispersion, forecast_error=v.forecast_error,
                    growth=v.growth)
    return fixed, info


def weak_hours(result: Mapping[str, Any], share: float) -> list[dict[str, Any]]:
    """Hours of arrival whose mean service level is below `share`, worst first."""
    rows = [{"hour": r["hour"], "service_level": r["value"]}
            for r in result.get("service_level", {}).get("by_hour", [])
            if r.get("value") is not None and r["value"] < share]
    return sorted(rows, key=lambda r: r["service_level"])


def sensitivity(layouts: Sequence[tuple[int, str, Mapping[str, Any]]],
                demand_raw: Mapping[str, Any], target: Target, days: int, seed: int,
                workers: int, known: Mapping[int, Sequence[float]] | None = None
                ) -> dict[str, Any]:
    """Service level of each (windows, label, layout) in every SENSITIVITY_CASES case.
    `known`: daily service levels of the design day already run per size (same seed and
    days), reused rather than run again."""
    rows = []
    for k, label, raw in layouts:
        cells = []
        for case, demand_f, service_f in SENSITIVITY_CASES:
            base = (demand_f, service_f) == (1.0, 1.0)
            if base and known is not None and k in known:
                sl = list(known[k])
            else:
                d_raw = demand_raw if base else scale_service_raw(scale_raw(demand_raw, demand_f),
                                                                  service_f)
                per_day, _ = _evaluate(raw, d_raw, days, seed, workers)
                sl = [x["service_level"] for x in per_day]
            vals = [v for v in sl if not math.isnan(v)]
            lb = lower_bound(sl, target.confidence)
            cells.append({"case": case, "demand_factor": demand_f, "service_factor": service_f,
                          "service_level": round(sum(vals) / len(vals), 6) if vals else None,
                          "service_level_lower_bound": round(lb, 6),
                          "meets": bool(lb >= target.share)})
        rows.append({"windows": k, "layout": label, "cases": cells})
    return {"cases": [c for c, _, _ in SENSITIVITY_CASES], "rows": rows}


def slot_sizes(layout_raw: Mapping[str, Any], demand_raw: Mapping[str, Any], target: Target,
               capacities: Sequence[int], days: int, seed: int, workers: int, mode: str,
               design: str | None, max_windows: int) -> list[dict[str, Any]]:
    """Windows and booking slots sized together: for each places-per-slot offered, the fewest
    windows meeting the target (same seed and days, so rows differ by the slots alone), with
    the booked people a day that capacity brings."""
    layout = parse_layout(layout_raw)
    rows = []
    for cap in sorted(set(capacities)):
        raw = with_booking_capacity(demand_raw, cap)
        fixed, _ = design_day(layout_raw, _with_target(raw, target), design)
        booked = _booked_per_day(parse_demand(fixed, layout))
        one = plan(layout_raw, raw, target, days, seed, workers, mode, max_windows=max_windows,
                   design=design, with_sensitivity=False)
        rows.append({"capacity": cap, "booked_per_day": round(booked, 1),
                     "windows": one["windows"], "total_windows": one["total_windows"],
                     "layout": one["layout"],
                     "service_level_lower_bound": next(
                         x["service_level_lower_bound"] for x in one["tried"]
                         if x["windows"] == one["windows"])})
    return rows


def _booked_per_day(demand: Demand) -> float:
    """Expected booked people who come in a day: places × fill × (1 − no-show)."""
    total = 0.0
    for c in demand.categories:
        b = c.booking
        if b is None:
            continue
        for i, count in enumerate(c.arrivals):
            if count <= 0:
                continue
            lo = demand.start + i * demand.interval
            hi = min(lo + demand.interval, demand.cutoff)
            slots = max(0, math.ceil((hi - lo) / b.slot)) if hi > lo else 0
            total += slots * b.capacity * b.fill * (1 - b.no_show)
    return total


SCREEN_MIN_DAYS = 4


def _gallop(k: int, floor: int, max_windows: int, meets: Callable[[int], bool],
            tried: Mapping[int, Mapping[str, Any]], comprehensive: bool) -> int:
    """The fewest windows for which `meets` holds, from the analytic start `k`: gallop away
    from it, then bisect — monotone in k under common random numbers, so about
    2·log2(distance) candidates instead of one per window."""
    if meets(k):
        good, step = k, 1
        bad = floor - 1
        while good - step >= floor:
            if meets(good - step):
                good -= step
                step *= 2
            else:
                bad = good - step
                break
    else:
        bad, step = k, 1
        while True:
            if bad + step > max_windows:
                raise ValueError(f"no layout up to {max_windows} windows meets the target")
            if meets(bad + step):
                good = bad + step
                break
            before = tried[bad]["service_level_lower_bound"]
            after = tried[bad + step]["service_level_lower_bound"]
            if comprehensive and step >= 4 and after <= before + 1e-3:
                # more 无差别 windows no longer help: the zone windows (kept as they are) limit
                # the service level; say so rather than gallop on to max_windows
                raise ValueError(
                    f"more 无差别 windows do not help: with the layout's zone windows the service "
                    f"level stays at {after:.3f} (lower bound) from {bad} to {bad + step} 无差别 "
                    f"windows; try --mode split or --mode pooled")
            bad += step
            step *= 2
    while good - bad > 1:
        mid = (good + bad) // 2
        if meets(mid):
            good = mid
        else:
            bad = mid
    return good


def plan(layout_raw: Mapping[str, Any], demand_raw: Mapping[str, Any], target: Target,
         days: int = 20, seed: int = 1, workers: int = 1, mode: str = "pooled",
         log: Callable[[str], None] | None = None, max_windows: int = 1000,
         design: str | None = None, with_sensitivity: bool = True,
         slot_capacities: Sequence[int] | None = None) -> dict[str, Any]:
    """Fewest windows meeting `target`.

    mode "pooled": a hall of k 无差别 windows; "comprehensive": the layout's zone windows kept,
    k comprehensive windows beside them; "split": k windows in all, the best of several splits
    between 无差别 and zone windows (zone windows shared between zones by offered load).
    Returns the JSON plan with the best candidate per size tried and the chosen windows table.
    `slot_capacities`: also size the booking slots — the fewest windows for each number of
    places per slot (`slots`, see `slot_sizes`).
    """
    started = time.perf_counter()
    slots = (slot_sizes(layout_raw, demand_raw, target, slot_capacities, days, seed, workers,
                        mode, design, max_windows) if slot_capacities else None)
    demand_raw = _with_target(demand_raw, target)
    demand_raw, design_info = design_day(layout_raw, demand_raw, design)
    layout = parse_layout(layout_raw)
    demand = parse_demand(demand_raw, layout)  # validates before anything runs
    start = analytic_start(demand, target)
    if mode not in ("pooled", "comprehensive", "split"):
        raise ValueError("mode must be pooled, comprehensive or split")
    zones_with_load = {layout.category(c).zone for c, w in variants.offered_load(demand).items()
                       if w > 0}
    floor = 0 if mode == "comprehensive" else 1
    tried: dict[int, dict[str, Any]] = {}

    def candidates(k: int) -> list[tuple[str, dict[str, Any]]]:
        if mode == "pooled":
            return [(f"{k} 无差别", variants.pooled(layout_raw, k))]
        if mode == "comprehensive":
            return [(f"{k} 无差别 + zone windows", variants.with_comprehensive(layout_raw, k))]
        # split k windows between 无差别 and zone windows: all pooled, or at least one zone
        # window per zone with demand and a few shares of 无差别 windows
        nz = len(zones_with_load)
        zone_counts = {0} | {z for z in (k - round(k * f) for f in (0.0, 0.25, 0.5, 0.75))
                             if nz <= z <= k}
        out = []
        for z in sorted(zone_counts):
            out.append((f"{k - z} 无差别 + {z} zone",
                        variants.zone_split(layout_raw, demand, k - z, z)))
        return out

    screened: dict[int, dict[str, Any]] = {}
    # Screening: with many days, the gallop and bisection run on the first `screen_days` days
    # (a quarter) and only the sizes next to the answer run on all of them — the answer is
    # still the fewest windows whose lower bound over every day meets the target.
    screen_days = max(SCREEN_MIN_DAYS, days // 4) if days >= 2 * SCREEN_MIN_DAYS else days

    def evaluate(k: int, ndays: int) -> dict[str, Any]:
        best: dict[str, Any] | None = None
        for label, raw in candidates(k):
            per_day, d = _evaluate(raw, demand_raw, ndays, seed, workers)
            sl = [x["service_level"] for x in per_day]
            lb = lower_bound(sl, target.confidence)
            if best is None or lb > best["service_level_lower_bound"]:
                best = {"windows": k, "layout": label, "service_level_lower_bound": round(lb, 6),
                        "result": aggregate(per_day, d), "meets": bool(lb >= target.share),
                        "raw": raw, "daily_service_level": sl}
        assert best is not None
        if log:
            log(f"{best['layout']}: service level ≥ {best['service_level_lower_bound']:.3f} "
                f"({'meets' if best['meets'] else 'short of'} {target.share:.0%})"
                + ("" if ndays == days else f" [{ndays} days]"))
        return best

    def meets(k: int) -> bool:
        if k not in tried:
            tried[k] = evaluate(k, days)
        return bool(tried[k]["meets"])

    def screen(k: int) -> bool:
        if screen_days == days:
            return meets(k)
        if k not in screened:
            screened[k] = evaluate(k, screen_days)
        return bool(screened[k]["meets"])

    if mode != "comprehensive":
        k = max(floor, int(start["windows"]))
    else:
        k = max(floor, len([w for w in layout.windows if w.kind.value == "comprehensive"]))
    seen = tried if screen_days == days else screened
    k = _gallop(k, floor, max_windows, screen, seen, mode == "comprehensive")
    if screen_days != days:  # confirm on every day, one window at a time from the screened size
        if meets(k):
            while k - 1 >= floor and meets(k - 1):
                k -= 1
        else:
            while not meets(k + 1):
                k += 1
                if k + 1 > max_windows:
                    raise ValueError(f"no layout up to {max_windows} windows meets the target")
            k += 1
    best = tried[k]
    table = None
    if with_sensitivity:
        sizes = [x for x in (k - 1, k, k + 1) if x >= max(floor, 1 if mode != "comprehensive" else 0)]
        for x in sizes:
            meets(x)  # the neighbours' best candidates, on the same days
        table = sensitivity([(x, tried[x]["layout"], tried[x]["raw"]) for x in sizes],
                            demand_raw, target, days, seed, workers,
                            known={x: tried[x]["daily_service_level"] for x in sizes})
    return {
        "mode": mode,
        "target": target.to_dict(),
        "days": days,
        "seed": seed,
        "design_day": design_info,
        "sensitivity": table,
        "weak_hours": weak_hours(best["result"], target.share),
        "analytic": start,
        "windows": k,
        "total_windows": k if mode != "comprehensive" else k + len(
            [w for w in layout.windows if w.kind.value != "comprehensive"]),
        "layout": best["layout"],
        "windows_table": best["raw"]["windows"],
        "result": best["result"],
        "tried": [{kk: v for kk, v in tried[x].items()
                   if kk not in ("result", "raw", "daily_service_level")}
                  | {"mean_wait_minutes": tried[x]["result"]["wait_minutes"]["mean"]}
                  for x in sorted(tried)],
        "screened": {"days": screen_days,
                     "sizes": [{"windows": x, "layout": screened[x]["layout"],
                                "service_level_lower_bound":
                                    screened[x]["service_level_lower_bound"],
                                "meets": screened[x]["meets"]} for x in sorted(screened)]},
        "slots": slots,
        "seconds": round(time.perf_counter() - started, 2),
    }


def compare(layouts: Mapping[str, Mapping[str, Any]], demand_raw: Mapping[str, Any],
            days: int = 20, seed: int = 1, workers: int = 1,
            log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run each named layout on the same seed and days; paired differences against the first."""
    results: dict[str, Any] = {}
    per: dict[str, list[dict[str, Any]]] = {}
    for name, raw in layouts.items():
        per_day, d = _evaluate(raw, demand_raw, days, seed, workers)
        per[name] = per_day
        results[name] = {"windows": len(raw.get("windows", [])), **aggregate(per_day, d)}
        if log:
            log(f"{name}: mean wait {results[name]['wait_minutes']['mean']['value']} min")
    names = list(layouts)
    base = names[0]
    diffs = {}
    for name in names[1:]:
        diffs[f"{name} - {base}"] = {
            metric: paired_difference([x[key] for x in per[name]], [x[key] for x in per[base]])
            for metric, key in (("mean_wait_minutes", "mean"), ("p90_wait_minutes", "p90"),
                                ("service_level", "service_level"),
                                ("abandonment_rate", "abandonment_rate"))
        }
    return {"days": days, "seed": seed, "baseline": base, "layouts": results,
            "paired_differences": diffs}


def standard_variants(layout_raw: Mapping[str, Any], demand_raw: Mapping[str, Any]
                      ) -> dict[str, dict[str, Any]]:
    """as-is (hybrid), pooled and dedicated layouts with the same number of windows."""
    layout = parse_layout(layout_raw)
    demand = parse_demand(demand_raw, layout)
    n = len(layout.windows)
    return {
        "hybrid": dict(layout_raw),
        "pooled": variants.pooled(layout_raw, n),
        "dedicated": variants.dedicated(layout_raw, demand, n),
    }
