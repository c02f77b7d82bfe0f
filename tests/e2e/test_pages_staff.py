"""The staff console in headless Chromium: out-of-order call, 办件编号, transfer, suspend and
resume, pause with a reason (seen on the hall and window screens), no-show — by keyboard."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.pages_harness import HALL, PASSWORD, PageServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LIVE = 5_000


def _open(browser: Browser, url: str, width: int, height: int) -> Page:
    page = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN").new_page()
    page.goto(url)
    return page


def test_console_actions_by_keyboard(server: PageServer, browser: Browser, screenshot_dir: str | None) -> None:
    for category in ("A", "A", "B"):
        r = server.api("POST", f"/api/halls/{HALL}/tickets", server.tokens["kiosk"],
                       {"category": category, "channel": "kiosk"})
        assert r.status_code == 201, r.text
    screen = _open(browser, f"{server.base}/screen/{HALL}?token={server.tokens['screen']}", 1920, 1080)
    window = _open(browser, f"{server.base}/screen/{HALL}/windows/2?token={server.tokens['screen']}", 1280, 720)
    staff = _open(browser, f"{server.base}/staff?hall={HALL}&window=2", 1366, 768)
    staff.fill("#login-user", "clerk")
    staff.fill("#login-pass", PASSWORD)
    staff.click("#login-form button[type=submit]")
    expect(staff.locator("#pick-window option[value='2']")).to_have_count(1, timeout=LIVE)
    staff.click("#pick-form button[type=submit]")
    rows = staff.locator("#s-waiting tr")
    expect(rows).to_have_count(3, timeout=LIVE)
    expect(rows.first.locator("td.num")).to_have_text("A001")
    if screenshot_dir:
        staff.screenshot(path=str(Path(screenshot_dir) / "staff-console-waiting.png"))

    # Out of order: B001 although A001 has waited longer.
    staff.locator("#s-waiting tr", has_text="B001").locator("button").click()
    expect(staff.locator("#s-number")).to_have_text("B001", timeout=LIVE)
    expect(window.locator("#win-status")).to_contain_text("B001", timeout=LIVE)
    expect(staff.locator("#s-waiting tr")).to_have_count(2, timeout=LIVE)

    # 办件编号 for the current ticket.
    staff.fill("#link-case", "330102-2026-000123")
    staff.fill("#link-matter", "11330100MB0001")
    staff.click("#a-link")
    expect(staff.locator("#link-note")).to_contain_text("B001 已关联 330102-2026-000123", timeout=LIVE)

    # Transfer B001 to category A: it leaves the window and waits again.
    staff.locator("body").click(position={"x": 1300, "y": 700})  # keys go to the page, not an input
    staff.keyboard.press("t")
    staff.select_option("#t-category", "A")
    staff.click("#d-transfer button[value=ok]")
    expect(staff.locator("#s-number")).to_have_text("—", timeout=LIVE)
    expect(staff.locator("#s-waiting tr")).to_have_count(3, timeout=LIVE)

    # Call next, then suspend (容缺受理) and resume it from the list.
    staff.keyboard.press("c")
    expect(staff.locator("#s-number")).to_have_text("A001", timeout=LIVE)
    staff.keyboard.press("h")
    staff.click("#d-suspend button[value=ok]")
    suspended = staff.locator("#s-suspended tr")
    expect(suspended).to_have_count(1, timeout=LIVE)
    expect(suspended).to_contain_text("A001")
    expect(staff.locator("#s-number")).to_have_text("—", timeout=LIVE)
    suspended.locator("button").click()
    expect(staff.locator("#s-suspended tr")).to_have_count(0, timeout=LIVE)

    # Pause with a reason: the screens say so; resume with the same key.
    staff.locator("body").click(position={"x": 1300, "y": 700})
    if staff.locator("#s-number").inner_text() != "—":
        staff.keyboard.press("f")  # a resumed ticket may come back to this window: finish it
        expect(staff.locator("#s-number")).to_have_text("—", timeout=LIVE)
    staff.keyboard.press("p")
    staff.select_option("#p-reason", "午休")
    staff.click("#d-pause button[value=ok]")
    expect(staff.locator("#s-state")).to_have_text("暂停服务：午休", timeout=LIVE)
    expect(screen.locator("#paused")).to_contain_text("2号窗口 午休", timeout=LIVE)
    expect(window.locator("#win-status")).to_have_text("暂停服务午休", timeout=LIVE)  # and its reason
    expect(staff.locator("#a-call")).to_be_disabled()
    if screenshot_dir:
        window.screenshot(path=str(Path(screenshot_dir) / "window-screen-paused.png"))
        screen.screenshot(path=str(Path(screenshot_dir) / "hall-screen-paused-window.png"))
    staff.keyboard.press("p")
    expect(staff.locator("#s-state")).to_have_text("空闲", timeout=LIVE)
    expect(screen.locator("#paused")).to_have_text("无", timeout=LIVE)

    # Call and mark a no-show.
    staff.keyboard.press("c")
    expect(staff.locator("#s-number")).not_to_have_text("—", timeout=LIVE)
    called = staff.inner_text("#s-number")
    staff.keyboard.press("n")
    expect(staff.locator("#s-number")).to_have_text("—", timeout=LIVE)
    ticket = server.api("GET", f"/api/halls/{HALL}/snapshot", server.tokens["screen"]).json()
    assert all((w["current"] or {}).get("number") != called for w in ticket["windows"])
    expect(staff.locator("#s-today")).to_contain_text("过号 1", timeout=LIVE)

    # The person comes back: re-check in from the 过号 list; the ticket waits again.
    gone = staff.locator("#s-noshow tr", has_text=called)
    expect(gone).to_have_count(1, timeout=LIVE)
    waiting_before = staff.locator("#s-waiting tr").count()
    gone.locator("button").click()
    expect(staff.locator("#s-noshow tr")).to_have_count(0, timeout=LIVE)
    expect(staff.locator("#s-waiting tr")).to_have_count(waiting_before + 1, timeout=LIVE)
    expect(staff.locator("#s-waiting")).to_contain_text(called)

    # A reload brings the console back to the window this browser signed in at …
    staff.reload()
    expect(staff.locator("#s-console")).to_be_visible(timeout=LIVE)
    expect(staff.locator("#s-where")).to_contain_text("2号窗口", timeout=LIVE)
    # … and after signing out, the clerk picks a window again.
    staff.click("#s-signout")
    expect(staff.locator("#s-pick")).to_be_visible(timeout=LIVE)
    expect(window.locator("#win-staff")).to_have_text("", timeout=LIVE)
    staff.reload()
    expect(staff.locator("#s-pick")).to_be_visible(timeout=LIVE)
