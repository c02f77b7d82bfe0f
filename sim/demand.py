"""Demand profiles: who comes to the hall and when, and when each window is staffed.

A profile is a TOML file read beside the hall layout (`queueing.layout`). See
`examples/demand/county.toml` for every field. Two modes:

- every category: service and patience distributions, no-show share (and the share of no-shows
  who come back `recheck_delay` later and re-check in), appointment and priority shares;
- a hall **day** (default): arrivals per interval (`interval_minutes`, 60 or 15 …) per category
  from `start`; tickets stop `cutoff_minutes` before the hall closes; windows follow `[[staff]]`
  periods (staggered lunches are groups of windows with different periods);
- **stationary** (a `[stationary]` table): constant `rate_per_hour` per category, every window
  open all the time, a long horizon whose first `warmup_hours` are left out of the statistics —
  the case that exact Erlang C / Erlang A results describe.

`load_demand(path, layout)` / `parse_demand(raw, layout)` validate everything against the layout
before anything runs and raise `DemandError(field, why)` (`str(e) == f"{field}: {why}"`) for a
negative rate, an unknown category or window, a category no window serves, or a moment where
tickets are issued for a category while no window serving it is staffed.
"""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from queueing.layout import HallLayout
from queueing.tickets import PriorityClass
from sim.distributions import Dist, DistError, parse_dist
from sim.flows import (
    MultiMatter,
    Pauses,
    Suspension,
    Transfer,
    parse_multi_matter,
    parse_pauses,
    parse_suspension,
    parse_transfer,
)
from sim.servicetime import ServiceFactors, parse_service_factors
from sim.staffing import DemandError, StaffGroup, check_coverage, clock_seconds, parse_staff
from sim.variation import Variation, parse_variation

__all__ = [
    "DemandError",
    "CategoryDemand",
    "Matter",
    "Booking",
    "StaffGroup",
    "Demand",
    "load_demand",
    "parse_demand",
    "scale_raw",
    "scale_service_raw",
    "without_variation",
    "with_booking_capacity",
]



@dataclass(frozen=True, slots=True)
class Matter:
    code: str
    share: float
    service: Dist | None  # None: the category's service distribution


@dataclass(frozen=True, slots=True)
class Booking:
    """Appointments as a booking system: every `slot` seconds while the category has walk-ins,
    `capacity` places, each booked with chance `fill`; a booked person fails to come with
    chance `no_show` (爽约) and otherwise arrives around the slot (the profile's punctuality)."""

    slot: float
    capacity: int
    fill: float
    no_show: float


@dataclass(frozen=True, slots=True)
class CategoryDemand:
    """One category's people. `arrivals[i]` is the expected count in interval i (day mode)."""

    code: str
    arrivals: tuple[float, ...]
    rate_per_hour: float  # stationary mode (0 in day mode)
    service: Dist
    patience: Dist | None  # None: people never give up
    no_show: float
    appointment_share: float
    priority_shares: tuple[tuple[PriorityClass, float], ...]
    matters: tuple[Matter, ...] = ()
    recheck_in: float = 0.0  # share of no-shows who come back and re-check in (过号重排)
    recheck_delay: Dist | None = None  # how long after the no-show they come back
    booking: Booking | None = None  # booked appointments (beside the walk-ins above)
    transfer: Transfer | None = None  # 转办 after service (`sim.flows`)
    multi_matter: MultiMatter | None = None  # 一事联办 tickets
    suspend: Suspension | None = None  # 挂起/补正 and the return


