"""The reducer's shared test vectors (docs/REDUCER.md): event sequence → expected state.

Each `reducer/*.json` holds `title`, `actions` (the API calls that make the events on the test
hall of tests/hall/conftest.py, for the server's side), `events` (the public envelopes, without
`seq`, `at` and `hall`; seq counts on from `initial.json`'s) and `expected` — the projection of the
state that every runtime must reach: the server's snapshot, the JavaScript reducer and the
bridge's hallstate (which keeps windows only).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["VECTORS", "initial", "vectors", "project", "envelopes"]

VECTORS = Path(__file__).parent / "reducer"
START = "2026-11-23T09:00:00.000+08:00"


def initial() -> dict[str, Any]:
    """The snapshot every vector starts from: the test hall at seq 0, nobody signed in."""
    return json.loads((Path(__file__).parent / "initial.json").read_text(encoding="utf-8"))


def vectors() -> list[dict[str, Any]]:
    out = []
    for path in sorted(VECTORS.glob("*.json")):
        v = json.loads(path.read_text(encoding="utf-8"))
        v["name"] = path.stem
        out.append(v)
    return out


def envelopes(vector: dict[str, Any], start_seq: int = 0) -> list[dict[str, Any]]:
    """The vector's events as the wire sends them: `{seq, type, at, hall, data}`."""
    return [
        {"seq": start_seq + i + 1, "type": e["type"], "at": START, "hall": "tiny", "data": e.get("data", {})}
        for i, e in enumerate(vector["events"])
    ]


def project(state: dict[str, Any]) -> dict[str, Any]:
    """What the vectors compare of a snapshot-shaped state."""
    return {
        "waiting": dict(state.get("waiting") or {}),
        "windows": {str(w["number"]): project_window(w) for w in state.get("windows") or []},
        "latest_calls": [
            {"number": c["number"], "window": c["window"], "recall": bool(c.get("recall"))}
            for c in state.get("latest_calls") or []
        ],
    }


def project_window(w: dict[str, Any]) -> dict[str, Any]:
    current = w.get("current") or None
    return {
        "state": w["state"],
        "staff_name": w.get("staff_name"),
        "pause_reason": w.get("pause_reason"),
        "current": current["number"] if current else None,
        "serves": sorted(w.get("categories") or []),
    }
