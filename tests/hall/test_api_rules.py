"""Errors, access, idempotency, ratings, personal data and abuse limits."""

from __future__ import annotations

API = "/api/halls/tiny"


def test_errors_are_json_with_codes(hall):
    c = hall.client
    r = c.post("/api/halls/nowhere/tickets", json={"category": "A"}, headers=hall.headers("kiosk"))
    assert r.status_code == 404 and r.json()["error"] == "unknown_hall"
    assert hall.post(f"{API}/windows/99/call").json()["error"] == "unknown_window"
    r = c.get(f"{API}/tickets/12345", headers=hall.headers("staff"))
    assert r.status_code == 404 and r.json()["error"] == "unknown_ticket"
    t = hall.issue("A")
    r = hall.post(f"{API}/tickets/{t['id']}/finish")
    assert r.status_code == 409 and r.json()["error"] == "illegal_move"
    r = hall.post(f"{API}/tickets/{t['id']}/explode")
    assert r.status_code == 404
    r = c.post(f"{API}/tickets", content=b"{not json", headers=hall.headers("kiosk"))
    assert r.status_code == 422 and r.json()["error"] == "invalid"
    r = hall.post(f"{API}/tickets", "kiosk", {"category": "Z"})
    assert r.status_code == 422 and r.json()["field"] == "category"
    r = hall.post(f"{API}/tickets", "kiosk", {"category": "A", "priority": "vip"})
    assert r.status_code == 422 and r.json()["field"] == "priority"
    r = hall.post(f"{API}/tickets", "kiosk", {"category": "A", "id_number": "123"})
    assert r.status_code == 422 and r.json()["field"] == "id_number"
    # nothing half-written: only the one good ticket and its event exist
    evs = c.get(f"{API}/events?since=0", headers=hall.headers("staff")).json()["events"]
    assert [e["type"] for e in evs] == ["ticket.issued"]


def test_access_rules(hall):
    c = hall.client
    assert c.post(f"{API}/tickets", json={"category": "A"}).status_code == 401
    assert c.post(f"{API}/tickets", json={"category": "A"}, headers={"Authorization": "Bearer nope"}).status_code == 401
    r = hall.post(f"{API}/windows/1/call", "kiosk")
    assert r.status_code == 403  # a kiosk issues, it does not call
    r = hall.post(f"{API}/windows/1/call", "other")
    assert r.status_code == 403 and "hall" in r.json()["message"]  # staff of no hall
    assert hall.post(f"{API}/windows/1/call", "admin").status_code == 200
    assert hall.post(f"{API}/windows/1/call", "bridge").status_code == 200
    assert c.get(f"{API}/snapshot").status_code == 200  # public screens by default
    assert c.get(f"{API}/snapshot", headers=hall.headers("screen")).status_code == 200
    r = c.post("/api/auth/login", json={"username": "clerk", "password": "wrong-password"})
    assert r.status_code == 401


def test_idempotent_issue_and_replayed_refusal(hall):
    a = hall.post(f"{API}/tickets", "kiosk", {"category": "A", "idempotency_key": "k-1"})
    b = hall.post(f"{API}/tickets", "kiosk", {"category": "A", "idempotency_key": "k-1"})
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    c = hall.post(f"{API}/tickets", "kiosk", {"category": "A"}, **{"Idempotency-Key": "k-2"})
    d = hall.post(f"{API}/tickets", "kiosk", {"category": "A"}, **{"Idempotency-Key": "k-2"})
    assert c.json()["id"] == d.json()["id"] != a.json()["id"]
    snap = hall.client.get(f"{API}/snapshot").json()
    assert snap["waiting"]["A"] == 2 and snap["seq"] == 2
    # a refusal is final and replayed as is, even after the state changed
    key = {"Idempotency-Key": "call-1"}
    hall.post(f"{API}/windows/1/call")
    first = hall.post(f"{API}/windows/1/call", **key)
    assert first.status_code == 409
    hall.post(f"{API}/windows/1/start")
    again = hall.post(f"{API}/windows/1/call", **key)
    assert again.status_code == 409 and again.json() == first.json()
    # the same key on another request is refused
    other = hall.post(f"{API}/windows/2/call", **key)
    assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused"


