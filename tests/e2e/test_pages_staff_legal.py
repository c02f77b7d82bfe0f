"""The staff console offers only what the server accepts, keeps an error until it is read, and
says it in Chinese (issue 13, item 4 and item 3's console and login errors)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.audit import SIZES, audit, latin_words
from tests.e2e.pages_harness import HALL, PASSWORD, PageServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LIVE = 5_000


def _console(browser: Browser, server: PageServer, window: int) -> Page:
    page = browser.new_context(viewport=SIZES["console"], locale="zh-CN").new_page()
    page.goto(f"{server.base}/staff?hall={HALL}&window={window}")
    page.fill("#login-user", "clerk")
    page.fill("#login-pass", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator(f"#pick-window option[value='{window}']")).to_have_count(1, timeout=LIVE)
    page.click("#pick-form button[type=submit]")
    expect(page.locator("#s-console")).to_be_visible(timeout=LIVE)
    return page


def test_a_wrong_password_is_said_in_chinese_on_the_staff_and_manager_logins(server: PageServer, browser: Browser):
    for name, url, user, password, submit, error in (
        ("staff", f"{server.base}/staff", "#login-user", "#login-pass", "#login-form button[type=submit]", "#login-error"),
        ("manager", f"{server.base}/manage/{HALL}", "#g-user", "#g-pass", "#g-login-form button[type=submit]",
         "#g-login-error"),
        ("ops", f"{server.base}/ops/{HALL}/stats", "#user", "#pass", "#login-btn", "#login-error"),
    ):
        page = browser.new_context(viewport=SIZES["console"], locale="zh-CN").new_page()
        page.goto(url)
        page.fill(user, "clerk")
        page.fill(password, "wrong-password-1")
        page.click(submit)
        expect(page.locator(error)).to_have_text("用户名或密码错误", timeout=LIVE)
        audit(page, f"login-error-{name}")
        page.context.close()


def test_the_console_enables_exactly_what_the_window_allows(server: PageServer, browser: Browser):
    for _ in range(2):
        r = server.api("POST", f"/api/halls/{HALL}/tickets", server.tokens["kiosk"], {"category": "A", "channel": "kiosk"})
        assert r.status_code == 201, r.text
    page = _console(browser, server, 1)
    expect(page.locator("body")).to_have_attribute("data-allowed", "call pause", timeout=LIVE)
    expect(page.locator("#a-finish")).to_be_disabled()

    page.click("#a-call")
    expect(page.locator("#s-number")).not_to_have_text("—", timeout=LIVE)
    # Called, not started: 开始办理 / 重呼 / 过号 yes; 办结 and 叫号 would be refused (409).
    expect(page.locator("body")).to_have_attribute("data-allowed", "no-show pause recall start suspend transfer",
                                                   timeout=LIVE)
    expect(page.locator("#a-finish")).to_be_disabled()
    expect(page.locator("#a-call")).to_be_disabled()
    expect(page.locator("#a-start")).to_be_enabled()
    audit(page, "staff-console-called", axe=True)

    page.click("#a-start")
    expect(page.locator("#s-status")).to_have_text("办理中", timeout=LIVE)
    expect(page.locator("#a-finish")).to_be_enabled(timeout=LIVE)
    expect(page.locator("#a-start")).to_be_disabled()
    expect(page.locator("#a-call")).to_be_enabled()  # calling finishes the ticket being served first
    page.click("#a-finish")
    expect(page.locator("#s-number")).to_have_text("—", timeout=LIVE)
    expect(page.locator("#a-finish")).to_be_disabled(timeout=LIVE)
    page.context.close()


def test_a_refusal_stays_visible_in_chinese_until_read(server: PageServer, browser: Browser):
    r = server.api("POST", f"/api/halls/{HALL}/tickets", server.tokens["kiosk"], {"category": "B", "channel": "kiosk"})
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    page = _console(browser, server, 2)
    row = page.locator("#s-waiting tr", has_text=number)
    expect(row).to_have_count(1, timeout=LIVE)
    button = row.locator("button").element_handle()
    # Meanwhile a colleague's window takes that very ticket: this console's row is out of date.
    clerk = server.login("boss")
    assert server.api("POST", f"/api/halls/{HALL}/windows/1/call", clerk, {"ticket": r.json()["id"]}).status_code == 200
    button.evaluate("b => b.click()")
    error = page.locator("#s-error")
    expect(error).to_be_visible(timeout=LIVE)
    text = page.inner_text("#s-error-text")
    assert text == "该号当前的状态不能进行此操作", text
    assert not latin_words([text])
    audit(page, "staff-console-error")
    # The next action does not wipe it: only 知道了 does.
    page.click("#a-call")
    page.wait_for_timeout(500)
    expect(error).to_be_visible()
    page.click("#s-error-ok")
    expect(error).to_be_hidden()
    # 叫号 took the earlier test's waiting ticket: serve it, then call one out of order, which
    # says why in words, not the policy's code (staff_pick).
    if page.inner_text("#s-number") != "—":
        expect(page.locator("#a-start")).to_be_enabled(timeout=LIVE)
        page.click("#a-start")
        expect(page.locator("#a-finish")).to_be_enabled(timeout=LIVE)
        page.click("#a-finish")
        expect(page.locator("#s-number")).to_have_text("—", timeout=LIVE)
    r = server.api("POST", f"/api/halls/{HALL}/tickets", server.tokens["kiosk"], {"category": "A", "channel": "kiosk"})
    picked = page.locator("#s-waiting tr", has_text=r.json()["number"])
    expect(picked).to_have_count(1, timeout=LIVE)
    picked.locator("button").click()
    expect(page.locator("#s-reason")).to_have_text("叫号依据：工作人员指定叫号", timeout=LIVE)
    audit(page, "staff-console-picked")
    page.context.close()
