"""The operations API through the real app (SQLite and PostgreSQL): a bad rating from a five-key
pad opens a case through the background loop; the case is worked to closed; statistics export;
booking and kiosk check-in; 潮汐 through the API; the provincial export."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook

from tests.operations.conftest import App

H = "/api/halls/township"


def serve(app: App, category: str = "A", window: int = 1) -> dict[str, Any]:
    t = app.post(f"{H}/tickets", "kiosk", {"category": category, "channel": "kiosk"}).json()
    app.clock.advance(120)
    r = app.post(f"{H}/windows/{window}/call", "clerk")
    assert r.status_code == 200 and r.json()["ticket"]["id"] == t["id"], r.text
    assert app.post(f"{H}/windows/{window}/start", "clerk").status_code == 200
    app.clock.advance(300)
    assert app.post(f"{H}/windows/{window}/finish", "clerk").status_code == 200
    return t


def test_bad_rating_case_worked_to_closed_and_counted(app: App) -> None:
    t = serve(app)
    r = app.post(f"{H}/tickets/{t['id']}/rating", "pad", {"level": 1, "channel": "keypad"})
    assert r.status_code == 201 and r.json()["reason_pending"], r.text
    again = app.post(f"{H}/tickets/{t['id']}/rating", "pad", {"level": 5, "channel": "pad"})
    assert again.status_code == 409 and again.json()["error"] == "already_rated"
    t2 = serve(app)
    no_reason = app.post(f"{H}/tickets/{t2['id']}/rating", "pad", {"level": 2, "channel": "pad"})
    assert no_reason.status_code == 422 and no_reason.json()["error"] == "reason_required"

    cases = app.wait_for(f"{H}/ops/cases?status=open", "boss", lambda b: len(b["cases"]) == 1)["cases"]
    case = cases[0]
    assert case["ticket_id"] == t["id"] and case["reason_pending"] and case["staff_name"] == "张三"
    assert app.get(f"{H}/ops/cases", "clerk").status_code == 403
    cid = case["id"]
    assert app.post(f"{H}/ops/cases/{cid}/close", "boss", {}).json()["error"] == "illegal_step"
    assert app.post(f"{H}/ops/cases/{cid}/verify", "boss", {"note": "调取录像"}).status_code == 200
    assert app.post(f"{H}/ops/cases/{cid}/rectify", "boss", {"note": "约谈培训"}).status_code == 200
    missing = app.post(f"{H}/ops/cases/{cid}/follow_up", "boss", {"outcome": "认可"})
    assert missing.status_code == 422 and missing.json()["error"] == "missing_field"
    done = app.post(f"{H}/ops/cases/{cid}/follow_up", "boss", {"outcome": "认可", "reason": "等候时间长", "new_level": 4})
    assert done.json()["reason"] == "等候时间长"
    closed = app.post(f"{H}/ops/cases/{cid}/close", "boss", {"note": "办结"}).json()
    assert closed["status"] == "closed" and closed["on_time"]
    assert [a["action"] for a in app.get(f"{H}/ops/cases/{cid}", "boss").json()["audit"]] == [
        "open", "verify", "rectify", "follow_up", "close"]

    stats = app.get(f"{H}/ops/stats", "boss", day="2026-03-03").json()
    day = next(r for r in stats["rows"] if r["dimension"] == "day")
    assert (day["tickets"], day["served"], day["ratings"], day["bad_ratings"]) == (2, 2, 1, 1)
    assert (day["cases"], day["cases_on_time"]) == (1, 1) and day["wait_mean"] == 120.0
    text = app.get(f"{H}/ops/stats", "boss", day="2026-03-03", format="csv").content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    sheet = load_workbook(io.BytesIO(app.get(f"{H}/ops/stats", "boss", day="2026-03-03", format="xlsx").content)).active
    assert sheet is not None
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(cells) == len(table) and cells[0] == table[0]
    for xrow, crow in zip(cells[1:], table[1:], strict=True):
        for value, text in zip(xrow, crow, strict=True):
            assert (text == "") if value is None else (
                float(text) == value if isinstance(value, int | float) else text == value)
    page = app.get(f"/ops/township/report?day=2026-03-03&token={app.tokens['boss']}")
    assert page.status_code == 200 and "按时办结" in page.text
    login = app.get(f"/ops/township/report?token={app.tokens['clerk']}")
    assert "管理人员登录" in login.text and "按时办结" not in login.text


def test_link_and_provincial_export(app: App) -> None:
    t = serve(app)
    rated = app.post(f"{H}/tickets/{t['id']}/rating", "pad",
                     {"level": 5, "channel": "pad", "indicators": {"overall": 5, "attitude": 4}})
    assert rated.status_code == 201, rated.text
    r = app.post(f"{H}/ops/tickets/{t['id']}/link", "clerk", {"case_number": "330123-0001", "matter_code": "M1"})
    assert r.status_code == 200, r.text
    assert app.post(f"{H}/ops/tickets/999999/link", "clerk", {"case_number": "x", "matter_code": "y"}).status_code == 404
    out = app.get(f"{H}/ops/ratings-export", "boss", **{"from": "2026-03-03"}).json()
    (rec,) = out["records"]
    assert (rec["case_number"], rec["matter_code"], rec["region_code"], rec["channel"]) == ("330123-0001", "M1", "330123101", "评价器")
    assert rec["rated_person"] == "张三" and rec["level_name"] == "非常满意"
    assert rec["indicators"] == "整体满意度:5；服务态度:4"


def test_booking_check_in_and_tidal_window_through_the_api(app: App) -> None:
    r = app.post(f"{H}/ops/slots", "boss", {"category": "B", "day": "2026-03-04", "slots": [["09:00", "09:30"]], "capacity": 1})
    assert r.status_code == 201, r.text
    slots = app.get(f"{H}/ops/slots", category="B").json()
    assert slots["days"][0] == "2026-03-04" and slots["slots"][0]["left"] == 1
    booked = app.post(f"{H}/appointments", "kiosk", {"slot_id": slots["slots"][0]["id"], "name": "赵六", "phone": "13800138000"})
    assert booked.status_code == 201, booked.text
    full = app.post(f"{H}/appointments", "kiosk", {"slot_id": slots["slots"][0]["id"], "name": "钱七", "phone": "13900139000"})
    assert full.status_code == 409 and full.json()["error"] == "slot_full"
    wrong = app.client.post(f"{H}/appointments/{booked.json()['code']}/cancel", json={"phone": "13900139000"})
    assert wrong.status_code == 403
    app.clock.advance(86_400 + 5 * 60)  # Wednesday 09:05
    ticket = app.post(f"{H}/appointments/check-in", "kiosk", {"code": booked.json()["code"]})
    assert ticket.status_code == 201 and ticket.json()["check_in"] == "on_time", ticket.text
    assert ticket.json()["number"].startswith("Y")
    # 潮汐: window 4 (help desk: D, A) also takes B, and its next call is the appointment.
    assert app.post(f"{H}/windows/4/call", "clerk").json()["ticket"] is None
    moved = app.post(f"{H}/ops/windows/4/skills", "boss", {"categories": ["D", "A", "B"]})
    assert moved.status_code == 200 and moved.json()["serves"] == ["A", "B", "D"]
    assert app.post(f"{H}/ops/windows/4/skills", "boss", {"categories": ["Z"]}).status_code == 422
    assert app.post(f"{H}/windows/4/call", "clerk").json()["ticket"]["id"] == ticket.json()["id"]


def test_manager_pages_render_and_need_a_manager(app: App) -> None:
    t = serve(app)
    app.post(f"{H}/tickets/{t['id']}/rating", "pad", {"level": 2, "channel": "qr", "reasons": ["慢"]})
    case = app.wait_for(f"{H}/ops/cases", "boss", lambda b: len(b["cases"]) == 1)["cases"][0]
    tok = app.tokens["boss"]
    for path, marker in (
        ("/ops/township/cases", f'data-case="{case["id"]}"'),
        (f"/ops/township/cases/{case['id']}", 'data-step="verify"'),
        ("/ops/township/stats?day=2026-03-03", "各时段取号数"),
        ("/ops/township/report?day=2026-03-03", "@page { size: A4"),
        ("/ops/township/live", "潮汐窗口"),
    ):
        sep = "&" if "?" in path else "?"
        page = app.client.get(f"{path}{sep}token={tok}")
        assert page.status_code == 200 and marker in page.text, path
        app.client.cookies.clear()  # the link logged this client in (the session cookie): forget it
        assert "管理人员登录" in app.client.get(path).text
    booking = app.client.get("/book/township")
    assert booking.status_code == 200 and "预约办事" in booking.text


def test_operations_settings_validated_and_applied(app: App) -> None:
    bad = app.client.put(f"{H}/ops/settings", json={"case_working_days": 6},
                         headers={"Authorization": f"Bearer {app.tokens['boss']}"})
    assert bad.status_code == 422
    ok = app.client.put(f"{H}/ops/settings", json={"case_working_days": 15, "booking": {"max_days_ahead": 2}},
                        headers={"Authorization": f"Bearer {app.tokens['boss']}"})
    assert ok.status_code == 200, ok.text
    assert app.get(f"{H}/ops/settings", "boss").json()["operations"]["case_working_days"] == 15
    app.post(f"{H}/ops/slots", "boss", {"category": "A", "day": "2026-03-06", "slots": [["09:00", "09:30"]], "capacity": 1})
    slots = app.get(f"{H}/ops/slots").json()
    assert slots["days"] == ["2026-03-04", "2026-03-05"]  # Friday is 3 days ahead: not offered
    assert {s["day"] for s in slots["slots"]} == {"2026-03-04", "2026-03-05"}
    t = serve(app)
    app.post(f"{H}/tickets/{t['id']}/rating", "pad", {"level": 1, "channel": "keypad"})
    case = app.wait_for(f"{H}/ops/cases", "boss", lambda b: len(b["cases"]) == 1)["cases"][0]
    assert case["working_days"] == 15


def test_webhook_registration_keeps_the_secret_out_of_answers(app: App) -> None:
    short = app.post(f"{H}/ops/webhooks", "boss", {"url": "http://93.184.215.14:9/hook", "secret": "short"})
    assert short.status_code == 422
    made = app.post(f"{H}/ops/webhooks", "boss", {"url": "http://93.184.215.14:9/hook", "secret": "s" * 20})
    assert made.status_code == 201, made.text
    listed = app.get(f"{H}/ops/webhooks", "boss").json()["webhooks"]
    assert [w["url"] for w in listed] == ["http://93.184.215.14:9/hook"] and "s" * 20 not in str(listed)
    assert app.post(f"{H}/ops/webhooks", "clerk", {"url": "http://x/", "secret": "s" * 20}).status_code == 403


def test_rating_period_follows_the_hall_settings(app: App) -> None:
    headers = {"Authorization": f"Bearer {app.tokens['boss']}"}
    assert app.client.put(f"{H}/ops/settings", json={"rating": {"period_days": 1}}, headers=headers).status_code == 200
    t = serve(app)
    app.clock.advance(86_400 + 60)
    late = app.post(f"{H}/tickets/{t['id']}/rating", "pad", {"level": 5, "channel": "pad"})
    assert late.status_code == 409 and late.json()["error"] == "period_over"


def test_appeal_filed_by_staff_decided_by_a_manager(app: App) -> None:
    t = serve(app)
    app.post(f"{H}/tickets/{t['id']}/rating", "pad", {"level": 1, "channel": "pad", "reasons": ["乱评"]})
    app.wait_for(f"{H}/ops/cases", "boss", lambda b: len(b["cases"]) == 1)
    filed = app.post(f"{H}/ops/appeals", "clerk", {"ticket_id": t["id"], "reason": "群众未办理即差评"})
    assert filed.status_code == 201, filed.text
    again = app.post(f"{H}/ops/appeals", "clerk", {"ticket_id": t["id"], "reason": "再次申诉"})
    assert again.status_code == 409
    appeal_id = filed.json()["id"]
    assert app.post(f"{H}/ops/appeals/{appeal_id}/decide", "clerk", {"upheld": True, "note": "x"}).status_code == 403
    page = app.client.get(f"/ops/township/cases?token={app.tokens['boss']}")
    assert f'data-appeal="{appeal_id}"' in page.text and "待复核" in page.text
    done = app.post(f"{H}/ops/appeals/{appeal_id}/decide", "boss", {"upheld": True, "note": "核实为误评"})
    assert done.status_code == 200 and done.json()["status"] == "upheld"
    (case,) = app.get(f"{H}/ops/cases", "boss").json()["cases"]
    assert case["status"] == "withdrawn"
    day = next(r for r in app.get(f"{H}/ops/stats", "boss", day="2026-03-03").json()["rows"] if r["dimension"] == "day")
    assert (day["ratings"], day["cases"]) == (0, 0)


def test_slots_generated_from_opening_hours(app: App) -> None:
    r = app.post(f"{H}/ops/slots", "boss", {"category": "A", "day": "2026-03-04", "every_minutes": 30, "capacity": 3})
    assert r.status_code == 201, r.text
    slots = [s for s in app.get(f"{H}/ops/slots", category="A").json()["slots"] if s["day"] == "2026-03-04"]
    # Township hours 08:30-12:00 and 14:00-17:00: 7 + 6 half-hour slots, none over lunch.
    assert len(slots) == 13 and all(s["capacity"] == 3 for s in slots)
    assert app.post(f"{H}/ops/slots", "boss", {"category": "A", "day": "2026-03-04", "every_minutes": 1,
                                               "capacity": 3}).status_code == 422


def test_kiosk_issue_path_with_appointment_code_follows_the_rules(app: App) -> None:
    app.post(f"{H}/ops/slots", "boss", {"category": "A", "day": "2026-03-04", "slots": [["09:00", "09:30"]], "capacity": 5})
    slot = app.get(f"{H}/ops/slots", category="A").json()["slots"][0]["id"]
    codes = [app.post(f"{H}/appointments", "kiosk", {"slot_id": slot, "name": f"人{i}", "phone": f"1380000000{i}"}).json()["code"]
             for i in range(2)]
    app.clock.advance(86_400 - 3600)  # Wednesday 08:00: an hour early
    early = app.post(f"{H}/tickets", "kiosk", {"appointment_code": codes[0], "channel": "appointment"})
    assert early.status_code == 422 and early.json()["error"] == "too_early"
    app.clock.advance(3600 + 10 * 60)  # 09:10: on time
    on_time = app.post(f"{H}/tickets", "kiosk", {"appointment_code": codes[0], "channel": "appointment"}).json()
    assert on_time["queue_class"] == "appointment"
    app.clock.advance(20 * 60)  # 09:30: 30 minutes after the slot began
    late = app.post(f"{H}/tickets", "kiosk", {"appointment_code": codes[1], "channel": "appointment"}).json()
    assert late["queue_class"] == "normal" and not late["number"].startswith("Y")


def test_stats_over_a_range_of_days(app: App) -> None:
    serve(app)
    app.clock.advance(86_400)
    serve(app)
    body = app.get(f"{H}/ops/stats", "boss", **{"from": "2026-03-03", "to": "2026-03-04"}).json()
    days = {r["key"]: r["tickets"] for r in body["rows"] if r["dimension"] == "day"}
    assert days == {"2026-03-03": 1, "2026-03-04": 1}
    assert next(r for r in body["rows"] if r["dimension"] == "category")["tickets"] == 2
    bad = app.get(f"{H}/ops/stats", "boss", **{"from": "2026-03-04", "to": "2026-03-03"})
    assert bad.status_code == 422


def test_public_booking_is_rate_limited_per_client(app: App) -> None:
    answers = [app.client.post(f"{H}/appointments", json={"slot_id": 999, "name": "某", "phone": "13800000000"}).status_code
               for _ in range(12)]
    assert answers[:10] == [404] * 10 and answers[10:] == [429, 429]
