"""The hall screen's announcements in Chromium with a scripted stream and a scripted <audio>:
one call at a time and never overlapping, only its zone's calls, no stale calls after a
reconnect, and a tap-to-enable button when autoplay is blocked."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.pages_scripted import Scripted, deliver, open_scripted

pytestmark = [pytest.mark.browser]

SNAPSHOT = {
    "seq": 1, "hall": {"code": "demo", "name": "示例区政务服务中心"},
    "waiting": {"A": 3, "F": 1}, "waiting_by_zone": {"service": 3, "police": 1},
    "categories": [{"code": "A", "name": "综合业务", "zone": "service"},
                   {"code": "B", "name": "社保医保", "zone": "service"},
                   {"code": "F", "name": "户籍办理", "zone": "police"}],
    "zones": [{"code": "service", "name": "综合服务区"}, {"code": "police", "name": "公安服务区"}],
    "windows": [{"number": 1, "name": "综合窗口1", "zone": None, "state": "idle", "current": None},
                {"number": 8, "name": "户籍窗口", "zone": "police", "state": "idle", "current": None}],
    "latest_calls": [],
}


def _open(browser: Browser, zone: str = "") -> Page:
    scripted = Scripted("screen.html", "screen", {"hall": "demo", "zone": zone}, zone=zone)
    scripted.answer("GET", "/snapshot", 200, SNAPSHOT)
    page = open_scripted(browser, scripted, "/screen/demo" + (f"?zone={zone}" if zone else ""), 1920, 1080)
    deliver(page, {"type": "snapshot", "seq": 1, "data": SNAPSHOT})
    return page


def call(seq: int, ticket: int, number: str, window: int, zone: str, *, ago: float = 0.0,
         kind: str = "ticket.called") -> dict[str, Any]:
    at = datetime.now(timezone(timedelta(hours=8))) - timedelta(seconds=ago)
    return {"seq": seq, "type": kind, "at": at.isoformat(), "hall": "demo",
            "data": {"id": ticket, "number": number, "category": number[0], "zone": zone,
                     "window": window, "window_name": "", "recalls": 0}}


def test_calls_are_announced_one_at_a_time(browser: Browser) -> None:
    page = _open(browser)
    deliver(page, call(2, 11, "A001", 1, "service"))
    deliver(page, call(3, 12, "F001", 8, "police"))
    deliver(page, call(4, 11, "A001", 1, "service", kind="ticket.recalled"))
    expect(page.locator("#newest-number")).to_have_text("A001")  # the recall is the newest
    played = page.evaluate("played")
    assert len(played) == 1 and "/calls/11/audio.wav" in played[0]  # the others wait their turn
    page.evaluate("document.getElementById('voice').dispatchEvent(new Event('ended'))")
    page.wait_for_function("played.length === 2")
    assert "/calls/12/audio.wav" in page.evaluate("played[1]")
    page.evaluate("document.getElementById('voice').dispatchEvent(new Event('error'))")  # a bad clip
    page.wait_for_function("played.length === 3")  # does not block the next call
    assert "recall=1" in page.evaluate("played[2]")
    page.evaluate("document.getElementById('voice').dispatchEvent(new Event('ended'))")
    page.wait_for_timeout(100)
    assert page.evaluate("played.length") == 3
    assert [r.inner_text() for r in page.locator("#recent td.number").all()] == ["F001"]
    # Waiting counts by zone, then category, on the whole-hall screen.
    # (a zone of one category gets no extra row: its category's count is the zone's)
    assert page.locator("#waiting tr.zone-row").all_inner_texts() == ["综合服务区\t2 人"]  # after the calls
    assert page.locator("#waiting tr").all_inner_texts()[-1] == "F 户籍办理\t0 人"


def test_zone_screen_speaks_only_its_zone(browser: Browser) -> None:
    page = _open(browser, zone="police")
    expect(page.locator("#zone-name")).to_have_text("公安服务区")  # its name from the snapshot
    deliver(page, call(2, 11, "A001", 1, "service"))
    deliver(page, call(3, 12, "F001", 8, "police"))
    expect(page.locator("#newest-number")).to_have_text("F001")
    played = page.evaluate("played")
    assert len(played) == 1 and "/calls/12/" in played[0]
    assert page.locator("#waiting tr").count() == 1  # only the zone's categories


def test_stale_calls_are_shown_but_not_spoken(browser: Browser) -> None:
    page = _open(browser)
    deliver(page, call(2, 11, "A001", 1, "service", ago=600))  # replayed after a long outage
    expect(page.locator("#newest-number")).to_have_text("A001")
    page.wait_for_timeout(100)
    assert page.evaluate("played") == []


def test_blocked_autoplay_asks_for_one_tap(browser: Browser) -> None:
    page = _open(browser)
    page.evaluate("window.blockAutoplay = true")
    deliver(page, call(2, 11, "A001", 1, "service"))
    expect(page.locator("#sound-on")).to_be_visible()
    page.evaluate("window.blockAutoplay = false")
    page.click("#sound-on")
    page.wait_for_function("played.length === 1")
    expect(page.locator("#sound-on")).to_be_hidden()
