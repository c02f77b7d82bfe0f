"""What the one input layer costs per request and per event, in-process. Prints JSON.

Compares, in interleaved blocks within one run (so machine load hits both sides alike):
- a body: plain `json.loads` (what the server did before) against the edge's decode + check +
  model conversion (hall.edge.body: msgspec decode, hall.fields.check_tree, msgspec.convert);
- an event: nothing against `hall.core.events.check_storable` on a `ticket.issued` data dict;
- an answer: `json.dumps(...).encode()` against `wire_json(...).encode()`.

    .venv/bin/python benchmarks/validation.py [--rounds 7] [--n 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import msgspec

from hall.core.events import check_storable, wire_json
from hall.fields import check_tree
from hall.http.models import HeartbeatBody, IssueBody

ISSUE = json.dumps({"category": "A", "channel": "kiosk", "priority": "normal", "matters": ["C001", "C002"],
                    "id_number": "110101199003077777", "idempotency_key": "kiosk-1-000123"}).encode()
HEARTBEAT = json.dumps({"devices": [{"id": f"led-{i}", "kind": "led", "window": i, "ok": True} for i in range(1, 21)]}).encode()
EVENT = {"id": 123, "number": "A123", "category": "A", "zone": "service", "queue_class": "normal", "waiting": 17,
         "channel": "kiosk", "priority": "normal", "appointment_start": None, "progress_url": "/t/abcdefghijkl",
         "device": "kiosk-1", "ahead": 16, "estimate": {"ahead": 16, "p50_minutes": 22.5, "p90_minutes": 41.0,
                                                        "state": "ok", "open_windows": 3}}


def edge_decode(raw: bytes, model: type) -> Any:
    body = msgspec.json.decode(raw)
    check_tree(body)
    return msgspec.convert(body, model)


def _time(fn: Callable[[], Any], n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1e6  # µs per call


def pair(before: Callable[[], Any], after: Callable[[], Any], rounds: int, n: int) -> dict[str, float]:
    b: list[float] = []
    a: list[float] = []
    for _ in range(rounds):
        b.append(_time(before, n))
        a.append(_time(after, n))
    mb, ma = statistics.median(b), statistics.median(a)
    return {"before_us": round(mb, 2), "after_us": round(ma, 2), "added_us": round(ma - mb, 2),
            "ratio": round(ma / mb, 2) if mb else None}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--n", type=int, default=5000)
    args = ap.parse_args()
    out = {
        "load_avg": os.getloadavg(),
        "issue_body": pair(lambda: json.loads(ISSUE), lambda: edge_decode(ISSUE, IssueBody), args.rounds, args.n),
        "heartbeat_body_20_devices": pair(lambda: json.loads(HEARTBEAT), lambda: edge_decode(HEARTBEAT, HeartbeatBody),
                                          args.rounds, args.n),
        "issued_event_check": pair(lambda: None, lambda: check_storable("ticket.issued", EVENT), args.rounds, args.n),
        "answer_encode": pair(lambda: json.dumps(EVENT, ensure_ascii=False).encode(),
                              lambda: wire_json(EVENT).encode(), args.rounds, args.n),
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