@dataclass(frozen=True, slots=True)
class Demand:
    name: str
    date: dt.date
    stationary: bool
    interval: float  # seconds
    start: float  # seconds after local midnight of the first interval
    cutoff: float  # seconds after local midnight when ticket issuing stops
    close: float  # the hall's closing time, seconds after midnight (overtime counts from here)
    horizon: float  # seconds after start (stationary) or after midnight (day) when arrivals end
    warmup: float  # seconds after start excluded from statistics (stationary)
    service_level_minutes: float
    no_show_call_seconds: float  # time a window spends calling and recalling an absent person
    punctuality_mean: float  # appointments arrive this many seconds early on average
    punctuality_sd: float
    categories: tuple[CategoryDemand, ...]
    staff: tuple[StaffGroup, ...]
    source: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    walk_up_seconds: float = 0.0  # from the call until the person reaches the window (叫号到窗)
    variation: Variation | None = None  # how days differ from the profile (`sim.variation`)
    service_factor: float = 1.0  # every service time × this (what-if: "+15% service time")
    service_factors: ServiceFactors | None = None  # window kind, generalist, clerk spread
    # balking: (start, all) — seeing n people waiting in the hall on arrival, a person leaves at
    # once with chance 0 up to `start`, rising linearly to 1 at `all`; None: nobody balks
    balking: tuple[float, float] | None = None
    turnaround_seconds: float = 0.0  # a window's time between one person and the next call
    absence: float = 0.0  # chance that a window's clerk is absent for the whole day
    pauses: Pauses | None = None  # short pauses of a staffed window within the day

    def balk_chance(self, waiting: int) -> float:
        if self.balking is None:
            return 0.0
        lo, hi = self.balking
        if waiting <= lo:
            return 0.0
        return 1.0 if waiting >= hi else (waiting - lo) / (hi - lo)

    def category(self, code: str) -> CategoryDemand:
        for c in self.categories:
            if c.code == code:
                return c
        raise KeyError(code)

    def window_periods(self) -> dict[int, tuple[tuple[float, float], ...]]:
        """Staffed periods per window number (seconds after local midnight)."""
        return {w: g.periods for g in self.staff for w in g.windows}

    def expected_total(self) -> float:
        """Expected people per day (day mode) or per hour (stationary)."""
        if self.stationary:
            return sum(c.rate_per_hour for c in self.categories)
        return sum(sum(c.arrivals) for c in self.categories)

    def scaled(self, factor: float) -> Demand:
        """The same profile with every arrival rate multiplied by `factor` (what-if growth)."""
        cats = tuple(replace(c, arrivals=tuple(a * factor for a in c.arrivals),
                             rate_per_hour=c.rate_per_hour * factor) for c in self.categories)
        return replace(self, categories=cats)

    def with_staff(self, staff: tuple[StaffGroup, ...]) -> Demand:
        return replace(self, staff=staff)


