"""Bridge latency: a call on the server -> that window's LED frame on its (emulated) port.

100 LED strips (our open frame, 16 cells) on 5 buses of 20, each bus a pty whose emulator drains
bytes no faster than 9,600 baud (10 bits a byte), as a real RS-485 line would. The real server
(`hall.app.create_app` under uvicorn, SQLite in a temporary folder) runs in its own process; the
bridge and the emulators run here. Latency = from just before `POST …/windows/{w}/call` is sent
to the moment the last byte of the frame showing that call has crossed the emulated line, so it
holds the server's call transaction, the websocket hop, the bridge, the bus queue and the 26 ms
line time of the 25-byte frame.

Cases: single calls (one at a time, each window once); bursts of 20 calls sent together, spread
over the 5 buses (4 each) and all on one bus (the worst case: one line carries 20 frames).
Prints JSON. Goal: single-call p99 <= 150 ms.

    .venv/bin/python benchmarks/bridge.py [--singles 100] [--bursts 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from hardware.bridge import Bridge
from hardware.config import parse_config
from hardware.emulators import BusEmulator, LedBoard, Received

BUSES, PER_BUS = 5, 20
WINDOWS = BUSES * PER_BUS
BAUD = 9600


def layout() -> str:
    text = '[hall]\ncode = "bench"\nname = "基准测试中心"\ntimezone = "Asia/Shanghai"\n\n'
    text += '[[zones]]\ncode = "service"\nname = "综合服务区"\n\n'
    text += '[[categories]]\ncode = "A"\nname = "综合业务"\nzone = "service"\nservice_minutes = 10\n'
    for n in range(1, WINDOWS + 1):
        text += f'\n[[windows]]\nnumber = {n}\nname = "综合窗口{n}"\nkind = "comprehensive"\nserves = ["A"]\n'
    return text


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(ms: list[float]) -> dict[str, Any]:
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1),
    }


def start_server(tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    (tmp / "bench.toml").write_text(layout(), encoding="utf-8")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    env = os.environ | {
        "HALL_DATABASE_URL": f"sqlite:///{tmp / 'hall.db'}",
        "HALL_DATA_DIR": str(tmp / "data"),
        "HALL_SECRET_KEY": "bench",
        "HALL_LAYOUT": str(tmp / "bench.toml"),
        "HALL_CLOSE_DAY_AT": "",
        "HALL_ISSUE_RATE": "100000",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "hall.app:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--ws", "websockets-sansio"],
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/halls", timeout=1).status_code < 500:
                return proc, port
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


def bridge_token(tmp: Path) -> str:
    from hall.security.accounts import (
        add_device,  # the benchmark sets the server up; the bridge never imports hall
    )
    from hall.store.database import Database

    db = Database(f"sqlite:///{tmp / 'hall.db'}")
    with db.write() as conn:
        token = add_device(conn, "bridge", "bench", code="bench-bridge")[1]
    db.dispose()
    return token


class Frames:
    """First arrival time of each (address, text) on the emulated lines."""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, str], float] = {}

    def __call__(self, r: Received) -> None:
        self.seen.setdefault((r.address, r.value), r.at)


async def wait_for(frames: Frames, keys: list[tuple[int, str]], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(k in frames.seen for k in keys):
        if time.monotonic() > deadline:
            missing = [k for k in keys if k not in frames.seen]
            raise SystemExit(f"frames never arrived: {missing[:5]}")
        await asyncio.sleep(0.002)


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    proc, port = start_server(tmp)
    try:
        token = bridge_token(tmp)
        frames = Frames()
        emulators = [
            BusEmulator(leds=[LedBoard(a) for a in range(1, PER_BUS + 1)], baud=BAUD, on_receive=frames, link=str(tmp / f"ttyLED{b}"))
            for b in range(BUSES)
        ]
        window_at: dict[int, tuple[int, int]] = {}  # window -> (bus, address)
        buses = []
        for b, emu in enumerate(emulators):
            leds = []
            for a in range(1, PER_BUS + 1):
                w = b * PER_BUS + a
                window_at[w] = (b, a)
                leds.append({"address": a, "window": w, "width": 16})
            buses.append({"port": emu.path, "baud": BAUD, "led": leds})
        raw = {
            "server": {"url": f"http://127.0.0.1:{port}", "hall": "bench", "token": token},
            "bridge": {"outbox": str(tmp / "outbox.db"), "heartbeat_s": 3600},
            "bus": buses,
        }
        for emu in emulators:
            emu.start()
        bridge = Bridge(parse_config(raw, environ={}))
        # When each call's event reached the bridge, to split server time from bridge + line time.
        event_at: dict[tuple[int, str], float] = {}
        on_message = bridge._on_message

        async def timed(msg: dict[str, Any]) -> None:
            if msg.get("type") == "ticket.called":
                d = msg["data"]
                event_at.setdefault((int(d["window"]), str(d["number"])), time.monotonic())
            await on_message(msg)

        bridge._on_message = timed  # type: ignore[method-assign]
        task = asyncio.create_task(bridge.run())
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as http:
            need = args.singles + 2 * args.bursts * 20
            for _ in range(need):
                r = await http.post("/api/halls/bench/tickets", json={"category": "A", "channel": "kiosk"})
                r.raise_for_status()
            while not bridge.connected:
                await asyncio.sleep(0.05)
            # Every board painted from the snapshot, and quiet, before timing anything.
            await wait_for(frames, [(a, "欢迎光临") for a in range(1, PER_BUS + 1)])
            await asyncio.sleep(1.0)

            async def call(w: int) -> tuple[int, str, float]:
                t0 = time.monotonic()
                r = await http.post(f"/api/halls/bench/windows/{w}/call", json={})
                r.raise_for_status()
                answers.append((time.monotonic() - t0) * 1000)
                number = r.json()["ticket"]["number"]
                return w, f"请{number}号到{w}号窗口", t0

            async def settle(windows: list[int]) -> None:
                # start + finish the calls just made, so the windows are idle for the next round
                # (a call on a window still serving would also repaint it idle first).
                for w in windows:
                    (await http.post(f"/api/halls/bench/windows/{w}/start", json={})).raise_for_status()
                    (await http.post(f"/api/halls/bench/windows/{w}/finish", json={})).raise_for_status()
                await wait_for(frames, [(window_at[w][1], "欢迎光临") for w in windows])
                await asyncio.sleep(0.5)

            def latency(results: list[tuple[int, str, float]]) -> list[float]:
                for w, text, _ in results:
                    number = text[1:text.index("号")]
                    bridge_ms.append((frames.seen[(window_at[w][1], text)] - event_at[(w, number)]) * 1000)
                return [(frames.seen[(window_at[w][1], text)] - t0) * 1000 for w, text, t0 in results]

            frames.seen.clear()
            bridge_ms: list[float] = []
            answers: list[float] = []
            singles: list[float] = []
            order = [1 + (i * 37) % WINDOWS for i in range(args.singles)]  # spread over buses
            for i, w in enumerate(order):
                res = await call(w)
                await wait_for(frames, [(window_at[w][1], res[1])])
                singles += latency([res])
                if (i + 1) % WINDOWS == 0 or i + 1 == len(order):
                    await settle(sorted(set(order[: i + 1])) if i + 1 <= WINDOWS else list(range(1, WINDOWS + 1)))
                await asyncio.sleep(0.05)

            single_answers = list(answers)
            single_bridge = list(bridge_ms)
            del bridge_ms[:]
            burst_answers: dict[str, list[float]] = {"spread": [], "one_bus": []}
            spread: list[float] = []
            one_bus: list[float] = []
            for k in range(args.bursts):
                for kind, sink in (("spread", spread), ("one_bus", one_bus)):
                    if kind == "spread":
                        windows = [b * PER_BUS + 1 + (4 * k + j) % PER_BUS for b in range(BUSES) for j in range(4)]
                    else:
                        b = k % BUSES
                        windows = [b * PER_BUS + a for a in range(1, PER_BUS + 1)]
                    mark = len(answers)
                    results = await asyncio.gather(*(call(w) for w in windows))
                    burst_answers[kind] += answers[mark:]
                    await wait_for(frames, [(window_at[w][1], text) for w, text, _ in results])
                    sink += latency(list(results))
                    await settle(windows)
        bridge.stop()
        await task
        for emu in emulators:
            emu.stop()
        return {
            "benchmark": "bridge call -> LED frame on the line",
            "setup": f"{WINDOWS} boards on {BUSES} buses at {BAUD} baud (paced pty emulators), real server in a subprocess, SQLite",
            "frame_bytes": 25,
            "line_ms_per_frame": round(25 * 10 / BAUD * 1000, 1),
            "single": summary(singles),
            "burst20_spread_5_buses": summary(spread),
            "burst20_one_bus": summary(one_bus),
            # For context: how long the server took to answer the call requests themselves
            # (20 calls at once queue on the database's single writer).
            "server_answer": {
                "single": summary(single_answers),
                "burst20_spread_5_buses": summary(burst_answers["spread"]),
                "burst20_one_bus": summary(burst_answers["one_bus"]),
            },
            # From the event arriving at the bridge to the frame's last byte on the line.
            "event_to_line": {"single": summary(single_bridge), "bursts": summary(bridge_ms)},
            "goal": {"single_p99_ms": 150, "met": percentile(singles, 99) <= 150},
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        }
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--singles", type=int, default=100)
    parser.add_argument("--bursts", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(asyncio.run(run(args, Path(tmp))), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
