"""潮汐 (hall.operations.live.store.retarget_window) is a hall write: an event with its seq that a
connected screen receives, idempotent, refused cleanly when invalid, and kept apart from the
imported layout so that `hall halls import` keeps it (or says it ended it)."""

from __future__ import annotations

import tomllib
from typing import Any

from sqlalchemy import func, select

from hall.cli import main
from hall.core.halls import import_hall
from hall.core.registry import HallRegistry
from hall.store.models import EventRow
from queueing.layout import parse_layout
from tests.hall.conftest import TINY

API = "/api/halls/tiny"
SKILLS = f"{API}/ops/windows/3/skills"


def _events(hall: Any) -> int:
    with hall.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(EventRow)).scalar_one())


def _serves(hall: Any, number: int) -> list[str]:
    snap = hall.client.get(f"{API}/snapshot").json()
    return next(w["categories"] for w in snap["windows"] if w["number"] == number)


def test_a_tide_change_reaches_a_connected_screen_as_an_event(hall) -> None:
    with hall.client.websocket_connect("/ws/halls/tiny") as ws:
        assert ws.receive_json()["type"] == "snapshot"
        r = hall.post(SKILLS, "admin", {"categories": ["F", "A"]})
        assert r.status_code == 200, r.text
        env = ws.receive_json()
    assert env["type"] == "window.retargeted" and env["seq"] == r.json()["seq"] == 1
    assert env["data"] == {"window": 3, "serves": ["A", "F"], "name": "户籍专窗", "kind": "dedicated", "zone": None, "added": False}
    assert _serves(hall, 3) == ["A", "F"]


def test_a_spare_window_opens_as_an_event_and_is_closed_until_staffed(hall) -> None:
    r = hall.post(f"{API}/ops/windows/9/skills", "admin", {"categories": ["A"], "name": "潮汐窗口"})
    assert r.status_code == 200 and r.json()["added"] is True
    snap = hall.client.get(f"{API}/snapshot").json()
    w9 = next(w for w in snap["windows"] if w["number"] == 9)
    assert (w9["name"], w9["state"], w9["categories"]) == ("潮汐窗口", "closed", ["A"])


def test_a_retried_tide_change_answers_the_same_and_writes_once(hall) -> None:
    first = hall.post(SKILLS, "admin", {"categories": ["A", "F"]}, **{"Idempotency-Key": "tide-1"})
    again = hall.post(SKILLS, "admin", {"categories": ["A", "F"]}, **{"Idempotency-Key": "tide-1"})
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert _events(hall) == 1


def test_an_invalid_tide_change_is_refused_and_changes_nothing(hall) -> None:
    r = hall.post(SKILLS, "admin", {"categories": ["Z"]})
    assert r.status_code == 422
    r = hall.post(SKILLS, "staff", {"categories": ["A"]})
    assert r.status_code in (401, 403)
    assert _events(hall) == 0 and _serves(hall, 3) == ["F"]


def test_a_tide_change_survives_hall_halls_import(hall, layout_file, capsys, monkeypatch) -> None:
    assert hall.post(SKILLS, "admin", {"categories": ["A", "F"]}).status_code == 200
    monkeypatch.setenv("HALL_DATABASE_URL", str(hall.db.engine.url.render_as_string(hide_password=False)))
    assert main(["halls", "import", str(layout_file)]) == 0
    assert "保留潮汐调整：3号窗口" in capsys.readouterr().out
    fresh = HallRegistry(hall.db).get("tiny")
    assert fresh.window(3).categories == {"A", "F"}
    assert fresh.window(1).categories == {"A", "B", "F"}


def test_an_import_that_no_longer_fits_a_tide_change_ends_it_and_says_so(hall) -> None:
    assert hall.post(SKILLS, "admin", {"categories": ["A", "F"]}).status_code == 200
    # The new file has no category A: window 3's change cannot stand.
    source = tomllib.loads(TINY.replace('serves = ["A", "B", "F"]', 'serves = ["B", "F"]'))
    source["categories"] = [c for c in source["categories"] if c["code"] != "A"]
    with hall.db.write() as conn:
        result = import_hall(conn, parse_layout(source), now=hall.clock.now(), matters=[])
    assert (result.kept, result.dropped) == ((), (3,))
    assert HallRegistry(hall.db).get("tiny").window(3).categories == {"F"}
