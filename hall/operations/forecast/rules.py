"""Pure rules of the live forecast: its inputs from the server's rows, its JSON, its staleness."""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from queueing.layout import HallLayout
from queueing.tickets import PriorityClass, QueueClass
from sim.demand import Demand, parse_demand
from sim.forecast import AtWindow, Band, Forecast, HallState, WaitingTicket, flat_demand

__all__ = ["DEFAULTS", "settings_of", "hall_state", "demand_for", "forecast_json", "is_stale"]

# interval: seconds between forecasts; stale after this many intervals without a new one
DEFAULTS: Mapping[str, Any] = {"interval_seconds": 180.0, "stale_intervals": 3.0, "hours": 3.0,
                               "replications": 100, "target": 0.8, "demand": None}


def settings_of(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The hall's `forecast` settings over the defaults."""
    out = dict(DEFAULTS)
    raw = settings.get("forecast") or {}
    if isinstance(raw, Mapping):
        out.update({k: v for k, v in raw.items() if k in DEFAULTS})
    return out


def _priority(value: str | None) -> PriorityClass:
    try:
        return PriorityClass(value or "normal")
    except ValueError:
        return PriorityClass.NORMAL


def hall_state(now: float, day_start: float, waiting: Iterable[Mapping[str, Any]],
               serving: Iterable[Mapping[str, Any]], open_windows: frozenset[int],
               arrived: Mapping[str, int], served_so_far: tuple[int, int]) -> HallState:
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
                     served_so_far)


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


def forecast_json(f: Forecast, day_start: float, computed_at: float, took: float,
                  zone_names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What the API and the manager view show (times both as epoch and as hall clock)."""
    return {
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