def test_idempotent_keypad_press_calls_once(hall):
    hall.issue("A")
    hall.issue("A")
    key = {"Idempotency-Key": "press-77"}
    r1 = hall.post(f"{API}/windows/1/call", "bridge", **key)
    r2 = hall.post(f"{API}/windows/1/call", "bridge", **key)
    assert r1.json() == r2.json() and r1.json()["ticket"]["number"] == "A001"
    snap = hall.client.get(f"{API}/snapshot").json()
    assert snap["waiting"]["A"] == 1


def _served(hall, category="A"):
    t = hall.issue(category)
    hall.post(f"{API}/windows/1/call")
    hall.post(f"{API}/windows/1/start")
    hall.post(f"{API}/windows/1/finish")
    return t


def test_rating_rules(hall):
    t = hall.issue("A")
    r = hall.client.post(f"{API}/tickets/{t['id']}/rating", json={"level": 5, "progress_token": t["progress_token"]})
    assert r.status_code == 409 and r.json()["error"] == "not_finished"
    hall.post(f"{API}/windows/1/call")
    hall.post(f"{API}/windows/1/start")
    hall.post(f"{API}/windows/1/finish")
    r = hall.post(f"{API}/tickets/{t['id']}/rating", "pad", {"level": 1, "channel": "pad"})
    assert r.status_code == 422 and r.json()["error"] == "reason_required"
    r = hall.post(f"{API}/tickets/{t['id']}/rating", "pad", {"level": 9})
    assert r.status_code == 422
    r = hall.post(f"{API}/tickets/{t['id']}/rating", "pad", {"level": 2, "reasons": ["等候时间长"], "channel": "pad"})
    assert r.status_code == 201 and r.json()["reason_pending"] is False
    r = hall.post(f"{API}/tickets/{t['id']}/rating", "pad", {"level": 5})
    assert r.status_code == 409 and r.json()["error"] == "already_rated"
    # a five-key pad cannot give a reason: stored with the reason pending (collected at 回访)
    t2 = _served(hall)
    r = hall.post(f"{API}/tickets/{t2['id']}/rating", "bridge", {"level": 1, "channel": "keypad", "window": 1})
    assert r.status_code == 201 and r.json()["reason_pending"] is True
    # staff may not rate; the person may, with the progress token of that ticket only
    t3 = _served(hall)
    assert hall.post(f"{API}/tickets/{t3['id']}/rating", "staff", {"level": 5}).status_code == 403
    wrong = hall.client.post(f"{API}/tickets/{t3['id']}/rating", json={"level": 5, "progress_token": t2["progress_token"]})
    assert wrong.status_code == 403
    ok = hall.client.post(f"{API}/tickets/{t3['id']}/rating", json={"level": 4, "progress_token": t3["progress_token"]})
    assert ok.status_code == 201
    rated = [e for e in hall.client.get(f"{API}/events?since=0").json()["events"] if e["type"] == "ticket.rated"]
    assert [e["data"]["level"] for e in rated] == [2, 1, 4]
    assert all("reasons" not in e["data"] and "channel" not in e["data"] for e in rated)  # public view


def test_one_waiting_ticket_per_person_and_category(hall):
    hall.issue("A", id_number="11010119900307123X")
    r = hall.post(f"{API}/tickets", "kiosk", {"category": "A", "id_number": "11010119900307123x"})
    assert r.status_code == 409 and r.json()["error"] == "already_waiting" and r.json()["number"] == "A001"
    assert hall.issue("B", id_number="11010119900307123X")["number"] == "B001"  # another category is fine
    hall.issue("A", phone="13900001111")
    r = hall.post(f"{API}/tickets", "kiosk", {"category": "A", "phone": "13900001111"})
    assert r.status_code == 409


