"""The exported event log (`hall export events`, docs/CONTRACTS.md), both ways.

Reading: JSON lines of `{"seq", "type", "at", "hall", "data"}` grouped into one record per
ticket, with waits and service times by `queueing.metrics`' definitions. Writing: a simulated
day as the same envelopes, so calibration and replay can be checked against days whose truth
is known (and so simulated days can feed any tool that reads exports).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from queueing import metrics
from queueing.tickets import TicketEventType as E
from sim.model import (
    OUTCOME_ABANDONED,
    OUTCOME_BALKED,
    OUTCOME_NO_SHOW,
    OUTCOME_REFUSED,
    OUTCOME_SERVED,
    DayRecord,
)
from sim.population import Person

__all__ = ["EventLogError", "read_events", "parse_events", "json_lines", "instant", "TicketLog", "tickets_from_events",
           "day_to_events", "write_events"]


class EventLogError(ValueError):
    """The event file is unreadable; the message names the line."""


def _instant(value: Any, where: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value).timestamp()
        except ValueError:
            pass
    raise EventLogError(f"{where}: {value!r} is not an ISO 8601 instant")


def json_lines(lines: Iterable[str], source: str) -> Iterator[tuple[str, Any]]:
    """(where, value) of each non-blank JSON line, where = "source:line"; raises EventLogError
    naming the line that is not JSON."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{source}:{n}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as e:
            raise EventLogError(f"{where}: not JSON ({e.msg})") from None


def instant(value: Any, where: str) -> float:
    """Epoch seconds of an ISO 8601 instant or a number; raises EventLogError naming `where`."""
    return _instant(value, where)


def parse_events(lines: Iterable[str], source: str = "<events>") -> list[dict[str, Any]]:
    """Envelopes with `at` turned into epoch seconds (`at_epoch`); raises EventLogError."""
    out = []
    for where, env in json_lines(lines, source):
        if not isinstance(env, dict) or not isinstance(env.get("type"), str) \
                or not isinstance(env.get("data"), dict):
            raise EventLogError(f"{where}: not an event envelope {{seq, type, at, hall, data}}")
        env["at_epoch"] = _instant(env.get("at"), f"{where}.at")
        out.append(env)
    return out


def read_events(path: str | Path) -> list[dict[str, Any]]:
    p = Path(path)
    try:
        with p.open(encoding="utf-8") as f:
            return parse_events(f, str(p))
    except FileNotFoundError:
        raise EventLogError(f"{p}: no such file") from None


@dataclass(slots=True)
class TicketLog:
    """One ticket's story from the log (epoch seconds)."""

    id: Any
    category: str
    issued: float
    priority: str = "normal"
    appointment_start: float | None = None
    events: list[tuple[str, float, Mapping[str, Any]]] = field(default_factory=list)
    window: int | None = None

    @property
    def wait(self) -> float | None:
        return metrics.wait_seconds(self.events)

    @property
    def service(self) -> float | None:
        return metrics.service_seconds(self.events)

    @property
    def abandoned_after(self) -> float | None:
        return metrics.abandoned_wait_seconds(self.events)

    @property
    def occupancy(self) -> float | None:
        """Seconds a window was held for this ticket: from its last call to its finish (the
        service proper plus calling and walking up); None if not finished after a call."""
        called = None
        for kind, at, _ in self.events:
            if kind == E.CALLED:
                called = at
            elif kind == E.FINISHED and called is not None:
                return max(0.0, at - called)
        return None

    @property
    def absent_call(self) -> float | None:
        """For a no-show: seconds from the (last) call to the no-show mark."""
        called = None
        for kind, at, _ in self.events:
            if kind == E.CALLED:
                called = at
            elif kind == E.NO_SHOW and called is not None:
                return max(0.0, at - called)
        return None

    @property
    def came_back_after(self) -> float | None:
        """For a no-show who re-checked in: seconds from the no-show mark to the re-check-in."""
        marked = None
        for kind, at, _ in self.events:
            if kind == E.NO_SHOW:
                marked = at
            elif kind == E.RECHECKED_IN and marked is not None:
                return max(0.0, at - marked)
        return None

    @property
    def no_show(self) -> bool:
        kinds = [k for k, _, _ in self.events]
        return E.NO_SHOW in kinds and E.STARTED not in kinds[kinds.index(E.NO_SHOW):]


