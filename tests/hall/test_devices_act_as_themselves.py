"""Issue 12 items 4–6: a device acts only as itself, a clerk only at their own window.

- a pad rates only the ticket its own window finished last; a kiosk never rates; the rating
  names the clerk who served the person (the 差评整改 case is opened against them);
- a heartbeat comes from a device token and names only the sender or devices behind that bridge;
- a clerk calls only where nobody else is signed in; taking a window over is an explicit,
  audited sign-in.
"""

from __future__ import annotations

from sqlalchemy import select

from hall.security import auth
from hall.security.accounts import add_device, add_user
from hall.store.models import AuditEntry, Device, DevicePresence, Rating, User

API = "/api/halls/tiny"


def _served(hall, window: int = 1, who: str = "staff"):
    t = hall.issue("A")
    assert hall.post(f"{API}/windows/{window}/call", who).json()["ticket"]["id"] == t["id"]
    assert hall.post(f"{API}/windows/{window}/start", who).status_code == 200
    assert hall.post(f"{API}/windows/{window}/finish", who).status_code == 200
    return t


def _second_clerk(hall) -> str:
    with hall.db.write() as conn:
        uid = add_user(conn, "clerk2", "clerk2-pass", role="staff", name="王五", halls=["tiny"])
        hall.tokens["clerk2"] = auth.issue_token(conn, user_id=uid, hours=1)
    return hall.tokens["clerk2"]


def _device(hall, name: str, kind: str, window: int | None = None) -> None:
    with hall.db.write() as conn:
        hall.tokens[name] = add_device(conn, kind, "tiny", window=window)[1]


def _ratings(hall) -> list[tuple[int, int, int | None]]:
    with hall.db.read() as conn:
        return [tuple(r) for r in conn.execute(select(Rating.ticket_id, Rating.level, Rating.staff_user_id))]


def test_a_pad_rates_only_what_its_own_window_finished_last(hall):
    _second_clerk(hall)
    at_two = _served(hall, window=2, who="clerk2")  # the pad's token is window 1's
    r = hall.post(f"{API}/tickets/{at_two['id']}/rating", "pad", {"level": 1, "channel": "keypad"})
    assert r.status_code == 403 and r.json()["error"] == "not_your_window"
    first = _served(hall, window=1)
    second = _served(hall, window=1)
    r = hall.post(f"{API}/tickets/{first['id']}/rating", "pad", {"level": 1, "channel": "keypad"})
    assert r.status_code == 403 and r.json()["error"] == "not_your_window"  # someone else stands there now
    r = hall.post(f"{API}/tickets/{second['id']}/rating", "pad", {"level": 5, "channel": "pad", "window": 2})
    assert r.status_code == 403  # a pad cannot claim another window
    assert _ratings(hall) == []
    r = hall.post(f"{API}/tickets/{second['id']}/rating", "pad", {"level": 1, "channel": "keypad"})
    assert r.status_code == 201, r.text
    with hall.db.read() as conn:
        clerk = conn.execute(select(User.id).where(User.username == "clerk")).scalar()
    assert _ratings(hall) == [(second["id"], 1, clerk)]  # the case goes to the clerk who served


def test_a_kiosk_never_rates_and_a_bridge_names_the_window(hall):
    t = _served(hall, window=1)
    r = hall.post(f"{API}/tickets/{t['id']}/rating", "kiosk", {"level": 1, "channel": "keypad"})
    assert r.status_code == 403
    r = hall.post(f"{API}/tickets/{t['id']}/rating", "bridge", {"level": 1, "channel": "keypad"})
    assert r.status_code == 403 and r.json()["error"] == "not_your_window"  # which pad pressed?
    r = hall.post(f"{API}/tickets/{t['id']}/rating", "bridge", {"level": 1, "channel": "keypad", "window": 2})
    assert r.status_code == 403 and r.json()["error"] == "not_your_window"
    assert _ratings(hall) == []
    r = hall.post(f"{API}/tickets/{t['id']}/rating", "bridge", {"level": 1, "channel": "keypad", "window": 1})
    assert r.status_code == 201, r.text


def _presence(hall) -> dict[str, tuple[bool, str | None]]:
    with hall.db.read() as conn:
        return {r.code: (r.online, r.via) for r in conn.execute(select(DevicePresence))}


