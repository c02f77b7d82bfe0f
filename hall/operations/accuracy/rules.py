"""Scores of estimates and forecasts against what happened, pure.

Definitions (one each, shared by the statistics, the export and /metrics):
- a ticket's *real wait* is from its issue to its first call (queueing.metrics' wait of a fresh
  ticket); tickets that left or were never called have none and are not scored, as the
  forecast's own person figures leave out those who gave up;
- an estimate's score is queueing.estimate.score_estimates: the share of real waits under the
  p50 and under the p90 given (a wait equal to the figure counts half; "no wait", told at a free
  window, is scored apart as the share called at once), and the mean absolute error of the p50 (minutes) — scored
  as people read them, in whole minutes (the kiosk and the progress page round both figures,
  Hall.estimateText): a person told "马上就到" who is called 20 seconds later was told right;
  the rounding moves a long wait's threshold by at most half a minute either way;
- a forecast slot is scored once its start has passed and only if it starts after the forecast
  was made (the slot holding `now` began before the forecast saw the hall): the people waiting
  in its zone at that instant, realised, inside the slot's p10..p90 band or not (its central
  80%: narrower than the 90% band the goal names, so a coverage that meets the goal meets it with
  room), and the median's absolute error.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from queueing.estimate import Estimate, score_estimates

__all__ = ["EstimateFact", "WaitSpan", "SlotFact", "score_tickets", "WaitingCounter", "score_slots",
           "BY", "ROW_COLUMNS", "accuracy_rows"]

BY = ("day", "hour", "category", "source")


@dataclass(frozen=True, slots=True)
class EstimateFact:
    ticket_id: int
    category: str
    issued_at: float
    p50_minutes: float | None
    p90_minutes: float | None
    source: str
    wait_minutes: float | None  # issue to first call; None: not called (yet)


@dataclass(frozen=True, slots=True)
class WaitSpan:
    """When a ticket waited in its zone: from issue to its first call, cancel or close."""

    zone: str
    start: float
    end: float | None  # None: still waiting


@dataclass(frozen=True, slots=True)
class SlotFact:
    computed_at: float
    zone: str
    slot_at: float
    waiting_p10: float | None
    waiting_p50: float | None
    waiting_p90: float | None


def _shown(minutes: float) -> float:
    """Whole minutes as a page shows them (JavaScript's Math.round: halves up)."""
    return float(math.floor(minutes + 0.5))


def _round(score: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in score.items()}


def score_tickets(facts: Iterable[EstimateFact], tz: ZoneInfo) -> dict[str, Any]:
    """Scores of the estimates given, for the day and by hall-local hour of issue, category and
    source (forecast or analytic). Estimates without figures (no window was open) are left out."""
    groups: dict[str, dict[str, list[tuple[Estimate, float]]]] = {b: defaultdict(list) for b in BY}
    for f in facts:
        if f.wait_minutes is None or f.p50_minutes is None or f.p90_minutes is None:
            continue
        pair = (Estimate(0, _shown(f.p50_minutes), _shown(f.p90_minutes)), _shown(f.wait_minutes))
        hour = datetime.fromtimestamp(f.issued_at, tz).strftime("%H:00")
        for by, key in (("day", "day"), ("hour", hour), ("category", f.category),
                        ("source", f.source)):
            groups[by][key].append(pair)
    out: dict[str, Any] = {b: {k: _round(score_estimates(v)) for k, v in sorted(groups[b].items())}
                           for b in BY if b != "day"}
    out["day"] = _round(score_estimates(groups["day"].get("day", [])))
    return out


class WaitingCounter:
    """People waiting (start <= t < end) at many instants: two sorted lists, a bisect each."""

    def __init__(self, spans: Iterable[WaitSpan]) -> None:
        spans = list(spans)
        self.starts = sorted(s.start for s in spans)
        self.ends = sorted(s.end for s in spans if s.end is not None)

    def at(self, t: float) -> int:
        return bisect.bisect_right(self.starts, t) - bisect.bisect_right(self.ends, t)


def score_slots(slots: Iterable[SlotFact], spans: Iterable[WaitSpan], now: float) -> dict[str, Any]:
    """Coverage of the p10..p90 band and the median's mean absolute error over the slots that have
    happened, for the day, per zone and per forecast (keyed by its epoch)."""
    by_zone: dict[str, list[WaitSpan]] = defaultdict(list)
    for span in spans:
        by_zone[span.zone].append(span)
    counters = {z: WaitingCounter(v) for z, v in by_zone.items()}
    tallies: dict[str, dict[Any, list[float]]] = {"zone": defaultdict(lambda: [0, 0, 0.0]),
                                                   "forecast": defaultdict(lambda: [0, 0, 0.0])}
    day = [0, 0, 0.0]
    for s in slots:
        if s.slot_at > now or s.slot_at < s.computed_at:
            continue
        if s.waiting_p10 is None or s.waiting_p50 is None or s.waiting_p90 is None:
            continue
        c = counters.get(s.zone)
        real = c.at(s.slot_at) if c is not None else 0
        inside = s.waiting_p10 <= real <= s.waiting_p90
        err = abs(real - s.waiting_p50)
        for t in (day, tallies["zone"][s.zone], tallies["forecast"][s.computed_at]):
            t[0] += 1
            t[1] += inside
            t[2] += err

    def score(t: Sequence[float]) -> dict[str, Any]:
        n = int(t[0])
        return {"slots": n, "band_coverage": round(t[1] / n, 4) if n else None,
                "median_abs_error": round(t[2] / n, 3) if n else None}

    return {"day": score(day),
            "zone": {z: score(t) for z, t in sorted(tallies["zone"].items())},
            "forecast": [{"computed_at": k, **score(t)} for k, t in sorted(tallies["forecast"].items())]}


ROW_COLUMNS = ("dimension", "key", "estimates", "under_p50", "under_p90", "estimate_mae", "told_no_wait",
               "no_wait_kept", "slots", "band_coverage", "median_error")


def accuracy_rows(scores: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The day's scores as table rows (the statistics page and the export): the estimates by
    day, hour, category and source, then the forecasts' slots for the day and per zone."""
    # every row has every column (None where it does not apply): the page and the export read
    # them all, whichever kind the row is
    blank = dict.fromkeys(ROW_COLUMNS)

    def est_row(dimension: str, key: str, s: Mapping[str, Any]) -> dict[str, Any]:
        return {**blank, "dimension": dimension, "key": key, "estimates": s["count"],
                "under_p50": s["share_under_p50"], "under_p90": s["share_under_p90"],
                "estimate_mae": s["mean_abs_error_minutes"], "told_no_wait": s["told_no_wait"],
                "no_wait_kept": s["no_wait_kept"]}

    def slot_row(dimension: str, key: str, s: Mapping[str, Any]) -> dict[str, Any]:
        return {**blank, "dimension": dimension, "key": key, "slots": s["slots"],
                "band_coverage": s["band_coverage"], "median_error": s["median_abs_error"]}

    est, fc = scores["estimates"], scores["forecasts"]
    day_slots = {k: v for k, v in slot_row("day", scores["day"], fc["day"]).items() if v is not None}
    rows = [{**est_row("day", scores["day"], est["day"]), **day_slots}]
    for by in ("hour", "category", "source"):
        rows += [est_row(by, k, s) for k, s in est[by].items()]
    rows += [slot_row("zone", k, s) for k, s in fc["zone"].items()]
    return rows
