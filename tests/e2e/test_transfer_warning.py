"""A transfer to a window nobody staffs warns the clerk on the console (the answer's warning)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.pages_harness import HALL, PASSWORD, PageServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LIVE = 8_000


def test_transfer_to_an_unstaffed_window_is_told_to_the_clerk(server: PageServer, browser: Browser) -> None:
    r = server.api("POST", f"/api/halls/{HALL}/tickets", server.tokens["kiosk"], {"category": "A", "channel": "kiosk"})
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    staff = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN").new_page()
    try:
        staff.goto(f"{server.base}/staff?hall={HALL}&window=1")
        staff.fill("#login-user", "clerk")
        staff.fill("#login-pass", PASSWORD)
        staff.click("#login-form button[type=submit]")
        expect(staff.locator("#pick-window option[value='1']")).to_have_count(1, timeout=LIVE)
        staff.click("#pick-form button[type=submit]")
        staff.locator("#s-waiting tr", has_text=number).locator("button").click()
        expect(staff.locator("#s-number")).to_have_text(number, timeout=LIVE)
        staff.click("#a-transfer")
        staff.select_option("#t-window", "2")  # window 2: nobody signed in
        staff.click("#d-transfer button[value=ok]")
        expect(staff.locator("body")).to_contain_text(f"已转移 {number}，但目前没有开放的窗口办理它", timeout=LIVE)
    finally:
        staff.context.close()