def test_daily_cap(hall):
    # the tiny layout caps B at 3 tickets a day
    for _ in range(3):
        hall.issue("B")
    r = hall.post(f"{API}/tickets", "kiosk", {"category": "B"})
    assert r.status_code == 409 and r.json()["error"] == "daily_cap"
    hall.clock.advance(24 * 3600)
    assert hall.issue("B")["number"] == "B001"


def test_progress_page_data_and_public_events_hold_no_personal_data(hall):
    t = hall.issue("A", id_number="110101199003071234", phone="13812345678")
    hall.issue("A")
    p = hall.client.get(f"/api/progress/{t['progress_token']}").json()
    assert p["number"] == "A001" and p["status"] == "waiting" and p["ahead"] == 0
    later = hall.issue("A")
    assert hall.client.get(f"/api/progress/{later['progress_token']}").json()["ahead"] == 2
    assert hall.client.get("/api/progress/not-a-token").status_code == 404
    public = hall.client.get(f"{API}/events?since=0").text
    staff = hall.client.get(f"{API}/events?since=0", headers=hall.headers("staff")).text
    for secret in (t["progress_token"], "110101199003071234", "13812345678"):
        assert secret not in public
    # the bridge gets the progress URL live (it prints it); the stored log keeps no token (issue 12)
    assert t["progress_token"] not in staff
    assert "110101199003071234" not in staff and "13812345678" not in staff


def test_matter_search(hall):
    r = hall.client.get(f"{API}/matters?q=yyzz").json()["matters"]
    assert any(m["name"] == "营业执照补领" for m in r)
    r = hall.client.get(f"{API}/matters?q=护照").json()["matters"]
    assert r and all("护照" in m["name"] for m in r)
    from hall.core.halls import catalogue

    assert len(catalogue()) >= 200
    # issuing by matter picks its category
    code = r[0]["code"]
    t = hall.post(f"{API}/tickets", "kiosk", {"matters": [code]}).json()
    assert t["category"] == r[0]["category"]


def test_issue_rate_limit_per_device(hall):
    codes = []
    for _ in range(32):
        codes.append(hall.post(f"{API}/tickets", "kiosk", {"category": "A"}).status_code)
    assert codes.count(201) == 30 and codes[-1] == 429
    # staff issuing for someone is not a device and is not limited
    assert hall.post(f"{API}/tickets", "staff", {"category": "A", "channel": "staff"}).status_code == 201


def test_ops_endpoints(hall):
    c = hall.client
    assert c.get("/healthz").json() == {"ok": True}
    ready = c.get("/readyz").json()
    assert ready == {"ok": True, "database": True, "bus": True}
    hall.issue("A")
    hall.post(f"{API}/windows/1/call")
    text = c.get("/metrics").text
    assert 'hall_tickets_issued_total{category="A",hall="tiny"} 1.0' in text
    assert 'hall_calls_total{hall="tiny",window="1"} 1.0' in text
    doc = c.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.") and "/api/halls/{hall}/windows/{w}/call" in doc["paths"]


def test_device_heartbeat_emits_status_changes(hall):
    beat = {"devices": [{"id": "led-1", "kind": "led", "window": 1, "ok": True}]}
    assert hall.post(f"{API}/devices/heartbeat", "bridge", beat).json()["changed"] == 2  # the bridge and its strip
    assert hall.post(f"{API}/devices/heartbeat", "bridge", beat).json()["changed"] == 0
    beat["devices"][0]["ok"] = False
    assert hall.post(f"{API}/devices/heartbeat", "bridge", beat).json()["changed"] == 1
    evs = [e for e in hall.client.get(f"{API}/events?since=0").json()["events"] if e["type"] == "device.status"]
    assert [e["data"]["online"] for e in evs if e["data"]["id"] == "led-1"] == [True, False]
    assert [e["data"]["kind"] for e in evs if e["data"]["online"]] == ["bridge", "led"]
    assert hall.post(f"{API}/devices/heartbeat", "bridge", {"devices": "x"}).status_code == 422