def tickets_from_events(envelopes: Sequence[Mapping[str, Any]]) -> list[TicketLog]:
    """Tickets in issue order; events without a ticket id (windows, devices) are skipped."""
    tickets: dict[Any, TicketLog] = {}
    for env in envelopes:
        kind = env["type"]
        if not kind.startswith("ticket."):
            continue
        data = env["data"]
        tid = data.get("id")
        if tid is None:
            continue
        at = env["at_epoch"]
        t = tickets.get(tid)
        if kind == E.ISSUED:
            slot = data.get("appointment_start")
            t = tickets[tid] = TicketLog(
                tid, str(data.get("category")), at, str(data.get("priority") or "normal"),
                None if slot is None else _instant(slot, f"ticket {tid} appointment_start"))
            ev_data: dict[str, Any] = {"appointment_start": t.appointment_start}
        elif t is None:
            continue  # the log starts after this ticket was issued
        else:
            ev_data = dict(data)
        if data.get("window") is not None and t.window is None:
            t.window = int(data["window"])
        t.events.append((kind, at, ev_data))
    return sorted(tickets.values(), key=lambda t: t.issued)


def day_to_events(record: DayRecord, people: Sequence[Person], hall: str, epoch: float,
                  tz: str, first_id: int = 1, first_seq: int = 1,
                  walk_up: float = 0.0) -> list[dict[str, Any]]:
    """A simulated day as exported envelopes (issued, called, started `walk_up` seconds after
    the call, finished, no_show, cancelled for those who gave up, closed for those never
    called). Pass the profile's `walk_up_seconds`."""
    zone = ZoneInfo(tz)
    raw: list[tuple[float, int, str, dict[str, Any]]] = []
    for i, p in enumerate(people):
        if record.outcome[i] in (OUTCOME_BALKED, OUTCOME_REFUSED):
            continue  # left on seeing the queue, or refused at the cap: no ticket, no log
        tid = first_id + i
        base = {"id": tid, "category": p.category}
        at = epoch + p.arrival
        slot = None if p.appointment_start is None else epoch + p.appointment_start
        qc = "appointment" if slot is not None else ("normal" if p.priority == "normal" else "priority")
        raw.append((at, 0, E.ISSUED, {**base, "channel": "appointment" if slot else "kiosk",
                                      "queue_class": qc, "priority": str(p.priority),
                                      "appointment_start": slot}))
        o = record.outcome[i]
        first = record.rechecked.get(i)
        if first is not None:  # a no-show who came back: first call, 过号, re-check-in
            f_called, f_end, f_window = first
            fw = {**base, "window": f_window}
            raw.append((epoch + f_called, 1, E.CALLED, fw))
            raw.append((epoch + f_end, 3, E.NO_SHOW, fw))
            raw.append((epoch + record.wait_start[i], 0, E.RECHECKED_IN, base))
        k = record.matters[i] if record.matters else 1
        for seg in record.segments.get(i, ()):  # services before a transfer or a suspension
            sw = {**base, "window": seg.window}
            raw.append((epoch + seg.called, 1, E.CALLED, sw))
            raw.append((epoch + seg.called + walk_up, 2, E.STARTED, sw))
            _matters(raw, base, k, epoch + seg.called + walk_up, epoch + seg.end)
            k = 1
            if seg.kind == "transferred":
                raw.append((epoch + seg.end, 0, E.TRANSFERRED,
                            {**sw, "from_category": base["category"],
                             "to_category": seg.to_category, "to_window": seg.to_window}))
                if seg.to_category is not None:
                    base = {**base, "category": seg.to_category}
            else:
                raw.append((epoch + seg.end, 0, E.SUSPENDED, {**sw, "kind": "missing_papers"}))
                raw.append((epoch + seg.back, 0, E.RESUMED, base))
        if o in (OUTCOME_SERVED, OUTCOME_NO_SHOW):
            called = epoch + record.called[i]
            w = {**base, "window": record.window[i]}
            raw.append((called, 1, E.CALLED, w))
            end = epoch + record.service_end[i]
            if o == OUTCOME_SERVED:
                raw.append((called + walk_up, 2, E.STARTED, w))
                _matters(raw, base, k, called + walk_up, end)
                if i in record.not_back:  # 挂起 and not back today: closed with the day
                    raw.append((end, 0, E.SUSPENDED, {**w, "kind": "missing_papers"}))
                    raw.append((epoch + max(record.last_end, record.close), 4, E.CLOSED,
                                {**base, "reason": "day_closed"}))
                else:
                    raw.append((end, 3, E.FINISHED, w))
            else:
                raw.append((end, 3, E.NO_SHOW, w))
        elif o == OUTCOME_ABANDONED:
            raw.append((epoch + record.left[i], 3, E.CANCELLED, {**base, "reason": "left"}))
        else:
            last = epoch + max(record.last_end, record.close)
            raw.append((last, 4, E.CLOSED, {**base, "reason": "day_closed"}))
    for number, spans in record.pauses.items():
        for a, b in spans:
            raw.append((epoch + a, 0, "window.paused", {"window": number, "reason": "break"}))
            raw.append((epoch + b, 0, "window.resumed", {"window": number}))
    raw.sort(key=lambda x: (x[0], x[1]))
    out = []
    for seq, (at, _, kind, data) in enumerate(raw, first_seq):
        stamp = dt.datetime.fromtimestamp(at, zone).isoformat(timespec="milliseconds")
        out.append({"seq": seq, "type": str(kind), "at": stamp, "hall": hall, "data": data})
    return out


