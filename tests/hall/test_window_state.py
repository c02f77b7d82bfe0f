"""Window state from one rule (hall.core.windowstate): unstaffed windows are closed, and
sign-out leaves a window closed on every surface — so it refuses while a ticket is in hand."""

from __future__ import annotations

from typing import Any

from hall.core.windowstate import WindowState, window_state

API = "/api/halls/tiny"


def _window(hall: Any, number: int) -> dict[str, Any]:
    snap = hall.client.get(f"{API}/snapshot").json()
    return next(w for w in snap["windows"] if w["number"] == number)


def test_nobody_signed_in_is_closed_not_idle() -> None:
    assert window_state(active=True, signed_in=False, paused=False, current_status=None) is WindowState.CLOSED
    assert window_state(active=True, signed_in=True, paused=False, current_status=None) is WindowState.IDLE
    assert window_state(active=True, signed_in=False, paused=False, current_status="called") is WindowState.CALLED
    assert window_state(active=True, signed_in=True, paused=True, current_status="serving") is WindowState.PAUSED
    assert window_state(active=False, signed_in=True, paused=True, current_status="serving") is WindowState.CLOSED


def test_sign_out_with_a_ticket_in_hand_is_refused_and_changes_nothing(hall) -> None:
    hall.post(f"{API}/windows/1/sign-in")
    hall.issue("A")
    hall.post(f"{API}/windows/1/call")
    before = _window(hall, 1)
    r = hall.post(f"{API}/windows/1/sign-out")
    assert r.status_code == 409 and r.json()["error"] == "window_holds_ticket"
    # Nor can the clerk leave it by signing in elsewhere.
    r = hall.post(f"{API}/windows/2/sign-in")
    assert r.status_code == 409 and r.json()["error"] == "window_holds_ticket"
    assert _window(hall, 1) == before and before["state"] == "called" and before["staff_name"] == "张三"
    assert _window(hall, 2)["state"] == "closed"


def test_sign_out_ends_the_pause(hall) -> None:
    hall.post(f"{API}/windows/1/sign-in")
    assert hall.post(f"{API}/windows/1/pause", json={"reason": "午休"}).status_code == 200
    assert hall.post(f"{API}/windows/1/sign-out").status_code == 200
    w = _window(hall, 1)
    assert (w["state"], w["staff_name"], w["pause_reason"], w["current"]) == ("closed", None, None, None)