def without_variation(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The profile as one fixed day: no calendar, no overdispersion (a design day)."""
    return {k: v for k, v in raw.items() if k != "variation"}


def with_booking_capacity(raw: Mapping[str, Any], capacity: int) -> dict[str, Any]:
    """The profile with every booking table offering `capacity` places a slot; raises
    DemandError when the profile books nothing or the capacity is negative."""
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
        raise DemandError("slot capacity", f"must be a whole number at least 0, got {capacity!r}")
    out = copy.deepcopy(dict(raw))
    tables = [t for t in [(out.get("profile") or {}).get("booking"),
                          *((c or {}).get("booking") for c in (out.get("categories") or {}).values()
                            if isinstance(c, dict))] if isinstance(t, dict)]
    if not tables:
        raise DemandError("booking", "the profile has no booking table to size slots for")
    for t in tables:
        t["capacity"] = capacity
    return out


def scale_service_raw(raw: Mapping[str, Any], factor: float) -> dict[str, Any]:
    """The profile with every service time multiplied by `factor` (on top of any already set)."""
    if not factor > 0:
        raise DemandError("service factor", f"must be more than 0, got {factor}")
    out = copy.deepcopy(dict(raw))
    prof = dict(out.get("profile") or {})
    prof["service_factor"] = float(prof.get("service_factor", 1.0)) * factor
    out["profile"] = prof
    return out


def scale_raw(raw: Mapping[str, Any], factor: float) -> dict[str, Any]:
    """A profile table with every arrival count and rate multiplied by `factor` (what-if growth);
    raises DemandError for a negative factor."""
    if factor < 0:
        raise DemandError("--scale", f"must not be negative, got {factor}")
    out = copy.deepcopy(dict(raw))
    for c in (out.get("categories") or {}).values():
        if isinstance(c, dict):
            if isinstance(c.get("arrivals"), list):
                c["arrivals"] = [a * factor if isinstance(a, int | float) else a
                                 for a in c["arrivals"]]
            if isinstance(c.get("rate_per_hour"), int | float):
                c["rate_per_hour"] = c["rate_per_hour"] * factor
    return out


def load_demand(path: str | Path, layout: HallLayout) -> Demand:
    """Read and validate a demand TOML file against `layout`; raises DemandError."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DemandError(str(p), "no such file") from None
    except tomllib.TOMLDecodeError as e:
        raise DemandError(str(p), f"not valid TOML ({e})") from None
    return parse_demand(raw, layout)


def parse_demand(raw: Mapping[str, Any], layout: HallLayout) -> Demand:
    """Validate a parsed profile against `layout`; raises DemandError naming the field."""
    try:
        return _parse(raw, layout)
    except DistError as e:
        raise DemandError(e.field, e.why) from None


def _parse(raw: Mapping[str, Any], layout: HallLayout) -> Demand:
    prof = raw.get("profile", {})
    if not isinstance(prof, Mapping):
        raise DemandError("profile", "must be a table")
    stat_raw = raw.get("stationary")
    stationary = stat_raw is not None
    if stationary and not isinstance(stat_raw, Mapping):
        raise DemandError("stationary", "must be a table")
    date_raw = prof.get("date", "2026-11-23")
    try:
        date = date_raw if isinstance(date_raw, dt.date) else dt.date.fromisoformat(str(date_raw))
    except ValueError:
        raise DemandError("profile.date", f"{date_raw!r} is not a date YYYY-MM-DD") from None

    interval = 60 * _num(prof, "interval_minutes", "profile.interval_minutes", 60.0, positive=True)
    start = clock_seconds(prof.get("start"), "profile.start") if "start" in prof else 60.0 * layout.hours.opens
    close = 60.0 * layout.hours.closes
    cutoff_minutes = _num(prof, "cutoff_minutes", "profile.cutoff_minutes", 30.0)
    sl = _num(prof, "service_level_minutes", "profile.service_level_minutes",
              layout.rules.service_level_minutes, positive=True)
    call_minutes = _num(prof, "no_show_call_minutes", "profile.no_show_call_minutes", 1.5)
    walk_minutes = _num(prof, "walk_up_minutes", "profile.walk_up_minutes", 0.0)
    service_factor = _num(prof, "service_factor", "profile.service_factor", 1.0, positive=True)
    punct = prof.get("punctuality", {})
    if not isinstance(punct, Mapping):
        raise DemandError("profile.punctuality", "must be a table")
    p_mean = 60 * _num(punct, "early_mean_minutes", "profile.punctuality.early_mean_minutes", 5.0,
                       allow_negative=True)
    p_sd = 60 * _num(punct, "sd_minutes", "profile.punctuality.sd_minutes", 8.0)

    defaults = {
        "service": prof.get("service"),
        "patience": prof.get("patience"),
        "no_show": prof.get("no_show", 0.0),
        "recheck_in": prof.get("recheck_in", 0.0),
        "recheck_delay": prof.get("recheck_delay"),
        "appointment_share": prof.get("appointment_share", 0.0),
        "priority_shares": prof.get("priority_shares", {}),
        "booking": prof.get("booking"),
        "multi_matter": prof.get("multi_matter"),
        "suspend": prof.get("suspend"),
    }
    cats_raw = raw.get("categories")
    if not isinstance(cats_raw, Mapping) or not cats_raw:
        raise DemandError("categories", "missing: add a [categories.CODE] table per category")
    known = {c.code: c for c in layout.categories}
    categories = []
    for code, craw in cats_raw.items():
        where = f"categories.{code}"
        if code not in known:
            raise DemandError(where, f"unknown category {code!r} (the layout has {', '.join(known)})")
        if not isinstance(craw, Mapping):
            raise DemandError(where, "must be a table")
        categories.append(_category(code, craw, where, defaults, stationary,
                                    known[code].service_minutes, layout))
    categories = _resolve_transfers(categories, known, stationary)

    if stationary:
        assert isinstance(stat_raw, Mapping)
        horizon = 3600 * _num(stat_raw, "horizon_hours", "stationary.horizon_hours", 1000.0, positive=True)
        warmup = 3600 * _num(stat_raw, "warmup_hours", "stationary.warmup_hours", horizon / 36000)
        if warmup >= horizon:
            raise DemandError("stationary.warmup_hours", "must be shorter than horizon_hours")
        staff: tuple[StaffGroup, ...] = (StaffGroup(tuple(w.number for w in layout.windows), ((0.0, float("inf")),)),)
        cutoff = horizon
        start = 0.0
    else:
        horizon = start + interval * max(len(c.arrivals) for c in categories)
        cutoff = min(close - 60 * cutoff_minutes, horizon)
        if cutoff <= start:
            raise DemandError("profile.cutoff_minutes", "leaves no time to issue tickets")
        warmup = 0.0
        staff = parse_staff(raw.get("staff"), layout)
    pauses = parse_pauses(prof.get("pauses"))
    if pauses is not None and stationary:
        raise DemandError("profile.pauses", "fall in a hall day's opening hours, not a stationary run")
    variation = parse_variation(raw.get("variation"), date)
    if variation is not None and stationary:
        raise DemandError("variation", "describes days of a hall; a stationary run has none")

    demand = Demand(
        name=str(prof.get("name", "")),
        date=date,
        stationary=stationary,
        interval=interval,
        start=start,
        cutoff=cutoff,
        close=close if not stationary else horizon,
        horizon=horizon,
        warmup=warmup,
        service_level_minutes=sl,
        no_show_call_seconds=60 * call_minutes,
        walk_up_seconds=60 * walk_minutes,
        punctuality_mean=p_mean,
        punctuality_sd=p_sd,
        categories=tuple(categories),
        staff=staff,
        source=dict(raw),
        variation=variation,
        service_factor=service_factor,
        service_factors=parse_service_factors(raw.get("service_factors"), layout),
        balking=_balking(prof.get("balking")),
        turnaround_seconds=60 * _num(prof, "turnaround_minutes", "profile.turnaround_minutes", 0.0),
        absence=_share(prof.get("absence", 0.0), "profile.absence"),
        pauses=pauses,
    )
    check_coverage(demand, layout)
    return demand


def _resolve_transfers(categories: list[CategoryDemand], known: Mapping[str, Any],
                       stationary: bool) -> list[CategoryDemand]:
    """A transfer without its own `service` takes the target category's law (the profile's,
    else the layout's typical time); a transfer to a named window keeps the person's own."""
    by_code = {c.code: c for c in categories}
    out = []
    for c in categories:
        t = c.transfer
        if t is not None and t.service is None:
            if t.to_category is None:
                law = c.service
            elif t.to_category in by_code:
                law = by_code[t.to_category].service
            else:
                law = parse_dist(known[t.to_category].service_minutes,
                                 f"categories.{c.code}.transfer",
                                 "exponential" if stationary else "lognormal")
            c = replace(c, transfer=replace(t, service=law))
        out.append(c)
    return out


def _category(code: str, craw: Mapping[str, Any], where: str, defaults: Mapping[str, Any],
              stationary: bool, layout_minutes: float, layout: HallLayout) -> CategoryDemand:
    arrivals: tuple[float, ...] = ()
    rate = 0.0
    if stationary:
        rate = _num(craw, "rate_per_hour", f"{where}.rate_per_hour", 0.0)
    else:
        arr = craw.get("arrivals")
        if not isinstance(arr, list) or not arr:
            raise DemandError(f"{where}.arrivals", "must be a list of expected arrivals per interval")
        vals = []
        for i, a in enumerate(arr):
            if isinstance(a, bool) or not isinstance(a, int | float):
                raise DemandError(f"{where}.arrivals[{i}]", "must be a number")
            if a < 0:
                raise DemandError(f"{where}.arrivals[{i}]", f"must not be negative, got {a}")
            vals.append(float(a))
        arrivals = tuple(vals)
    service_raw = craw.get("service", defaults["service"])
    if service_raw is None:
        service_raw = layout_minutes  # the layout's typical service time, lognormal
    default_kind = "exponential" if stationary else "lognormal"
    service = parse_dist(service_raw, f"{where}.service", default_kind)
    patience_raw = craw.get("patience", defaults["patience"])
    patience = (parse_dist(patience_raw, f"{where}.patience", "exponential")
                if patience_raw is not None else None)
    no_show = _share(craw.get("no_show", defaults["no_show"]), f"{where}.no_show")
    recheck = _share(craw.get("recheck_in", defaults["recheck_in"]), f"{where}.recheck_in")
    delay_raw = craw.get("recheck_delay", defaults["recheck_delay"])
    recheck_delay = (parse_dist(delay_raw if delay_raw is not None else 10.0,
                                f"{where}.recheck_delay", "exponential") if recheck > 0 else None)
    appt = _share(craw.get("appointment_share", defaults["appointment_share"]),
                  f"{where}.appointment_share")
    pr_raw = craw.get("priority_shares", defaults["priority_shares"])
    if not isinstance(pr_raw, Mapping):
        raise DemandError(f"{where}.priority_shares", "must be a table {elderly = 0.05, …}")
    shares = []
    for key, value in pr_raw.items():
        try:
            klass = PriorityClass(key)
        except ValueError:
            allowed = ", ".join(p.value for p in PriorityClass if p is not PriorityClass.NORMAL)
            raise DemandError(f"{where}.priority_shares.{key}",
                              f"unknown priority class (one of {allowed})") from None
        if klass is PriorityClass.NORMAL:
            raise DemandError(f"{where}.priority_shares.{key}", "normal is the remainder")
        shares.append((klass, _share(value, f"{where}.priority_shares.{key}")))
    if sum(s for _, s in shares) + appt > 1 + 1e-9:
        raise DemandError(f"{where}.priority_shares", "priority and appointment shares exceed 1")
    matters = []
    m_raw = craw.get("matters", [])
    if not isinstance(m_raw, list):
        raise DemandError(f"{where}.matters", "must be a list of {code, share, service?} tables")
    for i, m in enumerate(m_raw):
        here = f"{where}.matters[{i}]"
        if not isinstance(m, Mapping) or not isinstance(m.get("code"), str):
            raise DemandError(here, "must be a table with a code")
        share = _share(m.get("share"), f"{here}.share")
        msvc = parse_dist(m["service"], f"{here}.service", default_kind) if "service" in m else None
        matters.append(Matter(m["code"], share, msvc))
    if matters and abs(sum(m.share for m in matters) - 1.0) > 1e-6:
        raise DemandError(f"{where}.matters", "shares must add up to 1")
    booking = _booking(craw.get("booking", defaults["booking"]), f"{where}.booking")
    if booking is not None and stationary:
        raise DemandError(f"{where}.booking", "needs a hall day (slots), not a stationary run")
    return CategoryDemand(
        code, arrivals, rate, service, patience, no_show, appt, tuple(shares), tuple(matters),
        recheck, recheck_delay, booking,
        transfer=parse_transfer(craw.get("transfer"), f"{where}.transfer", layout, code),
        multi_matter=parse_multi_matter(craw.get("multi_matter", defaults["multi_matter"]),
                                        f"{where}.multi_matter"),
        suspend=parse_suspension(craw.get("suspend", defaults["suspend"]), f"{where}.suspend"))


def _booking(raw: Any, where: str) -> Booking | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise DemandError(where, "must be a table {slot_minutes, capacity, fill, no_show}")
    slot = 60 * _num(raw, "slot_minutes", f"{where}.slot_minutes", 30.0, positive=True)
    cap = raw.get("capacity", 1)
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 0:
        raise DemandError(f"{where}.capacity", f"must be a whole number at least 0, got {cap!r}")
    return Booking(slot, cap, _share(raw.get("fill", 1.0), f"{where}.fill"),
                   _share(raw.get("no_show", 0.0), f"{where}.no_show"))


def _balking(raw: Any) -> tuple[float, float] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise DemandError("profile.balking", "must be a table {start = 20, all = 80}")
    lo = _num(raw, "start", "profile.balking.start", 0.0)
    hi = _num(raw, "all", "profile.balking.all", lo + 1.0)
    if hi <= lo:
        raise DemandError("profile.balking.all", f"must be more than start ({lo:g}), got {hi:g}")
    return lo, hi


def _num(raw: Mapping[str, Any], key: str, where: str, default: float, positive: bool = False,
         allow_negative: bool = False) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DemandError(where, "must be a number")
    if positive and not value > 0:
        raise DemandError(where, f"must be more than 0, got {value}")
    if not allow_negative and value < 0:
        raise DemandError(where, f"must not be negative, got {value}")
    return float(value)


def _share(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise DemandError(where, f"must be a share between 0 and 1, got {value!r}")
    return float(value)
