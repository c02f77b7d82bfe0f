"""The mobile progress page on a phone-sized screen with a scripted server: waiting, called,
过号 with what to do next; live refresh on hall events; nothing wider than the phone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.pages_scripted import FAKES, ORIGIN, Scripted, deliver

pytestmark = [pytest.mark.browser]


def progress(status: str, ahead: int = 0, window: int | None = None) -> dict[str, Any]:
    return {"hall": {"code": "demo", "name": "示例区政务服务中心"}, "id": 7, "number": "B012", "category": "B",
            "status": status, "window": window, "ahead": ahead,
            "eta": {"p50_minutes": 8.2, "p90_minutes": 19.6} if status == "waiting" else None}


@pytest.fixture
def phone(browser: Browser) -> Iterator[tuple[Page, Scripted]]:
    scripted = Scripted("progress.html", "progress", {"token": "tok-7", "hall": "demo"})
    scripted.answer("GET", "/api/progress/tok-7", 200, progress("waiting", ahead=4))
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.add_init_script(FAKES)
    page.route(f"{ORIGIN}/**", scripted.serve)
    page.goto(f"{ORIGIN}/t/tok-7")
    yield page, scripted
    context.close()


def _fits(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_progress_follows_the_ticket_live(phone: tuple[Page, Scripted], screenshot_dir: str | None) -> None:
    page, scripted = phone
    expect(page.locator("#m-number")).to_have_text("B012")
    expect(page.locator("#m-ahead")).to_have_text("4")
    expect(page.locator("#m-eta")).to_have_text("8–20 分钟")
    assert _fits(page)
    page.wait_for_function("sockets.length === 1")
    assert page.evaluate("sockets[0].url").endswith("/ws/halls/demo")  # the public stream, no token
    deliver(page, {"type": "snapshot", "seq": 3, "data": {"seq": 3, "windows": [], "categories": []}})

    scripted.answer("GET", "/api/progress/tok-7", 200, progress("called", window=5))
    deliver(page, {"seq": 4, "type": "ticket.called", "at": "2026-11-21T10:00:00+08:00", "hall": "demo",
                   "data": {"id": 7, "number": "B012", "category": "B", "zone": "s", "window": 5}})
    expect(page.locator("#m-status")).to_have_text("请到 5 号窗口办理")
    expect(page.locator("#m-lines")).to_be_hidden()

    scripted.answer("GET", "/api/progress/tok-7", 200, progress("no_show"))
    deliver(page, {"seq": 5, "type": "ticket.no_show", "at": "2026-11-21T10:03:00+08:00", "hall": "demo",
                   "data": {"id": 7, "number": "B012", "category": "B", "zone": "s", "window": 5}})
    expect(page.locator("#m-status")).to_have_text("已过号")
    expect(page.locator("#m-noshow")).to_be_visible()
    expect(page.locator("#m-noshow")).to_contain_text("重新签到")
    assert _fits(page)
    if screenshot_dir:
        page.screenshot(path=f"{screenshot_dir}/mobile-no-show.png")
    gets = [p for m, p, _ in scripted.requests if m == "GET" and p == "/api/progress/tok-7"]
    assert len(gets) >= 3  # fetched again after each burst of events


def test_unknown_token_says_so(browser: Browser) -> None:
    scripted = Scripted("progress.html", "progress", {"token": "nope", "hall": None})
    scripted.answer("GET", "/api/progress/nope", 404, {"error": "unknown_ticket", "message": "no ticket"})
    page = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
    page.add_init_script(FAKES)
    page.route(f"{ORIGIN}/**", scripted.serve)
    page.goto(f"{ORIGIN}/t/nope")
    expect(page.locator("#m-status")).to_have_text("未找到该号，请核对二维码或重新取号")
    expect(page.locator("#m-lines")).to_be_hidden()  # no "前面还有 - 人" for a ticket that is not there
    page.context.close()
