"""The live forecast (issue 16): its cost, and what it costs the server's calls. Prints JSON.

(a) The county example at 10:00 in a surge — 300 people waiting, 30 windows open and serving,
    today's arrivals on profile — simulated to closing with 200 replications, in this process.
    Goal: <= 2 s.
(b) A real server (uvicorn, SQLite) on the county hall with its profile and 200 replications,
    in the same surge (30 clerks signed in and serving, about 300 waiting): a clerk's call
    latency in interleaved blocks, with no forecast running and with one running (asked for by
    `POST /forecast` before each call; the task runs one at a time in its worker process, with
    its advice). Goal: p99 with <= 1.5 x p99 without.
(c) 潮汐 advice for the surge's first hour at risk, every candidate move on 40 replications.
    Goal: <= 10 s.

The machine is shared: the load average is printed beside the figures.

    .venv/bin/python benchmarks/forecast.py [--replications 200] [--blocks 8] [--calls 25]
        [--advice-replications 40] [--skip-server]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update

# Run as a script, this folder comes first on sys.path and benchmarks/sim.py would shadow the
# `sim` package: drop that entry before importing it.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    sys.path.pop(0)

from queueing import metrics  # noqa: E402
from queueing.layout import load_layout  # noqa: E402
from sim.advice import advise, candidates  # noqa: E402
from sim.demand import load_demand  # noqa: E402
from sim.forecast import AtWindow, HallState, WaitingTicket, forecast  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LAYOUT = ROOT / "examples" / "halls" / "county.toml"
DEMAND = ROOT / "examples" / "demand" / "county.toml"
PASSWORD = "Bench-Forecast-9"


def surge_state(layout: Any, demand: Any, now: float) -> HallState:
    cats = [c.code for c in demand.categories]
    weights = [sum(c.arrivals) for c in demand.categories]
    # 300 waiting, spread over the categories as the profile's volumes are, joined in the last hour
    order = [c for c, w in zip(cats, weights, strict=True) for _ in range(max(1, round(300 * w / sum(weights))))]
    waiting = tuple(WaitingTicket(order[i % len(order)], now - 3600 + i * 12, now - 3600 + i * 12)
                    for i in range(300))
    open_ = [w.number for w in layout.windows][:30]
    serving = tuple(AtWindow(w, cats[i % len(cats)], now - 240) for i, w in enumerate(open_))
    arrived = {}
    for c in demand.categories:  # on profile so far: the scale stays near 1
        n = 0.0
        for i, count in enumerate(c.arrivals):
            lo = demand.start + i * demand.interval
            n += count * max(0.0, min(1.0, (now - lo) / demand.interval))
        arrived[c.code] = round(n)
    return HallState(now, waiting, serving, frozenset(open_), arrived)


def bench_advice(replications: int) -> dict[str, Any]:
    """(c) 潮汐 advice for one hour at risk of the surge: every candidate move simulated on
    `replications` common-random-number replications. Goal: <= 10 s."""
    layout = load_layout(LAYOUT)
    demand = load_demand(DEMAND, layout)
    now = 10 * 3600.0
    state = surge_state(layout, demand, now)
    f = forecast(layout, demand, state, hours=(demand.close - now) / 3600, replications=40)
    hour = f.at_risk[0] if f.at_risk else 10
    t = time.perf_counter()
    advice = advise(layout, demand, state, [hour], replications=replications)
    took = time.perf_counter() - t
    return {"hour": hour, "replications": replications, "advice_seconds": round(took, 3),
            "goal_seconds": 10.0, "candidates": len(candidates(layout, demand, state, hour, {})),
            "advice": [{"kind": a.move.kind, "window": a.move.window, "category": a.move.category,
                        "keeps_target": a.keeps_target, "without_p50": round(a.without.p50, 3),
                        "with_p50": round(a.with_move.p50, 3)} for a in advice]}


def bench_forecast(replications: int) -> dict[str, Any]:
    layout = load_layout(LAYOUT)
    demand = load_demand(DEMAND, layout)
    now = 10 * 3600.0
    state = surge_state(layout, demand, now)
    t = time.perf_counter()
    f = forecast(layout, demand, state, hours=(demand.close - now) / 3600, replications=replications)
    took = time.perf_counter() - t
    return {"replications": replications, "seconds": round(took, 3),
            "ms_per_replication": round(1000 * took / replications, 2), "goal_seconds": 2.0,
            "service_level_p50": round(f.service_level.p50, 3), "at_risk": list(f.at_risk),
            "cpu_count": os.cpu_count()}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, data: Path, port: int) -> None:
        self.data, self.port, self.proc = data, port, None  # type: ignore[var-annotated]
        self.base = f"http://127.0.0.1:{port}"
        self.url = f"sqlite:///{data / 'hall.db'}"

    def start(self, layout: str) -> None:
        env = dict(os.environ, HALL_DATA_DIR=str(self.data), HALL_LAYOUT=layout,
                   HALL_DATABASE_URL=self.url, HALL_REDIS_URL="", HALL_CLOSE_DAY_AT="",
                   HALL_ISSUE_RATE="100000", HALL_FORECAST_DELAY="1000000000")
        log = open(self.data / "server.log", "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "hall.app:create_app", "--host",
             "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(20)
            self.proc = None


def bench_server(replications: int, blocks: int, calls: int, windows: int = 30) -> dict[str, Any]:
    from hall.security.accounts import add_device, add_user
    from hall.store.database import Database
    from hall.store.models import Hall

    clerks = [f"clerk{n}" for n in range(1, windows + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(Path(tmp), _port())
        srv.start(str(LAYOUT))  # migrate and import the county hall
        srv.stop()
        db = Database(srv.url)
        with db.write() as conn:
            add_user(conn, "boss", PASSWORD, role="manager", name="经理", halls=["county"])
            for n, c in enumerate(clerks, 1):
                add_user(conn, c, PASSWORD, role="staff", name=f"工作人员{n}", halls=["county"])
            kiosk = add_device(conn, "kiosk", "county")[1]
            conn.execute(update(Hall).values(settings={
                "public_snapshot": True,
                "forecast": {"demand": str(DEMAND), "replications": replications, "hours": 8}}))
        db.dispose()
        srv.start("")  # the hall as stored, with its forecast settings
        try:
            client = httpx.Client(base_url=srv.base, timeout=30)
            tok = {u: client.post("/api/auth/login", json={"username": u, "password": PASSWORD}).json()["token"]
                   for u in ("boss", *clerks)}
            h = "/api/halls/county"
            auth = {u: {"Authorization": f"Bearer {t}"} for u, t in tok.items()}
            cats = ["A", "B", "D", "E", "H", "K"]
            for i in range(300 + windows):
                client.post(f"{h}/tickets", json={"category": cats[i % len(cats)], "channel": "kiosk"},
                            headers={"Authorization": f"Bearer {kiosk}"})
            # the surge: `windows` clerks signed in, each serving someone; about 300 still wait
            for n, c in enumerate(clerks, 1):
                client.post(f"{h}/windows/{n}/sign-in", headers=auth[c], json={})
                if client.post(f"{h}/windows/{n}/call", headers=auth[c]).json().get("ticket"):
                    client.post(f"{h}/windows/{n}/start", headers=auth[c])
            clerk = auth[clerks[0]]  # the measured clerk, at window 1

            def forecast_done() -> None:
                while client.get(f"{h}/forecast", headers=auth["boss"]).json().get("running", True):
                    time.sleep(0.2)

            # A real server starts its worker process a few seconds after start-up and keeps it;
            # the first forecast here (whose process start a call would otherwise meet) is not timed.
            client.post(f"{h}/forecast", headers=auth["boss"])
            forecast_done()
            lat: dict[str, list[float]] = {"without": [], "with": []}
            where: dict[str, list[tuple[int, int, float]]] = {"without": [], "with": []}
            made = 0
            at_start: list[float] = []
            running: list[float] = []
            for b in range(blocks):
                mode = "with" if b % 2 else "without"
                for k in range(calls):
                    started = False
                    if mode == "with":
                        started = client.post(f"{h}/forecast", headers=auth["boss"]).json()["started"]
                        made += started
                    time.sleep(0.05)  # in both modes: with one, the worker has started simulating
                    t = time.perf_counter()
                    r = client.post(f"{h}/windows/1/call", headers=clerk)
                    lat[mode].append(time.perf_counter() - t)
                    if mode == "with":  # the call just after a forecast began (its state read) or later
                        (at_start if started else running).append(lat[mode][-1])
                    where[mode].append((b, k, round(1000 * lat[mode][-1], 1)))
                    if r.status_code == 200 and r.json().get("ticket"):
                        client.post(f"{h}/windows/1/start", headers=clerk)
                if mode == "with":  # let the last one finish before a block without
                    forecast_done()
            last = client.get(f"{h}/forecast", headers=auth["boss"]).json()
        finally:
            srv.stop()

    def p(xs: list[float], q: float) -> float:
        return round(1000 * float(metrics.percentile(xs, q) or 0.0), 2)

    out: dict[str, Any] = {m: {"calls": len(v), "p50_ms": p(v, 50), "p99_ms": p(v, 99)}
                           for m, v in lat.items()}
    # where the cost lies: the calls just after a forecast began (the server reads the state)
    # against those while the worker simulates
    out["with_at_start"] = {"calls": len(at_start), "p50_ms": p(at_start, 50), "max_ms": p(at_start, 100)}
    out["with_while_simulating"] = {"calls": len(running), "p50_ms": p(running, 50),
                                    "p99_ms": p(running, 99)}
    ratio = out["with"]["p99_ms"] / out["without"]["p99_ms"] if out["without"]["p99_ms"] else None
    return {**out, "p99_ratio": round(ratio, 2) if ratio else None, "goal_ratio": 1.5,
            "forecasts_started": made, "server_forecast_seconds": last.get("took_seconds"),
            "server_forecast_replications": last.get("replications"),
            "server_forecast_windows_open": windows,
            "server_advice_seconds": last.get("advice_took_seconds"),
            # (block, call, ms): whether the slowest calls bunch in one block (a start-up)
            "slowest": {m: sorted(v, key=lambda x: -x[2])[:4] for m, v in where.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--replications", type=int, default=200)
    ap.add_argument("--blocks", type=int, default=8)
    ap.add_argument("--calls", type=int, default=25)
    ap.add_argument("--advice-replications", type=int, default=40)
    ap.add_argument("--skip-server", action="store_true")
    a = ap.parse_args()
    out: dict[str, Any] = {"python": platform.python_version(), "load_before": os.getloadavg()}
    out["surge_forecast"] = bench_forecast(a.replications)
    out["advice"] = bench_advice(a.advice_replications)
    if not a.skip_server:
        out["call_latency"] = bench_server(a.replications, a.blocks, a.calls)
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
