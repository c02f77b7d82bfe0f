"""`hall sim live`: simulated people and staff driving a running server through its HTTP API.

SimPy's `RealtimeEnvironment` paces the simulated day against the wall clock (`speed`
simulated seconds per real second). People take tickets at their drawn arrival times
(`POST …/tickets`), give up when their patience runs out (`…/cancel`), and every staffed window
calls (`…/windows/{w}/call`), starts, serves for the person's drawn service time and finishes —
or, for an absent person, marks a no-show after the calling time. An idle window asks again
when the next ticket is issued, or after `poll` simulated seconds. The server dates everything with its own clock, so a recording
of such a run (`hall export events`) is a day at `speed`× that `hall sim replay` can re-run.
It doubles as demo traffic for every screen.

`client` may be any `httpx.Client` (tests pass Starlette's TestClient); errors from the server
other than the expected races (409) raise `LiveError`.

Two options make a run a day the live forecast can be checked against (issue 16):
- `clock`: the clock the server was started with. A `SimulatedClock` reads the simulated day's
  time (the profile's date, hall-local) from the same wall-clock pacing as the driver, so the
  server's tickets, waits and forecasts are in simulated seconds, not real ones; a
  `SteppedClock` drops the pacing: the server reads the driver's own simulated time and the day
  runs as fast as the server answers (its latency then costs no simulated time);
- `clerks`: a bearer token per window (one clerk each): each window signs in when its staffed
  period starts and out when it ends, so the server knows which windows are open, as the
  forecast and the analytic estimate need.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import simpy
import simpy.rt

from queueing.layout import parse_layout
from sim.demand import parse_demand
from sim.population import Person, generate_people
from sim.streams import Streams

__all__ = ["LiveError", "SimulatedClock", "SteppedClock", "run_live"]


class LiveError(RuntimeError):
    pass


class SteppedClock:
    """The server's clock read straight from the driver's simulated time, with no pacing: a
    server started with it (queueing.clock.Clock) and driven by `run_live(clock=…)` lives the
    day as fast as it answers, and its latency costs no simulated time, so a day driven on one
    seed is the same day however busy the machine is. Time stands at `start` on `day` until
    `run_live` begins."""

    def __init__(self, day: dt.date, timezone: str, start: float) -> None:
        self.midnight = dt.datetime.combine(day, dt.time(0, 0), tzinfo=ZoneInfo(timezone)).timestamp()
        self.start = start
        self._env: simpy.Environment | None = None

    def follow(self, env: simpy.Environment) -> None:
        self._env = env

    def now(self) -> float:
        env = self._env
        return self.midnight + (float(env.now) if env is not None else self.start)


class SimulatedClock:
    """The simulated day's clock for a server driven by `run_live` (queueing.clock.Clock):
    epoch seconds of `day` at `start` (seconds after the hall-local midnight) plus `speed`
    times the real time since `sync()`, which `run_live` calls as its day begins. Before that
    it stands at `start`; `move_to` sets it for another day on the same server."""

    def __init__(self, day: dt.date, timezone: str, start: float, speed: float) -> None:
        self.timezone = ZoneInfo(timezone)
        self.speed = speed
        self._lock = threading.Lock()
        self.move_to(day, start)

    def move_to(self, day: dt.date, start: float) -> None:
        """Stand at `start` on `day` until the next `sync()` (the next day a driver runs)."""
        midnight = dt.datetime.combine(day, dt.time(0, 0), tzinfo=self.timezone).timestamp()
        with self._lock:
            self.origin = midnight + start
            self._since: float | None = None

    def sync(self) -> None:
        with self._lock:
            self._since = time.monotonic()

    def now(self) -> float:
        with self._lock:
            since, origin = self._since, self.origin
        return origin if since is None else origin + (time.monotonic() - since) * self.speed


def _check(r: httpx.Response, what: str, allow: tuple[int, ...] = ()) -> dict[str, Any] | None:
    if r.status_code in allow:
        return None
    if r.status_code >= 400:
        raise LiveError(f"{what}: HTTP {r.status_code} {r.text[:200]}")
    return r.json()


def run_live(url: str, hall: str, layout_raw: Mapping[str, Any], demand_raw: Mapping[str, Any],
             *, speed: float = 60.0, seed: int = 1, minutes: float = 0.0,
             token: str | None = None, username: str = "admin", password: str | None = None,
             client: httpx.Client | None = None, poll: float = 15.0,
             clock: SimulatedClock | SteppedClock | None = None,
             clerks: Mapping[int, str] | None = None,
             every: tuple[float, Callable[[], None]] | None = None) -> dict[str, Any]:
    """Run the profile's day (or its first `minutes`) against the server; returns counts and
    the waits the driver saw (simulated minutes). `clock`, `clerks`: see the module's notes;
    `every`: (seconds, fn) calls fn every that many simulated seconds while the day runs (a
    test asks the server for a forecast)."""
    if speed <= 0:
        raise LiveError("--speed must be more than 0")
    layout = parse_layout(layout_raw)
    demand = parse_demand(demand_raw, layout)
    own = client is None
    http = client or httpx.Client(base_url=url, timeout=30.0)
    try:
        if token is None:
            if password is None:
                raise LiveError("give --token or a password")
            body = _check(http.post("/api/auth/login",
                                    json={"username": username, "password": password}), "login")
            assert body is not None
            token = str(body["token"])
        headers = {"Authorization": f"Bearer {token}"}
        return _drive(http, headers, hall, layout, demand, speed, seed, minutes, poll, clock,
                      clerks or {}, every)
    except httpx.HTTPError as e:
        raise LiveError(f"{url}: {e}") from None
    finally:
        if own:
            http.close()


def _drive(http: httpx.Client, headers: dict[str, str], hall: str, layout: Any, demand: Any,
           speed: float, seed: int, minutes: float, poll: float,
           clock: SimulatedClock | SteppedClock | None, clerks: Mapping[int, str],
           every: tuple[float, Callable[[], None]] | None) -> dict[str, Any]:
    people = generate_people(demand, Streams(seed, 0))
    start = demand.start
    env: simpy.Environment
    if isinstance(clock, SteppedClock):  # no pacing: the server reads the driver's time
        env = simpy.Environment(initial_time=start)
        clock.follow(env)
    else:
        rt = simpy.rt.RealtimeEnvironment(initial_time=start, factor=1.0 / speed, strict=False)
        if clock is not None:  # the server's clock and the driver's pacing start together
            rt.sync()
            clock.sync()
        env = rt
    base = f"/api/halls/{hall}"
    by_ticket: dict[int, Person] = {}
    issued_at: dict[int, float] = {}
    called: set[int] = set()
    waits: list[float] = []
    counts = {"issued": 0, "called": 0, "finished": 0, "no_show": 0, "cancelled": 0,
              "races": 0}
    end = start + 60 * minutes if minutes > 0 else math.inf

    def post(path: str, body: Mapping[str, Any] | None = None,
             allow: tuple[int, ...] = (), window: int | None = None) -> dict[str, Any] | None:
        token = clerks.get(window) if window is not None else None
        r = http.post(base + path, json=dict(body or {}),
                      headers={"Authorization": f"Bearer {token}"} if token else headers)
        if r.status_code in allow:
            counts["races"] += 1
        return _check(r, path, allow)

    wake = [env.event()]  # succeeds when a ticket is issued; idle windows wait on it

    def arrived() -> None:
        ev, wake[0] = wake[0], env.event()
        ev.succeed()

    def person(p: Person):
        yield env.timeout(max(0.0, p.arrival - env.now))
        body: dict[str, Any] = {"category": p.category, "channel": "kiosk"}
        if p.priority != "normal":
            body["priority"] = str(p.priority)
        t = post("/tickets", body)
        assert t is not None
        tid = int(t["id"])
        by_ticket[tid] = p
        issued_at[tid] = env.now
        counts["issued"] += 1
        arrived()
        if math.isfinite(p.patience):
            yield env.timeout(p.patience)
            if tid not in called and post(f"/tickets/{tid}/cancel", allow=(409,)) is not None:
                counts["cancelled"] += 1

    def window(number: int, periods: tuple[tuple[float, float], ...]):
        def act(action: str, allow: tuple[int, ...] = (409,)) -> dict[str, Any] | None:
            return post(f"/windows/{number}/{action}", allow=allow, window=number)

        for a, b in periods:
            if env.now < a:
                yield env.timeout(a - env.now)
            if number in clerks:
                act("sign-in")
            while env.now < b or (b >= demand.close and env.now < min(end, guard) and pending()):
                if finished_all():
                    break  # everyone came and has been dealt with: the day is over
                r = act("call")
                if r is None:
                    # the window still holds a ticket (someone else acted on it): clear it
                    act("no-show")
                    act("finish")
                ticket = (r or {}).get("ticket")
                if not ticket:
                    # idle until the next poll or the next ticket issued, whichever comes first:
                    # an idle clerk calls a newcomer at once, as the simulator's windows do
                    yield env.any_of([env.timeout(poll), wake[0]])
                    continue
                tid = int(ticket["id"])
                called.add(tid)
                counts["called"] += 1
                if tid in issued_at:
                    waits.append(env.now - issued_at[tid])
                p = by_ticket.get(tid)
                if p is not None and p.no_show:
                    yield env.timeout(demand.no_show_call_seconds)
                    act("no-show")
                    counts["no_show"] += 1
                    continue
                if demand.walk_up_seconds > 0:
                    yield env.timeout(demand.walk_up_seconds)  # the person walks to the window
                # the service ends its drawn time after it began, however long the server took
                # to answer "start" (at high speed a request's latency is simulated minutes)
                ends = env.now + (p.service if p is not None else 600.0)
                act("start")
                yield env.timeout(max(0.0, ends - env.now))
                act("finish")
                counts["finished"] += 1
            if number in clerks:
                act("sign-out")  # the window closes (lunch, end of shift): the server sees it
            if finished_all():
                return

    expected = sum(1 for p in people if p.arrival < end)
    # windows stop serving at most a day after closing, even if the server keeps a ticket open
    # (an `until` would make the realtime clock sleep to it after the last process ended)
    guard = max(demand.close, start) + 86400.0

    def pending() -> bool:
        return counts["issued"] > counts["called"] + counts["cancelled"] or any(
            p.arrival > env.now for p in people[-1:])

    def finished_all() -> bool:
        return counts["issued"] == expected and counts["called"] + counts["cancelled"] >= expected

    def ticker(interval: float, fn: Callable[[], None]):
        while not finished_all() and env.now < min(end, guard):
            yield env.timeout(interval)
            fn()

    if every is not None:
        env.process(ticker(*every))
    for p in people:
        if p.arrival < end:
            env.process(person(p))
    periods = demand.window_periods()
    hall_periods = tuple((60.0 * q.start, 60.0 * q.end) for q in layout.hours.periods)
    for w in layout.windows:
        env.process(window(w.number, tuple(periods.get(w.number, hall_periods))))
    env.run(until=end if math.isfinite(end) else None)
    return {
        "hall": hall, "speed": speed, "simulated_minutes": round((env.now - start) / 60, 2),
        **counts,
        "mean_wait_minutes": round(sum(waits) / len(waits) / 60, 3) if waits else None,
    }
