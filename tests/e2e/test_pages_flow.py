"""The pages in real headless Chromium against a real server: issue 5's Proof, end to end.

Kiosk → hall screen counts the ticket; staff console calls it → hall and window screens show it
and the hall screen asks for its audio; finish → the pad asks; a 差评 without a reason is refused,
with one it is stored; the mobile page follows along; the server restarts → every open page
recovers by itself (no reload) and shows the current state. Screenshots of every page go to
$HALL_SCREENSHOT_DIR when it is set.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from hall.store.database import Database
from hall.store.models import Rating
from tests.e2e.pages_harness import HALL, PASSWORD, PageServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LIVE = 5_000  # ms for a live update; generous because two cores are shared with other suites
RECOVER = 25_000  # ms to come back after a restart (back-off tops out at 10 s)


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--autoplay-policy=no-user-gesture-required"],
        )
        yield b
        b.close()


class Pages:
    """Opens pages at their real size and records JS errors and requests."""

    def __init__(self, browser: Browser, server: PageServer, shots: str | None) -> None:
        self.browser = browser
        self.server = server
        self.shots = shots
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.requests_by_page: dict[str, list[str]] = {}

    def open(self, path: str, width: int, height: int, *, mobile: bool = False) -> Page:
        context = self.browser.new_context(viewport={"width": width, "height": height},
                                           is_mobile=mobile, has_touch=mobile, locale="zh-CN")
        page = context.new_page()
        page.on("pageerror", lambda e: self.errors.append(f"{path}: {e}"))
        mine = self.requests_by_page.setdefault(path, [])
        page.on("request", lambda r: (self.requests.append(r.url), mine.append(r.url)))
        page.goto(self.server.base + path)
        page.evaluate("window.__loaded = Math.random()")  # gone if the page ever reloads
        return page

    def shot(self, page: Page, name: str) -> None:
        if self.shots:
            page.screenshot(path=str(Path(self.shots) / f"{name}.png"))


def _progress_token(kiosk: Page) -> str:
    src = kiosk.get_attribute("#t-qr", "src") or ""
    url = unquote(parse_qs(urlparse(src).query)["data"][0])
    return url.rstrip("/").rsplit("/", 1)[-1]


def test_ticket_flow_across_every_page_and_a_server_restart(
    server: PageServer, browser: Browser, screenshot_dir: str | None
) -> None:
    pages = Pages(browser, server, screenshot_dir)
    tokens = server.tokens
    kiosk = pages.open(f"/kiosk/{HALL}?token={tokens['kiosk']}&printer=none", 1920, 1080)
    screen = pages.open(f"/screen/{HALL}?token={tokens['screen']}", 1920, 1080)
    zone_screen = pages.open(f"/screen/{HALL}?zone=police&token={tokens['screen']}", 1920, 1080)
    window = pages.open(f"/screen/{HALL}/windows/1?token={tokens['screen']}", 1280, 720)
    pad = pages.open(f"/pad/{HALL}/windows/1?token={tokens['pad']}", 1280, 800)
    staff = pages.open(f"/staff?hall={HALL}", 1366, 768)
    manager = pages.open(f"/manage/{HALL}", 1920, 1080)

    # The device pages kept their tokens: a reload without ?token= still works.
    assert kiosk.evaluate(f"localStorage.getItem('hall.token.kiosk.{HALL}')") == tokens["kiosk"]
    assert "token=" not in kiosk.url  # and took it out of the address bar

    # --- kiosk: take a ticket; the hall screen counts it -----------------------------------
    expect(kiosk.locator("button.zone[data-zone=service]")).to_contain_text("综合服务区", timeout=LIVE)
    pages.shot(kiosk, "kiosk-home")
    kiosk.click("button.zone[data-zone=service]")
    kiosk.click("button.category[data-category=A]")
    expect(kiosk.locator("#t-number")).to_have_text("A001", timeout=LIVE)
    expect(kiosk.locator("#t-ahead")).to_have_text("0")
    kiosk.wait_for_function("document.getElementById('t-qr').complete")
    pages.shot(kiosk, "kiosk-ticket")
    expect(screen.locator("tr[data-category=A] .count")).to_have_text("1 人", timeout=LIVE)
    expect(zone_screen.locator("tr[data-category=A]")).to_have_count(0)  # not this zone's
    token = _progress_token(kiosk)
    mobile = pages.open(f"/t/{token}", 390, 844, mobile=True)
    expect(mobile.locator("#m-number")).to_have_text("A001", timeout=LIVE)
    expect(mobile.locator("#m-status")).to_have_attribute("data-status", "waiting")
    pages.shot(mobile, "mobile-waiting")

    # --- staff console: log in, sign in at window 1, call -------------------------------------
    pages.shot(staff, "staff-login")
    staff.fill("#login-user", "clerk")
    staff.fill("#login-pass", PASSWORD)
    staff.click("#login-form button[type=submit]")
    expect(staff.locator("#pick-window option[value='1']")).to_have_count(1, timeout=LIVE)
    staff.select_option("#pick-window", "1")
    staff.click("#pick-form button[type=submit]")
    expect(staff.locator("#s-waiting tr")).to_have_count(1, timeout=LIVE)
    expect(window.locator("#win-staff")).to_have_text("工作人员：王小明", timeout=LIVE)
    with screen.expect_request(re.compile(r"/calls/\d+/audio\.wav"), timeout=LIVE) as audio:
        staff.keyboard.press("c")  # the console's shortcut for 叫号
    assert "/api/halls/demo/calls/" in audio.value.url
    expect(screen.locator("#newest-number")).to_have_text("A001", timeout=LIVE)
    expect(screen.locator("#newest-window")).to_have_text("1")
    expect(screen.locator("#newest")).to_have_class(re.compile("flash"))
    expect(window.locator("#win-status")).to_contain_text("A001", timeout=LIVE)
    expect(staff.locator("#s-number")).to_have_text("A001", timeout=LIVE)
    expect(staff.locator("#s-reason")).to_contain_text("叫号依据", timeout=LIVE)
    expect(mobile.locator("#m-status")).to_have_text("请到 1 号窗口办理", timeout=LIVE)
    expect(screen.locator("tr[data-category=A] .count")).to_have_text("0 人", timeout=LIVE)
    expect(zone_screen.locator("#newest")).to_be_hidden()  # a call of another zone
    expect(zone_screen.locator("#newest-empty")).to_be_visible()
    zone_path = next(p for p in pages.requests_by_page if "zone=police" in p)
    assert not any("/audio.wav" in u for u in pages.requests_by_page[zone_path])  # not its zone
    assert any("/audio.wav" in u for u in pages.requests_by_page[f"/screen/{HALL}?token={tokens['screen']}"])
    pages.shot(screen, "hall-screen")
    pages.shot(zone_screen, "hall-screen-zone-police")
    pages.shot(window, "window-screen")
    pages.shot(staff, "staff-console")
    pages.shot(mobile, "mobile-called")

    # --- serve and finish: the pad asks ------------------------------------------------------
    staff.click("#a-start")
    expect(window.locator("#win-status")).to_contain_text("正在办理", timeout=LIVE)
    expect(pad.locator("#p-serving")).to_contain_text("A001", timeout=LIVE)
    pages.shot(pad, "pad-serving")
    staff.click("#a-finish")
    expect(pad.locator("#pad-rate")).to_be_visible(timeout=LIVE)
    pages.shot(pad, "pad-rate")

    # --- 差评 without a reason is refused; with one it is stored --------------------------------
    ratings_before = sum("/rating" in u for u in pages.requests)
    pad.click("button.lv[data-level='2']")
    pad.click("#p-submit")
    expect(pad.locator("#p-reason-error")).to_be_visible()
    assert sum("/rating" in u for u in pages.requests) == ratings_before  # nothing was sent
    refused = server.api("POST", f"/api/halls/{HALL}/tickets/1/rating", tokens["pad"],
                         {"level": 2, "reasons": [], "channel": "pad", "window": 1})
    assert refused.status_code in (400, 409, 422)  # the server refuses it too
    pages.shot(pad, "pad-reason")
    pad.click("button.reason[data-reason='等候时间太长']")
    pad.click("#p-submit")
    expect(pad.locator("#pad-thanks")).to_be_visible(timeout=LIVE)
    db = Database(server.database_url)
    try:
        with db.read() as conn:
            stored = conn.execute(select(Rating.level, Rating.reasons, Rating.channel)).all()
    finally:
        db.dispose()
    assert [(r.level, list(r.reasons), r.channel) for r in stored] == [(2, ["等候时间太长"], "pad")]
    expect(mobile.locator("#m-status")).to_have_attribute("data-status", "finished", timeout=LIVE)
    # One rating per ticket: once the pad has rated, the phone's form gives way to a thank-you
    # (the page follows the ticket.rated event), so the phone cannot rate it again.
    expect(mobile.locator("#m-rated")).to_be_visible(timeout=LIVE)
    expect(mobile.locator("#m-rate")).to_be_hidden()

    # --- manager view --------------------------------------------------------------------------
    pages.shot(manager, "manager-login")
    manager.fill("#g-user", "boss")
    manager.fill("#g-pass", PASSWORD)
    manager.click("#g-login-form button[type=submit]")
    expect(manager.locator("tr[data-window='1']")).to_contain_text("王小明", timeout=LIVE)
    expect(manager.locator("#k-sl")).to_have_text("100%", timeout=LIVE)
    pages.shot(manager, "manager")

    # --- restart the server: every page recovers by itself --------------------------------------
    open_pages = [kiosk, screen, zone_screen, window, pad, staff, manager, mobile]
    loaded = [p.evaluate("window.__loaded") for p in open_pages]
    server.stop()
    for p in (screen, window, staff):
        expect(p.locator("#hall-offline")).to_be_visible(timeout=LIVE)
    pages.shot(screen, "hall-screen-offline")
    server.start()
    # Changes made before the pages are back: they must catch up, not miss them.
    issued = server.api("POST", f"/api/halls/{HALL}/tickets", tokens["kiosk"],
                        {"category": "A", "channel": "kiosk"})
    assert issued.status_code == 201, issued.text
    second = issued.json()
    clerk = server.login("clerk")
    called = server.api("POST", f"/api/halls/{HALL}/windows/1/call", clerk, {})
    assert called.status_code == 200, called.text
    assert called.json()["ticket"]["number"] == second["number"] == "A002"
    for p in (screen, window, staff, manager, pad, kiosk):
        expect(p.locator("#hall-offline")).to_be_hidden(timeout=RECOVER)
    expect(screen.locator("#newest-number")).to_have_text("A002", timeout=LIVE)
    expect(window.locator("#win-status")).to_contain_text("A002", timeout=LIVE)
    expect(staff.locator("#s-number")).to_have_text("A002", timeout=LIVE)
    expect(pad.locator("#p-serving")).to_contain_text("A002", timeout=LIVE)
    expect(manager.locator("tr[data-window='1']")).to_contain_text("A002", timeout=LIVE)
    # And live again after the restart: a third ticket shows up on the counts.
    server.api("POST", f"/api/halls/{HALL}/tickets", tokens["kiosk"], {"category": "B", "channel": "kiosk"})
    expect(screen.locator("tr[data-category=B] .count")).to_have_text("1 人", timeout=LIVE)
    expect(manager.locator("tr[data-category=B] .count")).to_have_text("1", timeout=LIVE)
    mobile2 = pages.open(second["progress_url"], 390, 844, mobile=True)
    expect(mobile2.locator("#m-status")).to_have_text("请到 1 号窗口办理", timeout=LIVE)
    assert [p.evaluate("window.__loaded") for p in open_pages] == loaded  # nobody reloaded

    # 好差评 from the phone for A002: a 差评 needs a reason there too.
    for action in ("start", "finish"):
        assert server.api("POST", f"/api/halls/{HALL}/windows/1/{action}", clerk, {}).status_code == 200
    expect(mobile2.locator("#m-rate")).to_be_visible(timeout=LIVE)
    pages.shot(mobile2, "mobile-rate")
    mobile2.click(".m-lv[data-level='1']")
    mobile2.click("#m-rate-submit")
    expect(mobile2.locator("#m-rate-note")).to_have_text("请至少选择一个原因")
    mobile2.check("#m-reasons input[value='办事效率低']")
    mobile2.click("#m-rate-submit")
    expect(mobile2.locator("#m-rate-note")).to_have_text("感谢您的评价！", timeout=LIVE)
    db = Database(server.database_url)
    try:
        with db.read() as conn:
            qr = conn.execute(select(Rating.level, Rating.reasons).where(Rating.channel == "qr")).all()
    finally:
        db.dispose()
    assert [(r.level, list(r.reasons)) for r in qr] == [(1, ["办事效率低"])]
    assert pages.errors == []
