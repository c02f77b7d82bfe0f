"""The city view (SQLite and PostgreSQL): every hall's row equals that hall's own manager view,
the totals add up, who sees which halls, sorting, and the provincial export of all halls."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from hall.core.halls import import_layout
from hall.security.accounts import add_device, add_user
from queueing.layout import load_layout
from tests.operations.conftest import App

ROOT = Path(__file__).resolve().parents[2]
T, C = "/api/halls/township", "/api/halls/county"


def _login(app: App, user: str, password: str, role: str, halls: list[str]) -> str:
    with app.db.write() as conn:
        add_user(conn, user, password, role=role, halls=halls)
    r = app.client.post("/api/auth/login", json={"username": user, "password": password})
    assert r.status_code == 200, r.text
    app.client.cookies.clear()  # the tests act as machines with bearer tokens, not as a browser
    return str(r.json()["token"])


def _county(app: App) -> None:
    with app.db.write() as conn:
        import_layout(conn, load_layout(ROOT / "examples" / "halls" / "county.toml"), now=time.time())
        app.tokens["county-kiosk"] = add_device(conn, "kiosk", "county")[1]
    r = app.client.post("/api/auth/login", json={"username": "clerk", "password": "clerk-pass-1"})
    assert r.status_code == 200
    app.client.cookies.clear()


def _city(app: App, token: str, **params: Any) -> Any:
    return app.client.get("/api/city", params=params or None, headers={"Authorization": f"Bearer {token}"})


def _busy_township(app: App) -> None:
    """Three waiting, one served and rated 非常不满意 (a case opens), one served and rated 满意."""
    for _ in range(2):
        t = app.post(f"{T}/tickets", "kiosk", {"category": "A", "channel": "kiosk"}).json()
        app.clock.advance(60)
        assert app.post(f"{T}/windows/1/call", "clerk").json()["ticket"]["id"] == t["id"]
        app.post(f"{T}/windows/1/start", "clerk")
        app.clock.advance(200)
        app.post(f"{T}/windows/1/finish", "clerk")
        level = 1 if _ == 0 else 5
        r = app.post(f"{T}/tickets/{t['id']}/rating", "pad", {"level": level, "channel": "pad", "reasons": ["慢"]})
        assert r.status_code == 201, r.text
    for cat in ("A", "A", "B"):
        assert app.post(f"{T}/tickets", "kiosk", {"category": cat, "channel": "kiosk"}).status_code == 201
    app.clock.advance(400)


def test_each_halls_row_is_its_own_manager_view(app: App) -> None:
    _county(app)
    city = _login(app, "city1", "city-pass-1", "city", [])
    _busy_township(app)
    county_ticket = app.client.post(f"{C}/tickets", json={"category": "A", "channel": "kiosk"},
                                    headers={"Authorization": f"Bearer {app.tokens['county-kiosk']}"})
    assert county_ticket.status_code == 201, county_ticket.text

    # The service level is kept by the background loop (a round behind at most): wait for it.
    deadline = time.monotonic() + 15
    while True:
        body = _city(app, city).json()
        rows = {h["code"]: h for h in body["halls"]}
        cases_ready = rows.get("township", {}).get("cases_open") == 1
        if rows.get("township", {}).get("service_level_called") == 2 and cases_ready:
            break
        assert time.monotonic() < deadline, body
        time.sleep(0.1)
    assert set(rows) == {"township", "county"}
    assert (rows["township"]["kind"], rows["county"]["kind"]) == ("township", "hall")
    own = app.get(f"{T}/live-summary", "boss").json()
    snap = app.get(f"{T}/snapshot", "boss").json()
    town = rows["township"]
    assert town["waiting"] == 3 == sum(snap["waiting"].values())
    assert town["service_level"] == own["service_level"]["share"]
    assert town["service_level_called"] == own["service_level"]["count"] == 2
    assert town["longest_wait_seconds"] == own["longest_wait"]["waited_seconds"]
    assert town["devices_offline"] == len(own["devices_offline"])
    assert (town["ratings"], town["bad_ratings"], town["bad_share"]) == (2, 1, 0.5)
    assert (town["cases_open"], town["cases_overdue"]) == (1, 0)
    assert town["windows_total"] == len(snap["windows"])
    assert rows["county"]["waiting"] == 1 and rows["county"]["ratings"] == 0
    t = body["totals"]
    assert t["halls"] == 2 and t["waiting"] == 4
    assert t["windows_total"] == town["windows_total"] + rows["county"]["windows_total"]
    assert t["longest_wait_seconds"] == max(town["longest_wait_seconds"], rows["county"]["longest_wait_seconds"])

    # Sorting: by waiting, most first; missing figures last either way.
    by_wait = _city(app, city, sort="waiting", desc="1").json()["halls"]
    assert [h["code"] for h in by_wait] == ["township", "county"]
    by_sl = _city(app, city, sort="service_level").json()["halls"]
    assert by_sl[-1]["service_level"] is None or len({h["service_level"] for h in by_sl}) == 1
    bad = _city(app, city, sort="nope")
    assert bad.status_code == 422 and bad.json()["error"] == "invalid"


def test_who_sees_which_halls(app: App) -> None:
    _county(app)
    city = _login(app, "city1", "city-pass-1", "city", [])
    assert {h["code"] for h in _city(app, city).json()["halls"]} == {"township", "county"}
    # A hall manager sees only their own hall, and may not manage the other through the city role.
    assert [h["code"] for h in _city(app, app.tokens["boss"]).json()["halls"]] == ["township"]
    assert app.client.get(f"{C}/live-summary", headers={"Authorization": f"Bearer {app.tokens['boss']}"}).status_code == 403
    # A city manager drills into any hall's own views.
    assert app.client.get(f"{C}/live-summary", headers={"Authorization": f"Bearer {city}"}).status_code == 200
    assert _city(app, app.tokens["clerk"]).status_code == 403
    assert _city(app, app.tokens["kiosk"]).status_code == 403
    assert app.client.get("/api/city").status_code == 401


def test_provincial_export_of_every_hall(app: App) -> None:
    _county(app)
    city = _login(app, "city1", "city-pass-1", "city", [])
    _busy_township(app)
    headers = {"Authorization": f"Bearer {city}"}
    out = app.client.get("/api/city/ratings-export", params={"from": "2026-03-03"}, headers=headers).json()
    assert len(out["records"]) == 2 and {r["hall_code"] for r in out["records"]} == {"township"}
    assert out["fields"][:2] == ["hall_code", "hall_name"]
    csv_text = app.client.get("/api/city/ratings-export", params={"from": "2026-03-03", "format": "csv"},
                              headers=headers).content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("大厅编码,大厅名称,") and len(csv_text.splitlines()) == 3
    mine = app.client.get("/api/city/ratings-export", params={"from": "2026-03-03"},
                          headers={"Authorization": f"Bearer {app.tokens['boss']}"}).json()
    assert len(mine["records"]) == 2
    assert app.client.get("/api/city/ratings-export", params={"format": "xml"}, headers=headers).status_code == 422
