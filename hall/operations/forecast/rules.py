"""Pure rules of the live forecast: its inputs from the server's rows, its JSON, its staleness."""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from queueing.layout import HallLayout, Hours, Period
from queueing.tickets import PriorityClass, QueueClass
from sim.advice import Advice
from sim.demand import Demand, parse_demand
from sim.forecast import AtWindow, Band, Forecast, HallState, WaitingTicket, flat_demand

__all__ = ["DEFAULTS", "settings_of", "forecast_layout", "hall_state", "demand_for", "forecast_json", "is_stale",
           "advice_json", "advice_id", "APPLY"]

# interval: seconds between forecasts; stale after this many intervals without a new one
# advice_hours: the first hours at risk that get 潮汐 advice, each from advice_replications
DEFAULTS: Mapping[str, Any] = {"interval_seconds": 180.0, "stale_intervals": 3.0, "hours": 3.0,
                               "replications": 100, "target": 0.8, "demand": None,
                               "advice_hours": 2, "advice_replications": 40}


def settings_of(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The hall's `forecast` settings over the defaults."""
    out = dict(DEFAULTS)
    raw = settings.get("forecast") or {}
    if isinstance(raw, Mapping):
        out.update({k: v for k, v in raw.items() if k in DEFAULTS})
    return out


AROUND_THE_CLOCK = Hours((Period(0, 24 * 60),), frozenset(range(1, 8)))


def forecast_layout(layout: HallLayout) -> HallLayout:
    """The layout the forecast simulates: a hall that states no `[hours]` gives numbers around
    the clock (hall.core.hours), so its day is the whole day, not the parser's planning default."""
    return layout if "hours" in layout.source else replace(layout, hours=AROUND_THE_CLOCK)


def _priority(value: str | None) -> PriorityClass:
    try:
        return PriorityClass(value or "normal")
    except ValueError:
        return PriorityClass.NORMAL


def hall_state(now: float, day_start: float, waiting: Iterable[Mapping[str, Any]],
               serving: Iterable[Mapping[str, Any]], open_windows: frozenset[int],
               arrived: Mapping[str, int], served_so_far: tuple[int, int],
               paused: frozenset[int] = frozenset()) -> HallState:
    """The simulator's state from ticket rows (epoch seconds become seconds after midnight)."""
    tickets = []
    for r in waiting:
        key = float(r["queue_key"]) - day_start
        since = float(r.get("wait_origin") or r["issued_at"]) - day_start
        appointment = key if r.get("queue_class") == QueueClass.APPOINTMENT else None
        tickets.append(WaitingTicket(str(r["category"]), key, since, _priority(r.get("priority")),
                                     appointment))
    at = [AtWindow(int(r["window"]), str(r["category"]),
                   float(r.get("called_at") or now) - day_start) for r in serving]
    return HallState(now - day_start, tuple(tickets), tuple(at), open_windows, dict(arrived),
                     served_so_far, paused)


def demand_for(layout: HallLayout, cfg: Mapping[str, Any], date: dt.date,
               recent_per_hour: Mapping[str, float],
               service_minutes: Mapping[str, float]) -> Demand:
    """The hall's profile (`forecast.demand`: a table or a TOML path) on `date`, or without one a
    flat profile from the recent arrival rates and service times."""
    raw = cfg.get("demand")
    if isinstance(raw, str):
        raw = tomllib.loads(Path(raw).read_text(encoding="utf-8"))
    if isinstance(raw, Mapping):
        return replace(parse_demand(raw, layout), date=date)
    return flat_demand(layout, date, recent_per_hour, service_minutes)


def _clean(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 2)


def _band(b: Band) -> dict[str, float | None]:
    return {"p10": _clean(b.p10), "p50": _clean(b.p50), "p90": _clean(b.p90)}


def _clock(seconds: float) -> str:
    m = int(round(seconds / 60))
    return f"{m // 60:02d}:{m % 60:02d}"


# How an advice is applied from its button: the same core action a manual change uses.
APPLY = {"open": "resume", "move": "retarget"}


def advice_id(computed_at: float, k: int) -> str:
    """An advice's id: its forecast's instant and its place, so a newer forecast's advice never
    answers to an older button."""
    return f"{int(round(computed_at * 1000)):x}-{k}"


def advice_json(advice: Sequence[Advice], layout: HallLayout, computed_at: float,
                zone_names: Mapping[str, str]) -> list[dict[str, Any]]:
    """Each advice with its figures, whether its button applies it (`apply`: the core action,
    or None when a person has to do it) and what it `expects` of the hall still to hold."""
    out = []
    for k, a in enumerate(advice):
        m = a.move
        apply = APPLY.get(m.kind)
        expects: dict[str, Any] = {}
        windows = list(m.windows) if m.kind == "open_many" else [m.window] if m.window else []
        if m.kind in ("open", "open_many"):
            paused = m.paused if m.kind == "open" else set(m.paused_windows) == set(m.windows)
            if paused:
                apply, expects = "resume", {"paused": windows}
            else:
                apply = None  # nobody is at a closed window: the manager sends someone
        elif m.kind == "move" and m.window is not None:
            expects = {"serves": sorted(layout.window(m.window).categories)}
        out.append({
            "id": advice_id(computed_at, k), "hour": f"{a.hour:02d}:00", "kind": m.kind,
            "window": m.window, "windows": windows, "paused": m.paused,
            "paused_windows": list(m.paused_windows), "at": _clock(m.at),
            "from_zone": m.from_zone, "to_zone": m.to_zone,
            "from_zone_name": zone_names.get(m.from_zone or "", m.from_zone),
            "to_zone_name": zone_names.get(m.to_zone or "", m.to_zone),
            "categories": list(m.categories), "category": m.category,
            "keeps_target": a.keeps_target, "replications": a.replications,
            "service_level": {"without": _band(a.without), "with": _band(a.with_move),
                              "gain": _band(a.gain)},
            "apply": apply, "expects": expects,
        })
    return out


def forecast_json(f: Forecast, day_start: float, computed_at: float, took: float,
                  zone_names: Mapping[str, str] | None = None,
                  advice: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What the API and the manager view show (times both as epoch and as hall clock)."""
    return {
        "advice": advice or [],
        "computed_at": computed_at,
        "took_seconds": round(took, 3),
        "from": _clock(f.now), "until": _clock(f.until),
        "replications": f.replications,
        "arrival_scale": round(f.scale, 3),
        "target": f.target, "within_minutes": f.within_minutes,
        "service_level": _band(f.service_level),
        "at_risk": [f"{h:02d}:00" for h in f.at_risk],
        "hours": {f"{h:02d}:00": _clean(v) for h, v in f.hour_service_level.items()},
        "zones": [
            {"zone": z, "name": (zone_names or {}).get(z, z), "slots": [
                {"start": _clock(s.start), "at": day_start + s.start,
                 "waiting": _band(s.waiting), "wait_minutes": _band(s.wait_minutes),
                 "person_p50_minutes": _clean(s.person_p50),
                 "person_p90_minutes": _clean(s.person_p90)}
                for s in f.slots if s.zone == z]}
            for z in f.zones],
    }


def is_stale(age: float, cfg: Mapping[str, Any]) -> bool:
    """A forecast older than a few recompute intervals no longer describes the hall."""
    return age > float(cfg["interval_seconds"]) * float(cfg["stale_intervals"])
