"""`hall sim calibrate`: a demand profile fitted from the server's exported event log.

Hall-wide: the mean time from a call to the start of service (walking up). Per category: mean
arrivals per interval over the recorded days (days with any ticket count),
a lognormal service time by moments (the layout's typical time when fewer than 5 services were
seen), the no-show share at the first call, the share of no-shows who re-checked in and their
delay, appointment and priority shares. Patience, hall-wide: survival analysis on the censored
waits (`sim.survival`: exponential, lognormal and Weibull by maximum likelihood with censoring,
the least AIC kept; the choice is reported under `patience_fit`). Hall hours come
from the layout; staff periods are not inferred (add [[staff]] groups by hand if needed).

Turnaround (`profile.turnaround_minutes`): the median gap between a window's finish and its next
call while someone was waiting. Absence (`profile.absence`): over ≥ 10 days, the share of
window-days on which a window seen on other days served nobody.

Day-to-day variation (`[variation]`, with at least `MIN_DAYS_FOR_VARIATION` recorded days):
weekday, month-end and named periods' factors and the gamma–Poisson overdispersion
(`sim.fit_calendar`). Balking by visible queue length (`profile.balking`, `sim.fit_balking`):
the issue rate against the hall's waiting count, a profile likelihood kept by AIC; when fitted,
the walk-in arrivals are scaled up to those who came, not only those who took a ticket.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from queueing.layout import HallLayout
from sim.eventlog import EventLogError, TicketLog, iter_days, tickets_from_events
from sim.fit_balking import fit_balking
from sim.fit_calendar import MIN_DAYS_FOR_VARIATION, PeriodSpec, fit_variation
from sim.fit_flows import fit_booking, fit_category_flows, fit_pauses, own_service, punctuality
from sim.fit_service import fit_service_factors
from sim.survival import fit_patience, patience_data

__all__ = ["CalibrationError", "calibrate", "to_toml", "read_events", "read_bookings",
           "fit_variation", "MIN_DAYS_FOR_VARIATION"]

class CalibrationError(ValueError):
    pass


def read_events(path: str) -> list[dict[str, Any]]:
    from sim.eventlog import read_events as _read

    try:
        return _read(path)
    except EventLogError as e:
        raise CalibrationError(str(e)) from None


_BOOKING_STATUSES = ("booked", "checked_in", "late", "no_show", "cancelled")


def read_bookings(path: str) -> list[dict[str, Any]]:
    """The booking system's records as JSON lines `{category, start, status}` (start an ISO
    instant or epoch seconds; status one of booked, checked_in, late, no_show, cancelled);
    raises CalibrationError naming the line."""
    from pathlib import Path

    from sim.eventlog import instant, json_lines

    out = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise CalibrationError(f"{path}: no such file") from None
    try:
        for where, rec in json_lines(lines, path):
            if not isinstance(rec, dict) or not isinstance(rec.get("category"), str) \
                    or rec.get("status") not in _BOOKING_STATUSES:
                raise CalibrationError(f"{where}: not a booking {{category, start, status}} "
                                       f"(status one of {', '.join(_BOOKING_STATUSES)})")
            out.append({"category": rec["category"], "start": instant(rec.get("start"),
                                                                       f"{where}.start"),
                        "status": rec["status"]})
    except EventLogError as e:
        raise CalibrationError(str(e)) from None
    return out


def _minutes_of_day(instant: float, zone: ZoneInfo) -> float:
    t = dt.datetime.fromtimestamp(instant, zone)
    return t.hour * 60 + t.minute + t.second / 60 + t.microsecond / 6e7


def _first_call_outcome(t: TicketLog) -> str | None:
    """"present" or "absent" at the ticket's first call; None if never called."""
    called = False
    for kind, _, _ in t.events:
        if kind == "ticket.called":
            called = True
        elif called and kind == "ticket.no_show":
            return "absent"
        elif called and kind in ("ticket.started", "ticket.finished"):
            return "present"
    return "present" if called else None


MIN_SLOT_TICKETS = 10


def _on_slots(ts: Sequence[TicketLog]) -> bool:
    """Appointments booked on slots (every slot starts on a whole minute, as the booking system
    makes them) rather than at free times (a profile's `appointment_share`)."""
    slots = [t.appointment_start for t in ts if t.appointment_start is not None]
    return len(slots) >= MIN_SLOT_TICKETS and all(abs(s - round(s / 60) * 60) < 1e-3
                                                  for s in slots)


