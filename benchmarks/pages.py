"""Pages latency: a call on the server -> the number on the hall screen and the window screen.

The real server (uvicorn, SQLite in a temporary folder) runs in its own process; the hall screen
(1920×1080) and window 1's screen run in headless Chromium. Latency = from just before
`POST …/windows/1/call` is sent to the moment a MutationObserver in the page sees the called
number (wall clock on both sides, same machine). Between calls the ticket is started and
finished so the window is free again. Also measured: rendering one call's WAV from the clip pack.
Prints JSON. Goal (issue 5): the call shows within 1 s; the WAV is 3–6 s per repetition.

    .venv/bin/python benchmarks/pages.py [--calls 30]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from displays.voice import ClipPack  # noqa: E402
from queueing.metrics import percentile  # noqa: E402
from tests.e2e.pages_harness import HALL, PageServer  # noqa: E402

WATCH = """
(id) => {
  window.__seen = {};
  const node = document.getElementById(id);
  new MutationObserver(() => { const t = node.textContent; if (!(t in __seen)) __seen[t] = Date.now(); })
    .observe(node, {childList: true, subtree: true, characterData: true});
}
"""


def stats(values: list[float], digits: int = 1) -> dict[str, Any]:
    return {"n": len(values), "p50": round(percentile(values, 50) or 0, digits),
            "p95": round(percentile(values, 95) or 0, digits), "max": round(max(values), digits)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--chromium", default=os.environ.get("HALL_TEST_CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args()

    pack = ClipPack.default()
    render_ms, seconds = [], []
    for i in range(200):
        t = time.perf_counter()
        data = pack.render_call(f"A{i:03d}", i % 40 + 1, repeat=1, chime=False)
        render_ms.append((time.perf_counter() - t) * 1000)
        with wave.open(io.BytesIO(data)) as w:
            seconds.append(w.getnframes() / w.getframerate())

    hall_ms: list[float] = []
    window_ms: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        server = PageServer(Path(tmp))
        server.start()
        try:
            server.setup_accounts()
            clerk = server.login("clerk")
            server.api("POST", f"/api/halls/{HALL}/windows/1/sign-in", clerk, {}).raise_for_status()
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium,
                                            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
                screen = browser.new_page(viewport={"width": 1920, "height": 1080})
                screen.goto(f"{server.base}/screen/{HALL}?token={server.tokens['screen']}")
                window = browser.new_page(viewport={"width": 1280, "height": 720})
                window.goto(f"{server.base}/screen/{HALL}/windows/1?token={server.tokens['screen']}")
                screen.wait_for_function("document.body.dataset.online === '1'")
                window.wait_for_function("document.body.dataset.online === '1'")
                screen.evaluate(WATCH, "newest-number")
                window.evaluate(WATCH, "win-status")
                for _ in range(args.calls):
                    issued = server.api("POST", f"/api/halls/{HALL}/tickets", server.tokens["kiosk"],
                                        {"category": "A", "channel": "kiosk"})
                    issued.raise_for_status()
                    number = issued.json()["number"]
                    time.sleep(0.2)  # let the issue event settle: measure the call alone
                    sent = time.time() * 1000
                    server.api("POST", f"/api/halls/{HALL}/windows/1/call", clerk, {}).raise_for_status()
                    screen.wait_for_function("(n) => n in __seen", arg=number, timeout=10_000)
                    window.wait_for_function("(n) => Object.keys(__seen).some(k => k.includes(n))",
                                             arg=number, timeout=10_000)
                    hall_ms.append(screen.evaluate("(n) => __seen[n]", number) - sent)
                    window_ms.append(window.evaluate(
                        "(n) => __seen[Object.keys(__seen).find(k => k.includes(n))]", number) - sent)
                    for action in ("start", "finish"):
                        server.api("POST", f"/api/halls/{HALL}/windows/1/{action}", clerk, {}).raise_for_status()
                browser.close()
        finally:
            server.stop()

    print(json.dumps({
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "call_to_hall_screen_ms": stats(hall_ms),
        "call_to_window_screen_ms": stats(window_ms),
        "render_call_wav_ms": stats(render_ms, 3),
        "call_wav_seconds_per_repetition": {"min": round(min(seconds), 2), "max": round(max(seconds), 2)},
        "goal": {"call_shown_within_ms": 1000, "wav_seconds": [3, 6]},
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
