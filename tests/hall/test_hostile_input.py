"""Hostile input at the edge (issue 12 items 1, 2, 3, 12): every refusal is a clear 4xx that
changes nothing, and whatever is stored never stops a stream, a read or an export."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from sqlalchemy import func, insert, select
from starlette.requests import Request
from starlette.routing import Route
from starlette.websockets import WebSocketDisconnect

from hall.cli.export import export_events
from hall.edge.body import read_body
from hall.errors import ApiError
from hall.store.models import AuditEntry, EventRow, TicketRow
from hall.store.models import Hall as HallRow
from tests.hall.conftest import Hall

JSON = {"content-type": "application/json"}
SURROGATE = b'{"reason": "\\ud800", "devices": [{"id": "\\ud800", "kind": "screen"}], "username": "\\ud800"}'
NUL = b'{"reason": "a\\u0000b", "devices": [{"id": "a\\u0000", "kind": "led"}], "username": "a\\u0000", "password": "x"}'
HUGE_INT = b'{"ticket": 100000000000000000000000, "devices": [{"id": 1, "window": 100000000000000000000}], "level": 99999999999999999999999}'
DEEP = b'{"a": ' + b"[" * 1000 + b"]" * 1000 + b"}"
DEEPER = b"[" * 30_000 + b"]" * 30_000  # under HALL_MAX_BODY, far over any recursion limit
CONTROL = b'{"reason": "a\\u001bb", "username": "\\u0007", "password": "\\u0000"}'
CORPUS = {"surrogate": SURROGATE, "nul": NUL, "huge_int": HUGE_INT, "deep": DEEP, "deeper": DEEPER,
          "control": CONTROL, "huge_body": b'{"reason": "' + b"x" * 70_000 + b'"}', "not_utf8": b'{"reason": "\xff\xfe"}'}


def _counts(hall: Hall) -> tuple[int, int, int]:
    with hall.db.read() as conn:
        return (conn.execute(select(func.count()).select_from(EventRow)).scalar_one(),
                conn.execute(select(func.count()).select_from(TicketRow)).scalar_one(),
                conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def _post(hall: Hall, path: str, raw: bytes, who: str = "admin") -> Any:
    return hall.client.post(path, content=raw, headers=hall.headers(who, **JSON))


def _write_paths(hall: Hall) -> Iterator[tuple[str, str]]:
    """Every write route of the app (the route table), with its path parameters filled in."""
    fill = {"hall": "tiny", "id": "1", "w": "1", "action": "pause", "step": "verify", "code": "AB12", "ticket_id": "1"}
    app: Any = hall.client.app
    for route in app.routes:
        if isinstance(route, Route) and route.methods and route.methods & {"POST", "PUT"}:
            path = route.path
            for name in route.param_convertors:
                path = path.replace(f"{{{name}:int}}", fill[name]).replace(f"{{{name}}}", fill[name])
            yield sorted(route.methods & {"POST", "PUT"})[0], path


def test_the_corpus_is_refused_by_every_write_endpoint_and_nothing_is_stored(hall: Hall) -> None:
    hall.post("/api/halls/tiny/windows/1/sign-in")
    hall.issue()
    before = _counts(hall)
    seen = 0
    for method, path in _write_paths(hall):
        for name, raw in CORPUS.items():
            for who in ("admin", "bridge", "pad"):
                r = hall.client.request(method, path, content=raw, headers=hall.headers(who, **JSON))
                assert 400 <= r.status_code < 500, (method, path, name, who, r.status_code, r.text[:200])
                assert "error" in r.json(), (path, name)
                seen += 1
    assert seen > 30 * len(CORPUS)
    assert _counts(hall) == before


@pytest.mark.parametrize("raw", [SURROGATE, NUL, CONTROL])
def test_text_that_would_freeze_a_stream_is_refused_before_it_is_stored(hall: Hall, raw: bytes) -> None:
    hall.post("/api/halls/tiny/windows/1/sign-in")
    t = hall.issue()
    before = _counts(hall)
    for path, who in (("/api/halls/tiny/devices/heartbeat", "bridge"), ("/api/halls/tiny/windows/1/pause", "staff"),
                      (f"/api/halls/tiny/tickets/{t['id']}/cancel", "staff"), ("/api/auth/login", "admin")):
        r = _post(hall, path, raw, who)
        assert r.status_code == 422, (path, r.text)
        assert r.json()["error"] == "invalid"
    assert _counts(hall) == before


def test_idempotency_key_header_must_be_one_line(hall: Hall) -> None:
    before = _counts(hall)
    r = hall.client.post("/api/halls/tiny/tickets", json={"category": "A"},
                         headers=hall.headers("kiosk", **{"Idempotency-Key": "a\tb"}))
    assert r.status_code == 422
    assert _counts(hall) == before


def test_login_refuses_deep_nesting_and_nul_on_every_database(hall: Hall) -> None:
    assert hall.client.post("/api/auth/login", content=DEEPER, headers=JSON).status_code == 422
    r = hall.client.post("/api/auth/login", json={"username": "clerk\x00", "password": "clerk-pass-1"})
    assert r.status_code == 422 and r.json()["field"] == "username"


@pytest.mark.parametrize("path", [
    "/api/progress/%00", "/api/halls/tiny/matters?q=%00", "/api/halls/tiny/matters?q=%ED%A0%80",
    "/api/halls/tiny/matters?q=%FF", "/api/halls/tiny%00/snapshot", "/api/progress/a%0Ab",
])
def test_paths_and_queries_that_are_not_clean_text_are_400(hall: Hall, path: str) -> None:
    r = hall.client.get(path)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "bad_parameter"


@pytest.mark.parametrize("query", ["since=1e20", "since=100000000000000000000", "since=-1", "limit=99999999999999999999999"])
def test_event_reads_keep_integers_within_64_bits(hall: Hall, query: str) -> None:
    r = hall.client.get(f"/api/halls/tiny/events?{query}")
    assert r.status_code == 422, r.text


def test_huge_ids_in_paths_are_no_route_not_an_overflow(hall: Hall) -> None:
    assert hall.client.get("/api/halls/tiny/calls/99999999999999999999999/audio.wav").status_code == 404
    r = hall.post("/api/halls/tiny/tickets/99999999999999999999999/finish")
    assert r.status_code == 404
    assert hall.post("/api/halls/tiny/windows/99999999999999999999/call").status_code == 404


def test_a_huge_body_is_refused_without_being_read(hall: Hall) -> None:
    # The test client buffers a body before sending it, so read_body gets a receive channel of
    # its own: 200 MB offered in 64 KB chunks, and it must stop after the first ones.
    pulled = {"chunks": 0}

    async def receive() -> dict[str, Any]:
        pulled["chunks"] += 1
        return {"type": "http.request", "body": b" " * 65536, "more_body": pulled["chunks"] < 3200}

    request = Request({"type": "http", "method": "POST", "path": "/", "headers": []}, receive)
    with pytest.raises(ApiError) as e:
        anyio.run(read_body, request, 65536)
    assert e.value.status == 413 and e.value.code == "body_too_large"
    assert pulled["chunks"] == 2
    declared = hall.client.post("/api/auth/login", content=b"{}" + b" " * 70_000, headers=JSON)
    assert declared.status_code == 413 and declared.json()["error"] == "body_too_large"


def test_trace_answers_405_with_allow(hall: Hall) -> None:
    r = hall.client.request("TRACE", "/api/halls/tiny/tickets")
    assert r.status_code == 405
    # the list (GET) and the issue (POST) are two routes at one path: Allow names both
    assert {m.strip() for m in r.headers["allow"].split(",")} >= {"GET", "HEAD", "POST"}


def _store_bad_event(hall: Hall) -> int:
    """An event with a lone surrogate, as stored before the edge refused them (SQLite's JSON
    column keeps it as an escape)."""
    with hall.db.write() as conn:
        hall_id = conn.execute(select(HallRow.id).where(HallRow.code == "tiny")).scalar_one()
        seq = (conn.execute(select(func.max(EventRow.seq)).where(EventRow.hall_id == hall_id)).scalar() or 0) + 1
        conn.execute(insert(EventRow).values(hall_id=hall_id, seq=seq, type="window.paused", at=hall.clock.now(),
                                             window=1, data={"window": 1, "reason": "午休\ud800"}))
    return seq


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_stored_bad_event_never_stops_reads_streams_or_exports(hall: Hall) -> None:
    seq = _store_bad_event(hall)
    r = hall.client.get("/api/halls/tiny/events?since=0")
    assert r.status_code == 200
    assert r.json()["events"][-1]["data"]["reason"] == "午休\ufffd"
    with hall.client.websocket_connect("/ws/halls/tiny?since=0") as ws:
        msg = json.loads(ws.receive_text())
        assert msg["seq"] == seq and msg["data"]["reason"] == "午休\ufffd"
    out = io.StringIO()
    assert export_events(hall.db, "tiny", out) == 1
    assert "\ufffd" in out.getvalue()


@pytest.mark.parametrize("frame, code", [
    ({"bytes": b"\x00\x01"}, 1003), ({"text": "[" * 5000}, 1009), ({"text": "[" * 1000 + "]" * 1000}, 1007),
    ({"text": '{"a":' * 100 + "1" + "}" * 100}, 1007), ({"text": "not json"}, 1007),
])
def test_bad_websocket_frames_get_a_close_code_not_1006(hall: Hall, frame: dict[str, Any], code: int) -> None:
    with hall.client.websocket_connect("/ws/halls/tiny?since=0") as ws:
        ws.send(frame | {"type": "websocket.receive"})
        with pytest.raises(WebSocketDisconnect) as e:
            ws.receive_text()
    assert e.value.code == code


@pytest.mark.parametrize("since", ["1e20", "100000000000000000000", "-3"])
def test_a_huge_since_gets_4422(hall: Hall, since: str) -> None:
    with pytest.raises(WebSocketDisconnect) as e, hall.client.websocket_connect(f"/ws/halls/tiny?since={since}") as ws:
        ws.receive_text()
    assert e.value.code == 4422


def test_a_websocket_with_a_nul_in_its_query_is_refused(hall: Hall) -> None:
    with pytest.raises(WebSocketDisconnect), hall.client.websocket_connect("/ws/halls/tiny?since=%00") as ws:
        ws.receive_text()
