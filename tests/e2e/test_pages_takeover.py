"""Issue 12 item 6 in the staff console (window 8): signing in at a window another clerk holds asks first;
declining changes nothing, confirming takes the window over (the other is signed out)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.e2e.pages_harness import HALL, PASSWORD, PageServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LIVE = 5_000


def _login_and_pick(browser: Browser, server: PageServer, user: str) -> Page:
    page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN").new_page()
    page.goto(f"{server.base}/staff?hall={HALL}&window=8")
    page.fill("#login-user", user)
    page.fill("#login-pass", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#pick-window option[value='8']")).to_have_count(1, timeout=LIVE)
    return page


def _staff_at_8(server: PageServer) -> str | None:
    snap = server.api("GET", f"/api/halls/{HALL}/snapshot", server.tokens["screen"]).json()
    return next(w["staff_name"] for w in snap["windows"] if w["number"] == 8)


def test_taking_over_a_window_is_confirmed(server: PageServer, browser: Browser) -> None:
    first = _login_and_pick(browser, server, "clerk")
    first.click("#pick-form button[type=submit]")
    expect(first.locator("#s-where")).to_contain_text("8号窗口", timeout=LIVE)
    assert _staff_at_8(server) == "王小明"

    second = _login_and_pick(browser, server, "boss")
    asked: list[str] = []

    def decline(d: Dialog) -> None:
        asked.append(d.type)
        d.dismiss()

    second.on("dialog", decline)
    second.click("#pick-form button[type=submit]")
    second.wait_for_function("document.body.dataset.view === 'pick'")
    second.wait_for_timeout(300)
    assert asked[:1] == ["confirm"]  # then the refusal's alert
    assert _staff_at_8(server) == "王小明"  # declined: nothing changed
    second.remove_listener("dialog", decline)

    second.on("dialog", lambda d: d.accept())
    second.click("#pick-form button[type=submit]")
    expect(second.locator("#s-where")).to_contain_text("8号窗口", timeout=LIVE)
    assert _staff_at_8(server) == "李主任"