def test_a_bridge_names_only_its_own_devices(hall):
    _device(hall, "bridge2", "bridge")
    ok = {"devices": [{"id": "led:/dev/ttyUSB0#1", "kind": "led", "window": 1, "ok": True}]}
    assert hall.post(f"{API}/devices/heartbeat", "bridge", ok).status_code == 200
    kiosk_ok = hall.post(f"{API}/devices/heartbeat", "kiosk", {"devices": [{"id": "x", "ok": True}]})
    assert kiosk_ok.status_code == 200
    before = _presence(hall)
    with hall.db.read() as conn:
        kiosk_code = conn.execute(select(Device.code).where(Device.kind == "kiosk")).scalar()
    assert kiosk_code in before
    # another bridge marks the first bridge's strip offline, or a registered kiosk: refused, nothing changes
    steal = {"devices": [{"id": "led:/dev/ttyUSB0#1", "kind": "led", "window": 1, "ok": False}]}
    r = hall.post(f"{API}/devices/heartbeat", "bridge2", steal)
    assert r.status_code == 403 and r.json()["error"] == "not_your_device"
    forge = {"devices": [{"id": kiosk_code, "kind": "kiosk", "ok": False}]}
    r = hall.post(f"{API}/devices/heartbeat", "bridge2", forge)
    assert r.status_code == 403 and r.json()["error"] == "not_your_device"
    assert _presence(hall) == before
    # a page reports only itself, and no user (not even an admin) reports device status
    r = hall.post(f"{API}/devices/heartbeat", "screen", {"devices": [{"id": kiosk_code, "ok": False}]})
    assert r.status_code == 200 and _presence(hall)[kiosk_code] == before[kiosk_code]
    assert hall.post(f"{API}/devices/heartbeat", "admin", forge).status_code == 403
    assert hall.post(f"{API}/devices/heartbeat", "staff", forge).status_code == 403
    assert _presence(hall)[kiosk_code] == before[kiosk_code]


def test_a_clerk_calls_only_where_nobody_else_is_signed_in(hall):
    _second_clerk(hall)
    hall.issue("A")
    assert hall.post(f"{API}/windows/1/sign-in").status_code == 200
    for path in ("call", "recall", "start", "finish", "no-show", "resume"):
        r = hall.post(f"{API}/windows/1/{path}", "clerk2")
        assert r.status_code == 403 and r.json()["error"] == "window_taken", (path, r.text)
    r = hall.post(f"{API}/windows/1/pause", "clerk2", {"reason": "午休"})
    assert r.status_code == 403
    assert hall.post(f"{API}/windows/1/sign-out", "clerk2").status_code == 403
    evs = hall.client.get(f"{API}/events?since=0").json()["events"]
    assert [e["type"] for e in evs] == ["ticket.issued", "window.signed_in"]
    assert hall.post(f"{API}/windows/1/call").json()["ticket"] is not None  # the clerk signed in there may


def test_taking_a_window_over_is_confirmed_and_audited(hall):
    _second_clerk(hall)
    assert hall.post(f"{API}/windows/1/sign-in").status_code == 200
    r = hall.post(f"{API}/windows/1/sign-in", "clerk2")
    assert r.status_code == 409 and r.json()["error"] == "window_taken" and r.json()["staff_name"] == "张三"
    assert hall.client.get(f"{API}/snapshot").json()["windows"][0]["staff_name"] == "张三"
    r = hall.post(f"{API}/windows/1/sign-in", "clerk2", {"takeover": True})
    assert r.status_code == 200 and r.json()["took_over"] is True
    assert hall.client.get(f"{API}/snapshot").json()["windows"][0]["staff_name"] == "王五"
    types = [e["type"] for e in hall.client.get(f"{API}/events?since=0").json()["events"]]
    assert types == ["window.signed_in", "window.signed_out", "window.signed_in"]
    with hall.db.read() as conn:
        audit = conn.execute(select(AuditEntry.action, AuditEntry.actor).where(AuditEntry.action == "window.takeover")).all()
    assert [tuple(a) for a in audit] == [("window.takeover", "user:王五")]
    assert hall.post(f"{API}/windows/1/call").json()["error"] == "window_taken"  # the first clerk is out
    assert hall.post(f"{API}/windows/1/sign-in", json={"takeover": "yes"}).status_code == 422
