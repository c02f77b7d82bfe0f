"""Screens show windows as they are (issue 13 items 7 and 9), in Chromium against the real
server: window screens of unstaffed or signed-out windows say 未开放, a paused one 暂停服务 and
its reason; the called number is larger than the window's label; the hall screen marks a recall
重呼 on the ticket's one row and takes a transferred ticket off its old window."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.pages_harness import HALL, PASSWORD, PageServer

pytestmark = [pytest.mark.browser]

LIVE = 5_000
API = f"/api/halls/{HALL}"


def _open(browser: Browser, url: str, width: int, height: int) -> Page:
    page = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN").new_page()
    page.goto(url)
    return page


def _ok(server: PageServer, path: str, token: str, body: dict | None = None) -> dict:
    r = server.api("POST", path, token, body or {})
    assert r.status_code < 300, r.text
    return r.json()


def _font_px(page: Page, selector: str) -> float:
    return float(page.eval_on_selector(selector, "e => parseFloat(getComputedStyle(e).fontSize)"))


def _shot(page: Page, shots: str | None, name: str) -> None:
    if shots:
        page.screenshot(path=str(Path(shots) / f"{name}.png"))


def test_window_screens_show_closed_paused_and_called(server: PageServer, browser: Browser, screenshot_dir: str | None) -> None:
    clerk = server.login("clerk")
    screen_token = server.tokens["screen"]
    unstaffed = _open(browser, f"{server.base}/screen/{HALL}/windows/8?token={screen_token}", 1280, 720)
    window = _open(browser, f"{server.base}/screen/{HALL}/windows/1?token={screen_token}", 1280, 720)
    expect(unstaffed.locator("#win-status")).to_have_text("未开放", timeout=LIVE)
    expect(window.locator("#win-status")).to_have_text("未开放", timeout=LIVE)
    _shot(unstaffed, screenshot_dir, "window-screen-closed")

    _ok(server, f"{API}/windows/1/sign-in", clerk)
    expect(window.locator("#win-status")).to_have_text("欢迎光临", timeout=LIVE)
    _ok(server, f"{API}/windows/1/pause", clerk, {"reason": "午休"})
    expect(window.locator("#win-status")).to_have_text("暂停服务午休", timeout=LIVE)
    expect(window.locator("#win-status .reason")).to_have_text("午休")
    _shot(window, screenshot_dir, "window-screen-paused")
    _ok(server, f"{API}/windows/1/resume", clerk)

    ticket = _ok(server, f"{API}/tickets", server.tokens["kiosk"], {"category": "A", "channel": "kiosk"})
    _ok(server, f"{API}/windows/1/call", clerk)
    expect(window.locator("#win-status .ticket")).to_have_text(ticket["number"], timeout=LIVE)
    assert _font_px(window, "#win-status .ticket") > _font_px(window, ".win-number")
    _shot(window, screenshot_dir, "window-screen-called")

    _ok(server, f"{API}/windows/1/start", clerk)
    _ok(server, f"{API}/windows/1/finish", clerk)
    _ok(server, f"{API}/windows/1/sign-out", clerk)
    expect(window.locator("#win-status")).to_have_text("未开放", timeout=LIVE)
    expect(window.locator("#win-staff")).to_have_text("")
    expect(unstaffed.locator("#win-status")).to_have_text("未开放")


def _shown(page: Page, number: str) -> int:
    """How often the hall screen shows `number`: in the big panel and in the table."""
    return int(page.evaluate(
        """n => (document.getElementById('newest-number').textContent === n &&
                 !document.getElementById('newest').classList.contains('hidden') ? 1 : 0) +
               [...document.querySelectorAll('#recent td.number')]
                 .filter(td => td.firstChild && td.firstChild.textContent === n).length""",
        number,
    ))


def test_hall_screen_marks_a_recall_in_place_and_moves_a_transfer(server: PageServer, browser: Browser, screenshot_dir: str | None) -> None:
    clerk = server.login("clerk")
    screen = _open(browser, f"{server.base}/screen/{HALL}?token={server.tokens['screen']}", 1920, 1080)
    kiosk = server.tokens["kiosk"]
    first = _ok(server, f"{API}/tickets", kiosk, {"category": "B", "channel": "kiosk"})
    second = _ok(server, f"{API}/tickets", kiosk, {"category": "B", "channel": "kiosk"})
    _ok(server, f"{API}/windows/1/sign-in", clerk)
    _ok(server, f"{API}/windows/1/call", clerk, {"ticket": first["id"]})
    _ok(server, f"{API}/windows/2/call", clerk, {"ticket": second["id"]})
    expect(screen.locator("#newest-number")).to_have_text(second["number"], timeout=LIVE)
    _ok(server, f"{API}/windows/1/recall", clerk)

    # The recalled ticket is shown once, marked 重呼 where it is shown.
    screen.wait_for_function(
        """n => [...document.querySelectorAll('.recall-mark')].some(m => !m.classList.contains('hidden')
                 && m.offsetParent !== null)""", arg=first["number"], timeout=LIVE)
    assert _shown(screen, first["number"]) == 1 and _shown(screen, second["number"]) == 1
    _shot(screen, screenshot_dir, "hall-screen-recall")

    # A transfer takes the ticket off its old window: window 2's call leaves the screen.
    _ok(server, f"{API}/tickets/{second['id']}/transfer", clerk, {"category": "A"})
    screen.wait_for_function("n => document.body.innerText.indexOf(n) < 0", arg=second["number"], timeout=LIVE)
    assert _shown(screen, first["number"]) == 1


def test_manager_view_reads_unstaffed_windows_as_not_on_duty(server: PageServer, browser: Browser, screenshot_dir: str | None) -> None:
    manager = _open(browser, f"{server.base}/manage/{HALL}", 1920, 1080)
    manager.fill("#g-user", "boss")
    manager.fill("#g-pass", PASSWORD)
    manager.click("#g-login-form button[type=submit]")
    # Window 8: nobody has signed in there in this module — 未上岗, never 空闲.
    expect(manager.locator("tr[data-window='8']")).to_contain_text("未上岗", timeout=LIVE)
    expect(manager.locator("tr[data-window='8']")).not_to_contain_text("空闲")
    _shot(manager, screenshot_dir, "manager-unstaffed")


def test_the_tide_page_makes_one_hall_write(server: PageServer, browser: Browser) -> None:
    # The 潮汐 form sends its idempotency key; the change is stored as one window.retargeted event.
    boss = server.login("boss")
    page = _open(browser, f"{server.base}/ops/{HALL}/live?token={boss}", 1920, 1080)
    row = page.locator("tr[data-window='8']")
    row.locator("input[value='A']").check()
    with page.expect_navigation():
        row.locator("button[type=submit]").click()
    expect(page.locator("tr[data-window='8'] input[value='A']")).to_be_checked(timeout=LIVE)
    events = server.api("GET", f"{API}/events?since=0", boss).json()["events"]
    tide = [e for e in events if e["type"] == "window.retargeted"]
    assert len(tide) == 1 and "A" in tide[0]["data"]["serves"] and tide[0]["data"]["window"] == 8