def test_staff_ticket_list_and_call_audio(hall):
    a = hall.issue("A")
    hall.clock.advance(10)
    f = hall.issue("F")
    r = hall.client.get(f"{API}/tickets", headers=hall.headers("staff")).json()["tickets"]
    assert [t["id"] for t in r] == [a["id"], f["id"]]
    r = hall.client.get(f"{API}/tickets?category=F", headers=hall.headers("staff")).json()["tickets"]
    assert [t["number"] for t in r] == ["F001"]
    assert hall.client.get(f"{API}/tickets").status_code == 401
    hall.clock.advance(300)
    hall.post(f"{API}/windows/3/call")
    wav = hall.client.get(f"{API}/calls/{f['id']}/audio.wav")
    assert wav.status_code == 200 and wav.content[:4] == b"RIFF" and len(wav.content) > 10_000
    assert hall.client.get(f"{API}/calls/{a['id']}/audio.wav").status_code == 404  # not called yet
    assert 'hall_wait_seconds_count{hall="tiny"} 1.0' in hall.client.get("/metrics").text


def test_private_screens_need_a_token(database_url, tmp_path, layout_file):
    from starlette.testclient import TestClient

    from hall.app import create_app
    from hall.settings import load_settings

    from .conftest import make_env

    layout_file.write_text(layout_file.read_text(encoding="utf-8") + "\n[server]\npublic_snapshot = false\n", encoding="utf-8")
    with TestClient(create_app(load_settings(make_env(database_url, tmp_path, layout_file)))) as c:
        r = c.get(f"{API}/snapshot")
        assert r.status_code == 401
        assert c.get(f"{API}/events?since=0").status_code == 401
        # The call audio names the number and the window: it is as private as the screen.
        assert c.get(f"{API}/calls/1/audio.wav").status_code == 401


def test_private_stream_takes_the_token_as_first_message(database_url, tmp_path, layout_file):
    import pytest
    from starlette.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    from hall.app import create_app
    from hall.security.accounts import add_device
    from hall.settings import load_settings

    from .conftest import make_env

    layout_file.write_text(layout_file.read_text(encoding="utf-8") + "\n[server]\npublic_snapshot = false\n", encoding="utf-8")
    with TestClient(create_app(load_settings(make_env(database_url, tmp_path, layout_file)))) as c:
        db = c.app.state.hall.db
        with db.write() as conn:
            _, token = add_device(conn, "screen", "tiny")
        with c.websocket_connect("/ws/halls/tiny") as ws:
            ws.send_json({"type": "auth", "token": token})
            assert ws.receive_json()["type"] == "snapshot"
        with pytest.raises(WebSocketDisconnect) as e:
            with c.websocket_connect("/ws/halls/tiny") as ws:
                ws.send_json({"type": "auth", "token": "wrong"})
                ws.receive_json()
        assert e.value.code == 4401


def test_a_silent_bridge_is_marked_offline_once(hall):
    from hall.core.presence import mark_silent
    from hall.core.registry import HallRegistry

    beat = {"devices": [{"id": "led-1", "kind": "led", "window": 1, "ok": True}]}
    assert hall.post(f"{API}/devices/heartbeat", "bridge", beat).status_code == 200
    info = HallRegistry(hall.db).get("tiny")
    assert mark_silent(hall.db, info, hall.clock.now() + 10) == []  # it just spoke
    later = hall.clock.now() + 120
    envs = mark_silent(hall.db, info, later)
    # The bridge and the strip it drives: nobody reports either any more.
    assert sorted((e["type"], e["data"]["kind"], e["data"]["online"]) for e in envs) == [
        ("device.status", "bridge", False), ("device.status", "led", False)]
    assert mark_silent(hall.db, info, later + 60) == []  # reported once
    hall.post(f"{API}/devices/heartbeat", "bridge", beat)
    evs = [e for e in hall.client.get(f"{API}/events?since=0").json()["events"] if e["type"] == "device.status"]
    assert [e["data"]["online"] for e in evs if e["data"]["kind"] == "bridge"] == [True, False, True]
