"""The hall's own flows beyond one wait and one service (issue 15): what the profile says and
how a day's share of them is drawn.

- **Transfer (转办)** `transfer = { share, to_category | to_window, service? }` per category: after
  their service a share of people are sent to another category or to a named window, keep their
  place in time (the queue key of their arrival), wait again and get a second service (the
  target category's law unless `service` is given).
- **Multi-matter (一事联办)** `multi_matter = { share, matters = 2 }`: a share of tickets carry
  `matters` matters, served one after the other at one window (the service is the sum).
- **Suspension (挂起/补正)** `suspend = { share, at = 0.5, returns = 1, return_delay }`: a share of
  people are set aside `at` of the way through their service to fetch a missing paper; a share
  `returns` come back after `return_delay` and go to the head of the suspending window's named
  queue (or of their category's when that window is shut) for the rest of their service.
- **Pauses (暂停服务)** `profile.pauses = { per_hour, minutes }`: a staffed window pauses at
  Poisson instants over the hall's opening periods, for `minutes`; a pause falling during a
  service starts when that person is done (a clerk never walks off mid-service).

Each is drawn from its own streams (`sim.streams.Source`): whether it applies is one uniform per
person in arrival order, for everyone, so switching a flow on never moves anybody else's draws.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from queueing.layout import HallLayout
from sim.distributions import Dist, parse_dist
from sim.staffing import DemandError
from sim.streams import Source, Streams

__all__ = ["Transfer", "MultiMatter", "Suspension", "Pauses", "parse_transfer",
           "parse_multi_matter", "parse_suspension", "parse_pauses", "draw_pauses"]


@dataclass(frozen=True, slots=True)
class Transfer:
    share: float
    to_category: str | None
    to_window: int | None
    service: Dist | None  # None until resolved: the target category's law (see demand)


@dataclass(frozen=True, slots=True)
class MultiMatter:
    share: float
    matters: int  # matters on such a ticket (at least 2)


@dataclass(frozen=True, slots=True)
class Suspension:
    share: float
    at: float  # share of the service done when the ticket is set aside
    returns: float  # share of the suspended who come back the same day
    return_delay: Dist


@dataclass(frozen=True, slots=True)
class Pauses:
    per_hour: float  # pauses per staffed window-hour
    duration: Dist


def _share(raw: Mapping[str, Any], key: str, where: str, default: float | None = None) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise DemandError(f"{where}.{key}", f"must be a share between 0 and 1, got {value!r}")
    return float(value)


def _table(raw: Any, where: str, shape: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise DemandError(where, f"must be a table {shape}")
    return raw


def parse_transfer(raw: Any, where: str, layout: HallLayout, own: str) -> Transfer | None:
    if raw is None:
        return None
    t = _table(raw, where, "{share, to_category = \"B\" | to_window = 7, service?}")
    share = _share(t, "share", where)
    to_cat, to_win = t.get("to_category"), t.get("to_window")
    if (to_cat is None) == (to_win is None):
        raise DemandError(where, "give either to_category or to_window")
    if to_cat is not None:
        codes = [c.code for c in layout.categories]
        if to_cat not in codes:
            raise DemandError(f"{where}.to_category", f"unknown category {to_cat!r}")
        if to_cat == own:
            raise DemandError(f"{where}.to_category", "a transfer goes to another category")
        if not any(to_cat in {s.category for s in w.skills} for w in layout.windows):
            raise DemandError(f"{where}.to_category", f"no window serves {to_cat!r}")
    if to_win is not None:
        if isinstance(to_win, bool) or not isinstance(to_win, int) \
                or to_win not in {w.number for w in layout.windows}:
            raise DemandError(f"{where}.to_window", f"no window numbered {to_win!r}")
    service = parse_dist(t["service"], f"{where}.service") if "service" in t else None
    return Transfer(share, to_cat, to_win, service)


def parse_multi_matter(raw: Any, where: str) -> MultiMatter | None:
    if raw is None:
        return None
    t = _table(raw, where, "{share, matters = 2}")
    n = t.get("matters", 2)
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= 20:
        raise DemandError(f"{where}.matters", f"must be a whole number from 2 to 20, got {n!r}")
    return MultiMatter(_share(t, "share", where), n)


def parse_suspension(raw: Any, where: str) -> Suspension | None:
    if raw is None:
        return None
    t = _table(raw, where, "{share, at = 0.5, returns = 1, return_delay = 20}")
    at = _share(t, "at", where, 0.5)
    if not 0 < at < 1:
        raise DemandError(f"{where}.at", f"must be strictly between 0 and 1, got {at}")
    delay = parse_dist(t.get("return_delay", 20.0), f"{where}.return_delay", "exponential")
    return Suspension(_share(t, "share", where), at, _share(t, "returns", where, 1.0), delay)


def parse_pauses(raw: Any) -> Pauses | None:
    if raw is None:
        return None
    where = "profile.pauses"
    t = _table(raw, where, "{per_hour = 0.3, minutes = 8}")
    rate = t.get("per_hour")
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 60:
        raise DemandError(f"{where}.per_hour", f"must be a number from 0 to 60, got {rate!r}")
    return Pauses(float(rate), parse_dist(t.get("minutes", 8.0), f"{where}.minutes", "exponential"))


def draw_pauses(pauses: Pauses | None, layout: HallLayout,
                streams: Streams) -> dict[int, tuple[tuple[float, float], ...]]:
    """(instant, seconds) of each window's pauses today, seconds after midnight: a Poisson
    process over the hall's opening periods, from one stream per window number (so a layout
    with a window more leaves the other windows' pauses where they were)."""
    if pauses is None or pauses.per_hour <= 0:
        return {}
    rate = pauses.per_hour / 3600.0
    out: dict[int, tuple[tuple[float, float], ...]] = {}
    for w in layout.windows:
        rng = streams.get(Source.PAUSE, str(w.number))
        mine = []
        for p in layout.hours.periods:
            lo, hi = 60.0 * p.start, 60.0 * p.end
            t = lo + rng.expovariate(rate)
            while t < hi:
                mine.append((t, pauses.duration.sample(rng)))
                t += rng.expovariate(rate)
        if mine:
            out[w.number] = tuple(mine)
    return out


