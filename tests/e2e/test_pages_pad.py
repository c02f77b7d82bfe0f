"""The rating pad in Chromium with a scripted stream: it asks after a finish of its own window,
also one that happened while it was offline, never for an old one at start, one rating per
ticket, and a 差评 needs a reason before anything is sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.pages_scripted import Scripted, deliver, open_scripted

pytestmark = [pytest.mark.browser]


def snapshot(seq: int, last_finished: dict[str, Any] | None, current: dict[str, Any] | None = None) -> dict[str, Any]:
    window = {"number": 1, "name": "综合窗口1", "zone": None, "state": "serving" if current else "idle",
              "staff_name": "王小明", "current": current, "last_finished": last_finished}
    return {"type": "snapshot", "seq": seq, "data": {
        "seq": seq, "hall": {"code": "demo", "name": "示例区政务服务中心"}, "waiting": {}, "waiting_by_zone": {},
        "categories": [], "windows": [window, {**window, "number": 2, "last_finished": None}], "latest_calls": []}}


def finished(seq: int, ticket: int, number: str, window: int) -> dict[str, Any]:
    return {"seq": seq, "type": "ticket.finished", "at": "2026-11-21T10:00:00+08:00", "hall": "demo",
            "data": {"id": ticket, "number": number, "category": "A", "zone": "service", "window": window}}


@pytest.fixture
def pad(browser: Browser) -> Iterator[tuple[Page, Scripted]]:
    scripted = Scripted("pad.html", "pad", {"hall": "demo", "window": 1, "rate_seconds": 90}, window=1)
    scripted.answer("POST", "/tickets/5/rating", 201, {"ok": True})
    scripted.answer("POST", "/tickets/6/rating", 409, {"error": "already_rated", "message": "已评价"})
    page = open_scripted(browser, scripted, "/pad/demo/windows/1?token=pad-token", 1280, 800)
    yield page, scripted
    page.context.close()


def ratings(scripted: Scripted) -> list[tuple[str, Any]]:
    return [(path, body) for method, path, body in scripted.requests if path.endswith("/rating")]


def test_pad_asks_after_its_windows_finish_only(pad: tuple[Page, Scripted]) -> None:
    page, scripted = pad
    deliver(page, snapshot(1, {"id": 4, "number": "A004"}))  # finished before the pad started
    expect(page.locator("#p-staff")).to_have_text("工作人员：王小明")
    expect(page.locator("#pad-idle")).to_be_visible()
    deliver(page, finished(2, 9, "A009", 2))  # another window's
    page.wait_for_timeout(100)
    expect(page.locator("#pad-idle")).to_be_visible()
    # Offline meanwhile; the server answers the reconnect with a snapshot: A005 was finished.
    deliver(page, snapshot(10, {"id": 5, "number": "A005"}))
    expect(page.locator("#pad-rate")).to_be_visible()
    expect(page.locator("#p-ticket")).to_have_text("（A005号）")
    page.click("button.lv[data-level='1']")
    page.click("#p-submit")
    expect(page.locator("#p-reason-error")).to_be_visible()
    assert ratings(scripted) == []  # refused on the pad: nothing sent
    page.click("button.reason[data-reason='办事效率低']")
    page.click("#p-submit")
    expect(page.locator("#pad-thanks")).to_be_visible()
    assert ratings(scripted) == [("/api/halls/demo/tickets/5/rating",
                                  {"level": 1, "reasons": ["办事效率低"], "channel": "pad", "window": 1})]
    deliver(page, snapshot(11, {"id": 5, "number": "A005"}))  # the same finish again: not asked twice
    page.wait_for_timeout(100)
    assert page.evaluate("document.body.dataset.view") in ("thanks", "idle")


def test_one_rating_per_ticket(pad: tuple[Page, Scripted]) -> None:
    page, scripted = pad
    deliver(page, snapshot(1, None))
    deliver(page, finished(2, 6, "A006", 1))
    expect(page.locator("#pad-rate")).to_be_visible()
    page.click("button.lv[data-level='5']")  # 非常满意: saved at once, no reason asked
    expect(page.locator("#pad-thanks")).to_be_visible()  # 409: rated already (e.g. from the phone)
    assert [body["level"] for _, body in ratings(scripted)] == [5]
    deliver(page, finished(3, 6, "A006", 1))  # a replayed finish of a rated ticket
    page.wait_for_timeout(100)
    expect(page.locator("#pad-rate")).to_be_hidden()