def calibrate(envelopes: Sequence[dict[str, Any]], layout: HallLayout,
              interval_minutes: int = 30,
              bookings: Sequence[dict[str, Any]] | None = None,
              periods: Sequence[PeriodSpec] = ()) -> dict[str, Any]:
    """The fitted profile as TOML-ready tables; raises CalibrationError for an empty log or
    tickets of categories the layout does not have. `bookings`: the appointment records
    ({category, start, status}) when the booking system's are at hand (booking no-shows);
    `periods`: (name, first, last day) of the calendar periods whose factors to fit."""
    if interval_minutes <= 0 or 1440 % interval_minutes:
        raise CalibrationError("--interval: must divide a day (e.g. 15, 30, 60)")
    tickets = tickets_from_events(envelopes)
    if not tickets:
        raise CalibrationError("the event log holds no issued tickets")
    known = {c.code: c for c in layout.categories}
    for t in tickets:
        if t.category not in known:
            raise CalibrationError(f"ticket {t.id}: category {t.category!r} is not in the layout")
    zone = ZoneInfo(layout.timezone)
    days = list(iter_days(tickets, layout.timezone))
    start = layout.hours.opens
    end = layout.hours.closes
    n_int = math.ceil((end - start) / interval_minutes)
    counts: dict[str, list[float]] = {c: [0.0] * n_int for c in known}
    slotted = {c for c in known if _on_slots([t for t in tickets if t.category == c])}
    for _, ts in days:
        for t in ts:
            if t.category in slotted and t.appointment_start is not None:
                continue  # booked on slots: the `booking` table brings them, not the walk-ins
            m = _minutes_of_day(t.issued, zone)
            i = int((m - start) // interval_minutes)
            if 0 <= i < n_int:
                counts[t.category][i] += 1
    ndays = len(days)
    day_origin = [dt.datetime.combine(d, dt.time(), zone).timestamp() + start * 60
                  for d, _ in days]
    balking = fit_balking(list(zip(day_origin, (ts for _, ts in days), strict=True)),
                          interval_minutes * 60.0, n_int,
                          lambda t: not (t.category in slotted and t.appointment_start is not None))
    if balking is not None:  # those who balked took no ticket: put them back in the arrivals
        for row in counts.values():
            for i in range(min(len(row), len(balking.scale))):
                row[i] *= balking.scale[i]
    categories: dict[str, Any] = {}
    by_cat: dict[str, list[TicketLog]] = {c: [] for c in known}
    for t in tickets:
        by_cat[t.category].append(t)
    day_of = {t.id: n for n, (_, ts) in enumerate(days) for t in ts}
    service_factors, factor_of = fit_service_factors(tickets, layout, day_of)
    for code, ts in by_cat.items():
        # a person's own time: the service over its window's fitted factor (sim.fit_service)
        # (before any transfer, per matter: sim.fit_flows)
        services = [s / factor_of.get(t.id, 1.0) for t in ts
                    if (s := own_service(t)) is not None and s > 0]
        entry: dict[str, Any] = {"arrivals": [round(x / ndays, 3) for x in counts[code]]}
        if len(services) >= 5:
            mean = sum(services) / len(services)
            var = sum((s - mean) ** 2 for s in services) / (len(services) - 1)
            entry["service"] = {"dist": "lognormal", "mean_minutes": round(mean / 60, 3),
                                "cv": round(max(math.sqrt(var) / mean, 0.05), 3)}
        else:
            entry["service"] = {"dist": "lognormal", "mean_minutes": known[code].service_minutes}
        if ts:
            # 过号 is decided at the first call: of those called, the share absent then — not
            # only final no-shows, since half of them may come back and be served
            first_calls = [k for t in ts if (k := _first_call_outcome(t)) is not None]
            absent = [k for k in first_calls if k != "present"]
            entry["no_show"] = round(len(absent) / len(first_calls), 4) if first_calls else 0.0
            if absent:
                back = [a for t in ts if (a := t.came_back_after) is not None]
                entry["recheck_in"] = round(len(back) / len(absent), 4)
                if back:
                    entry["recheck_delay"] = {"dist": "exponential",
                                              "mean_minutes": round(sum(back) / len(back) / 60, 3)}
            appts = sum(t.appointment_start is not None for t in ts)
            if code in slotted:
                mine = [b for b in bookings or () if b.get("category") == code]
                entry["booking"] = fit_booking(ts, ndays, zone, mine or None)
            elif appts:
                entry["appointment_share"] = round(appts / len(ts), 4)
            shares: dict[str, float] = {}
            for t in ts:
                if t.appointment_start is None and t.priority != "normal":
                    shares[t.priority] = shares.get(t.priority, 0) + 1
            if shares:
                entry["priority_shares"] = {k: round(v / len(ts), 4) for k, v in shares.items()}
        entry.update(fit_category_flows(ts))
        categories[code] = entry
    patience = fit_patience(*patience_data(tickets))
    walks = []
    for t in tickets:
        called = None
        for kind, at, _ in t.events:
            if kind == "ticket.called":
                called = at
            elif kind == "ticket.started" and called is not None:
                walks.append(at - called)
                called = None
    from sim.replay import turnarounds  # replay imports this module's neighbours; keep it lazy

    gaps = sorted(turnarounds(tickets).values())
    # the median gap between a window's finish and its next call when someone was waiting:
    # robust to the few long gaps that are pauses rather than turnaround
    turnaround = gaps[len(gaps) // 2] if len(gaps) >= 20 else 0.0
    active: dict[int, set[int]] = {}
    for n, (_, ts) in enumerate(days):
        for t in ts:
            if t.window is not None:
                active.setdefault(t.window, set()).add(n)
    window_days = len(active) * ndays
    absence = (sum(ndays - len(d) for d in active.values()) / window_days
               if window_days and ndays >= MIN_DAYS_FOR_VARIATION else 0.0)
    first_day = days[0][0]
    out: dict[str, Any] = {
        "profile": {
            "name": f"calibrated from {len(tickets)} tickets over {ndays} day(s)",
            "date": first_day.isoformat(),
            "start": f"{start // 60:02d}:{start % 60:02d}",
            "interval_minutes": interval_minutes,
            "cutoff_minutes": 0,
            "service_level_minutes": layout.rules.service_level_minutes,
            "walk_up_minutes": round(sum(walks) / len(walks) / 60, 3) if walks else 0.0,
            "turnaround_minutes": round(turnaround / 60, 3),
            "absence": round(absence, 4),
        },
        "patience_fit": {} if patience is None else {
            "law": patience.law, "criterion": "AIC", "events": patience.events,
            "censored": patience.censored, "aic": round(patience.aic, 2)},
        "categories": categories,
    }
    if patience is not None:
        out["profile"]["patience"] = patience.to_profile()
    if balking is not None:
        out["profile"]["balking"] = balking.to_profile()
        out["balking_fit"] = {"criterion": "AIC", "likelihood_gain": balking.gain}
    pauses = fit_pauses(envelopes, tickets, layout)
    if pauses is not None:
        out["profile"]["pauses"] = pauses
    early = punctuality(tickets)
    if early is not None:
        out["profile"]["punctuality"] = early
    if service_factors is not None:
        out["service_factors"] = service_factors
    variation = fit_variation([(d, len(ts)) for d, ts in days], periods)
    if variation is not None:
        out["variation"] = variation
    return out


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def to_toml(profile: dict[str, Any]) -> str:
    """The fitted profile as a TOML demand file."""
    lines = ["# Demand profile fitted by `hall sim calibrate` from an exported event log.", ""]
    fit = profile.get("patience_fit")
    if fit:
        lines += [f"# patience: {fit['law']} by AIC over {fit['events']} who left and "
                  f"{fit['censored']} called (censored)", ""]
    lines += ["[profile]"]
    lines += [f"{k} = {_value(v)}" for k, v in profile["profile"].items()]
    for code, entry in profile["categories"].items():
        lines += ["", f"[categories.{code}]"]
        lines += [f"{k} = {_value(v)}" for k, v in entry.items()]
    if "service_factors" in profile:
        lines += ["", "[service_factors]"]
        lines += [f"{k} = {_value(v)}" for k, v in profile["service_factors"].items()]
    if "variation" in profile:
        lines += ["", "[variation]"]
        lines += [f"{k} = {_value(v)}" for k, v in profile["variation"].items()]
    return "\n".join(lines) + "\n"
