"""Issue 12 item 7 in headless Chromium: after a login no page holds its token in an address, a
link or storage (it is an HttpOnly cookie); a device page given ?token= once keeps it and drops
it from the address; the server's access log holds no token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.pages_harness import HALL, PASSWORD, PageServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LIVE = 5_000


@pytest.fixture(scope="module")
def logged_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PageServer]:
    srv = PageServer(tmp_path_factory.mktemp("no-token-server"), log_level="info")  # with the access log
    srv.start()
    srv.setup_accounts()
    yield srv
    srv.stop()


def _context(browser: Browser) -> BrowserContext:
    return browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")


def _no_token_anywhere(page: Page, context: BrowserContext) -> str:
    """Asserts the page shows no token; returns the session cookie's value."""
    assert "token=" not in page.url
    hrefs = page.eval_on_selector_all("a[href], form[action]", "els => els.map(e => e.href || e.action || '')")
    assert all("token=" not in h for h in hrefs), hrefs
    (session,) = [c for c in context.cookies() if c["name"] == "hall_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert session["value"] not in page.evaluate("document.cookie")
    stored = page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
    assert session["value"] not in stored and session["value"] not in page.content()
    return str(session["value"])


def test_staff_manager_and_ops_pages_hold_no_token(logged_server: PageServer, browser: Browser) -> None:
    server = logged_server
    r = server.api("POST", f"/api/halls/{HALL}/tickets", server.tokens["kiosk"], {"category": "A", "channel": "kiosk"})
    assert r.status_code == 201, r.text
    seen: list[str] = []

    ctx = _context(browser)
    staff = ctx.new_page()
    staff.on("request", lambda req: seen.append(req.url))
    staff.on("websocket", lambda ws: seen.append(ws.url))
    staff.goto(f"{server.base}/staff?hall={HALL}&window=2")
    staff.fill("#login-user", "clerk")
    staff.fill("#login-pass", PASSWORD)
    staff.click("#login-form button[type=submit]")
    expect(staff.locator("#pick-window option[value='2']")).to_have_count(1, timeout=LIVE)
    staff.click("#pick-form button[type=submit]")  # a write: sign-in, with the CSRF header
    expect(staff.locator("#s-waiting tr")).to_have_count(1, timeout=LIVE)
    staff.keyboard.press("Escape")
    staff_session = _no_token_anywhere(staff, ctx)
    staff.reload()  # still logged in (the cookie), still at the window
    expect(staff.locator("#s-waiting tr")).to_have_count(1, timeout=LIVE)
    ctx.close()

    ctx = _context(browser)
    manage = ctx.new_page()
    manage.on("request", lambda req: seen.append(req.url))
    manage.on("websocket", lambda ws: seen.append(ws.url))
    manage.goto(f"{server.base}/manage/{HALL}")
    manage.fill("#g-user", "boss")
    manage.fill("#g-pass", PASSWORD)
    manage.click("#g-login-form button[type=submit]")
    expect(manage.locator("#g-live")).to_be_visible(timeout=LIVE)
    boss_session = _no_token_anywhere(manage, ctx)
    ops = ctx.new_page()
    ops.on("request", lambda req: seen.append(req.url))
    ops.goto(f"{server.base}/ops/{HALL}/cases")  # the same browser's cookie: no second login
    expect(ops.locator("header.ops")).to_be_visible(timeout=LIVE)
    expect(ops.locator("#login")).to_have_count(0)
    ops.goto(f"{server.base}/ops/{HALL}/stats")
    _no_token_anywhere(ops, ctx)
    ctx.close()

    assert not [u for u in seen if "token=" in u or staff_session in u or boss_session in u], seen
    log = (server.data_dir / "server.log").read_text(encoding="utf-8", errors="replace")
    assert "GET /staff" in log  # the access log is on
    assert staff_session not in log and boss_session not in log


def test_a_device_page_keeps_its_token_and_drops_it_from_the_address(logged_server: PageServer, browser: Browser) -> None:
    server = logged_server
    token = server.tokens["kiosk"]
    ctx = _context(browser)
    kiosk = ctx.new_page()
    sockets: list[str] = []
    kiosk.on("websocket", lambda ws: sockets.append(ws.url))
    kiosk.goto(f"{server.base}/kiosk/{HALL}?token={token}")
    kiosk.wait_for_function("!location.search.includes('token=')", timeout=LIVE)
    assert kiosk.evaluate(f"localStorage.getItem('hall.token.kiosk.{HALL}')") == token
    assert kiosk.evaluate("history.length") >= 1 and token not in kiosk.url
    kiosk.wait_for_timeout(500)
    assert sockets and all(token not in u for u in sockets)
    ctx.close()
    log = (server.data_dir / "server.log").read_text(encoding="utf-8", errors="replace")
    assert f"/kiosk/{HALL}?token=***" in log and token not in log
