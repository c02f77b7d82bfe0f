"""Booking works on a fresh hall: slots come from the opening hours for the coming working days,
a manager resizes and closes them on a page, and the kiosk checks in by code or by ID card."""

from __future__ import annotations

from tests.operations.conftest import App

H = "/api/halls/township"
ID = "110101195001011239"  # a valid 18-digit number (checksum 9)


def test_a_fresh_hall_offers_slots_from_its_hours_on_the_coming_working_days(app: App) -> None:
    got = app.get(f"{H}/ops/slots", category="A").json()
    # Tuesday 2026-03-03 09:00: the next five working days (the default 1–5 days ahead).
    assert got["days"] == ["2026-03-04", "2026-03-05", "2026-03-06", "2026-03-09", "2026-03-10"]
    by_day: dict[str, list[dict]] = {}
    for s in got["slots"]:
        by_day.setdefault(s["day"], []).append(s)
    assert sorted(by_day) == got["days"]
    # Township hours 08:30–12:00 and 14:00–17:00 in 30-minute slots of 2: 7 + 6, none over lunch.
    assert all(len(v) == 13 for v in by_day.values())
    assert all(s["capacity"] == 2 and s["left"] == 2 for s in got["slots"])
    assert app.get(f"{H}/ops/slots", category="A").json()["slots"] == got["slots"]  # made once


def test_a_manager_resizes_and_closes_a_slot_and_a_closed_slot_takes_no_booking(app: App) -> None:
    slot = app.get(f"{H}/ops/slots", category="B").json()["slots"][0]
    start = "08:30"
    r = app.post(f"{H}/ops/slots", "boss", {"category": "B", "day": slot["day"], "slots": [[start, "09:00"]], "capacity": 0})
    assert r.status_code == 201, r.text
    closed = next(s for s in app.get(f"{H}/ops/slots", category="B").json()["slots"] if s["id"] == slot["id"])
    assert closed["capacity"] == 0 and closed["left"] == 0
    refused = app.post(f"{H}/appointments", "kiosk", {"slot_id": slot["id"], "name": "赵六", "phone": "13800138000"})
    assert refused.status_code == 409 and refused.json()["error"] == "slot_closed"
    app.post(f"{H}/ops/slots", "boss", {"category": "B", "day": slot["day"], "slots": [[start, "09:00"]], "capacity": 5})
    assert app.post(f"{H}/appointments", "kiosk", {"slot_id": slot["id"], "name": "赵六",
                                                   "phone": "13800138000"}).status_code == 201
    assert app.post(f"{H}/ops/slots", "clerk", {"category": "B", "day": slot["day"], "slots": [[start, "09:00"]],
                                                "capacity": 1}).status_code == 403


def test_the_manager_slot_page_lists_the_generated_slots(app: App) -> None:
    page = app.client.get(f"/ops/township/slots?category=A&token={app.tokens['boss']}")
    assert page.status_code == 200 and "预约时段" in page.text
    assert page.text.count('class="slot-edit ') == 5 * 13  # five working days of 13
    app.client.cookies.clear()  # the link logged this client in (the session cookie): forget it
    assert "管理人员登录" in app.client.get("/ops/township/slots").text


def test_the_kiosk_checks_in_by_id_card(app: App) -> None:
    slot = app.get(f"{H}/ops/slots", category="A").json()["slots"][1]  # Wednesday 09:00
    booked = app.post(f"{H}/appointments", "kiosk", {"slot_id": slot["id"], "name": "孙八", "id_number": ID})
    assert booked.status_code == 201, booked.text
    app.clock.set(slot["start_at"] - 5 * 60)
    r = app.post(f"{H}/appointments/check-in", "kiosk", {"id_number": ID})
    assert r.status_code == 201, r.text
    assert r.json()["check_in"] == "on_time" and r.json()["appointment"] == booked.json()["code"]
    again = app.post(f"{H}/appointments/check-in", "kiosk", {"id_number": ID})
    assert again.status_code == 404 and again.json()["error"] == "unknown_appointment"
