"""The reducer vectors on the server (docs/REDUCER.md): each vector's actions, run through the
HTTP API, emit the vector's events, and the snapshot after them is the vector's expected state.

The JavaScript reducer (tests/e2e/test_reducer_vectors.py) and the bridge's hallstate
(tests/hardware/test_hallstate_vectors.py) apply the same events to the same initial snapshot.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from sqlalchemy import select

from hall.core.events import public_data
from hall.store.models import EventRow
from tests.vectors import VECTORS, initial, project, vectors

API = "/api/halls/tiny"
WINDOW_MOVES = {"sign-in", "sign-out", "call", "recall", "start", "finish", "no-show", "resume", "pause"}


def _run(hall: Any, action: dict[str, Any], ids: dict[str, int]) -> None:
    do = action["do"]
    if do == "issue":
        t = hall.issue(action["category"])
        ids[t["number"]] = t["id"]
        return
    if do in WINDOW_MOVES:
        body = {"reason": action["reason"]} if do == "pause" else {}
        r = hall.post(f"{API}/windows/{action['window']}/{do}", json=body)
    elif do in ("transfer", "suspend"):
        body = {k: action[k] for k in ("category", "window", "kind") if k in action}
        r = hall.post(f"{API}/tickets/{ids[action['number']]}/{do}", json=body)
    elif do == "retarget":
        body = {k: action[k] for k in ("categories", "name") if k in action}
        r = hall.post(f"{API}/ops/windows/{action['window']}/skills", "admin", body)
    else:
        raise AssertionError(f"unknown action {do!r}")
    assert r.status_code < 300, (action, r.text)


def _events(hall: Any) -> list[dict[str, Any]]:
    with hall.db.read() as conn:
        rows = conn.execute(select(EventRow.type, EventRow.data).where(EventRow.type != "device.status").order_by(EventRow.seq))
        return [{"type": r.type, "data": public_data(r.type, dict(r.data))} for r in rows]


def test_the_initial_snapshot_is_the_vectors(hall) -> None:
    snap = hall.client.get(f"{API}/snapshot").json()
    assert snap["seq"] == initial()["seq"] == 0
    assert project(snap) == project(initial())


@pytest.mark.parametrize("vector", vectors(), ids=lambda v: v["name"])
def test_vector_on_the_server(hall, vector: dict[str, Any]) -> None:
    ids: dict[str, int] = {}
    for action in vector["actions"]:
        _run(hall, action, ids)
    got = _events(hall)
    if os.environ.get("REDUCER_VECTORS_WRITE"):  # regenerate the events after a deliberate change
        kept = {k: v for k, v in vector.items() if k != "name"} | {"events": got}
        path = VECTORS / f"{vector['name']}.json"
        path.write_text(json.dumps(kept, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert [e["type"] for e in got] == [e["type"] for e in vector["events"]]
    for seen, want in zip(got, vector["events"], strict=True):
        # Ticket ids are the database's; everything else the vector says is what was sent.
        assert {k: v for k, v in want["data"].items() if k != "id"} == {
            k: v for k, v in seen["data"].items() if k != "id" and k in want["data"]
        }, want["type"]
    snap = hall.client.get(f"{API}/snapshot").json()
    assert project(snap) == vector["expected"]