def draw_flows(n: int, streams: Streams, code: str, transfer: Transfer | None,
               multi: MultiMatter | None, suspend: Suspension | None
               ) -> tuple[list[int] | None, list[float] | None, list[float] | None,
                          list[float] | None]:
    """Per person of one category: matters on the ticket, second service after a transfer
    (nan: none), share of the service done at a suspension (nan: none) and the time until the
    suspended come back (inf: not today). None for a flow the profile does not have."""
    matters = transfer_service = suspend_at = back_after = None
    if multi is not None and multi.share > 0:
        rng = streams.get(Source.MULTI, code).random
        k, m_share = multi.matters, multi.share
        matters = [k if rng() < m_share else 1 for _ in range(n)]
    # whether a person is transferred or suspended is one uniform each, for everyone; the
    # second service and the return delay come from streams of their own, drawn only for those
    # it applies to (cheaper, and still the same people for every layout)
    if transfer is not None and transfer.share > 0:
        assert transfer.service is not None  # resolved by the demand parser
        u_t = streams.get(Source.TRANSFER, code).random
        law_rng = streams.get(Source.TRANSFER, f"{code}|service")
        share, sample = transfer.share, transfer.service.sample
        nan = math.nan
        transfer_service = [sample(law_rng) if u_t() < share else nan for _ in range(n)]
    if suspend is not None and suspend.share > 0:
        u_s = streams.get(Source.SUSPEND, code).random
        delay_rng = streams.get(Source.SUSPEND, f"{code}|delay")
        suspend_at, back_after = [], []
        s_share, returns, at = suspend.share, suspend.returns, suspend.at
        for _ in range(n):
            u, v = u_s(), u_s()
            if u < s_share:
                suspend_at.append(at)
                back_after.append(suspend.return_delay.sample(delay_rng) if v < returns
                                  else math.inf)
            else:
                suspend_at.append(math.nan)
                back_after.append(math.nan)
    return matters, transfer_service, suspend_at, back_after