def _matters(raw: list[tuple[float, int, str, dict[str, Any]]], base: Mapping[str, Any],
             k: int, start: float, end: float) -> None:
    """A 一事联办 ticket's matters one after the other over its service (equal parts: the model
    draws only their sum). The last ends a millisecond early so it sorts before the service's
    own end."""
    if k < 2:
        return
    step = (end - start) / k
    for j in range(k):
        m = {**base, "matter": f"M{j + 1}"}
        raw.append((start + j * step, 2, E.MATTER_STARTED, m))
        raw.append((start + (j + 1) * step - (1e-3 if j == k - 1 else 0.0), 2,
                    E.MATTER_FINISHED, m))


def write_events(envelopes: Iterable[Mapping[str, Any]], path: str | Path) -> int:
    n = 0
    with Path(path).open("w", encoding="utf-8") as f:
        for env in envelopes:
            clean = {k: v for k, v in env.items() if k != "at_epoch"}
            f.write(json.dumps(clean, ensure_ascii=False) + "\n")
            n += 1
    return n


def _finite(x: float) -> bool:
    return not (math.isnan(x) or math.isinf(x))


def iter_days(tickets: Sequence[TicketLog], tz: str) -> Iterator[tuple[dt.date, list[TicketLog]]]:
    """Tickets grouped by hall-local day of issue, in order."""
    zone = ZoneInfo(tz)
    day: dt.date | None = None
    bucket: list[TicketLog] = []
    for t in tickets:
        d = dt.datetime.fromtimestamp(t.issued, zone).date()
        if d != day and bucket:
            assert day is not None
            yield day, bucket
            bucket = []
        day = d
        bucket.append(t)
    if bucket and day is not None:
        yield day, bucket
