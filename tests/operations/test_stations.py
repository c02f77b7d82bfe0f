"""Stations without machines (SQLite and PostgreSQL): the clerk records a visit (issued, called and
started at once, with the day's number); 一窗口一码 rates that visit by the code given at finish —
a wrong code or the QR code alone rates nothing, a second rating of one visit is refused; the
bottom two levels ask a reason; a paper questionnaire entered by staff is marked as such."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from hall.core.halls import import_layout
from hall.security.accounts import add_device, add_user
from hall.store.models import Rating, TicketRow
from queueing.layout import LayoutError, load_layout, parse_layout
from tests.operations.conftest import App

ROOT = Path(__file__).resolve().parents[2]
V = "/api/halls/village"


def _station(app: App) -> dict[str, str]:
    with app.db.write() as conn:
        import_layout(conn, load_layout(ROOT / "examples" / "halls" / "station.toml"), now=time.time())
        add_user(conn, "cun", "cun-pass-1", role="staff", name="王村干", halls=["village"])
        add_user(conn, "cun2", "cun-pass-2", role="staff", name="李村干", halls=["village"])
        pad = add_device(conn, "pad", "village", window=2)[1]
    tokens = {"pad2": pad}
    for user, pw in (("cun", "cun-pass-1"), ("cun2", "cun-pass-2")):
        tokens[user] = app.client.post("/api/auth/login", json={"username": user, "password": pw}).json()["token"]
    app.client.cookies.clear()  # the tests act as machines with bearer tokens, not as a browser
    return tokens


def _post(app: App, path: str, token: str | None, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return app.client.post(path, json=body, headers=headers)


def _get(app: App, path: str, token: str) -> Any:
    return app.client.get(path, headers={"Authorization": f"Bearer {token}"})


def _ratings(app: App) -> list[Any]:
    with app.db.read() as conn:
        return list(conn.execute(select(Rating.ticket_id, Rating.level, Rating.channel, Rating.reasons)))


def test_layout_kind() -> None:
    assert load_layout(ROOT / "examples" / "halls" / "station.toml").kind == "station"
    assert load_layout(ROOT / "examples" / "halls" / "township.toml").kind == "township"
    raw = {"hall": {"code": "x", "name": "x", "kind": "shop"}, "zones": [{"code": "z", "name": "z"}],
           "categories": [{"code": "A", "name": "a", "zone": "z"}], "windows": [{"number": 1, "name": "1", "serves": ["A"]}]}
    try:
        parse_layout(raw)
    except LayoutError as e:
        assert e.field == "hall.kind"
    else:
        raise AssertionError("an unknown hall kind was accepted")


def test_visit_recorded_served_and_rated_by_the_window_code(app: App) -> None:
    tok = _station(app)
    visit = _post(app, f"{V}/windows/1/visit", tok["cun"], {"category": "A"})
    assert visit.status_code == 201, visit.text
    v = visit.json()
    assert v["number"] == "A001" and v["ticket"]["status"] == "serving" and v["window"] == 1
    # The window serves one visit at a time; a second visit waits until this one is finished.
    busy = _post(app, f"{V}/windows/1/visit", tok["cun"], {"category": "B"})
    assert busy.status_code == 409 and busy.json()["error"] == "window_busy"
    assert _post(app, f"{V}/windows/2/visit", tok["cun2"], {"category": "Z"}).status_code == 422
    with app.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(TicketRow).where(TicketRow.hall_id != 1)).scalar() == 1
    app.clock.advance(300)
    assert _post(app, f"{V}/windows/1/finish", tok["cun"], {}).status_code == 200

    code = _get(app, f"{V}/windows/1/rating-code", tok["cun"]).json()["visit"]
    assert code["number"] == "A001" and len(code["code"]) == 6 and code["code"].isdigit()
    # The pad of window 2 may not read window 1's code.
    assert _get(app, f"{V}/windows/1/rating-code", tok["pad2"]).status_code == 403

    wrong = str((int(code["code"]) + 1) % 1_000_000).zfill(6)
    r = _post(app, f"{V}/windows/1/qr-rating", None, {"code": wrong, "level": 5})
    assert r.status_code == 404 and r.json()["error"] == "visit_code_wrong"
    # The QR code alone (no code) rates nothing; nor does the right code at another window.
    assert _post(app, f"{V}/windows/1/qr-rating", None, {"level": 5}).status_code == 422
    assert _post(app, f"{V}/windows/2/qr-rating", None, {"code": code["code"], "level": 5}).status_code == 404
    # The bottom two levels ask a reason.
    no_reason = _post(app, f"{V}/windows/1/qr-rating", None, {"code": code["code"], "level": 2})
    assert no_reason.status_code == 422 and no_reason.json()["error"] == "reason_required"
    assert _ratings(app) == []
    ok = _post(app, f"{V}/windows/1/qr-rating", None, {"code": code["code"], "level": 2, "reasons": ["等候时间太长"]})
    assert ok.status_code == 201, ok.text
    again = _post(app, f"{V}/windows/1/qr-rating", None, {"code": code["code"], "level": 5})
    assert again.status_code == 404
    assert [(lvl, ch, rs) for _, lvl, ch, rs in _ratings(app)] == [(2, "qr", ["等候时间太长"])]
    # Once rated, the window has no code to show.
    assert _get(app, f"{V}/windows/1/rating-code", tok["cun"]).json()["visit"] is None


def test_paper_questionnaire_entered_by_staff(app: App) -> None:
    tok = _station(app)
    v = _post(app, f"{V}/windows/2/visit", tok["cun"], {"category": "B"}).json()
    app.clock.advance(200)
    _post(app, f"{V}/windows/2/finish", tok["cun"], {})
    path = f"{V}/tickets/{v['id']}/paper-rating"
    assert _post(app, path, tok["pad2"], {"level": 4}).status_code == 403
    # The clerk who served the visit may not enter its questionnaire; a colleague may.
    own = _post(app, path, tok["cun"], {"level": 5})
    assert own.status_code == 409 and own.json()["error"] == "own_ticket"
    r = _post(app, path, tok["cun2"], {"level": 4})
    assert r.status_code == 201, r.text
    assert [(lvl, ch) for _, lvl, ch, _ in _ratings(app)] == [(4, "paper")]
    with app.db.write() as conn:
        add_user(conn, "city1", "city-pass-1", role="city")
    city = app.client.post("/api/auth/login", json={"username": "city1", "password": "city-pass-1"}).json()["token"]
    app.client.cookies.clear()
    export = app.client.get("/api/city/ratings-export", params={"from": "2026-03-03"},
                            headers={"Authorization": f"Bearer {city}"}).json()
    assert [(r["hall_code"], r["channel"]) for r in export["records"]] == [("village", "纸质问卷")]


def test_qr_page_renders(app: App) -> None:
    _station(app)
    page = app.client.get("/r/village/1")
    assert page.status_code == 200 and "代办窗口" in page.text and "评价码" in page.text
    assert app.client.get("/r/village/9").status_code == 404
