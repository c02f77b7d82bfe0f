"""Browser test (real headless Chromium): a manager opens a bad-rating case, records the 回访,
closes it, and the day report shows it handled on time.

The hall server runs under uvicorn in a thread on 127.0.0.1 (port 0) with SQLite and the wall
clock; the ticket, call and five-key-pad rating go through the HTTP API as devices would send
them; the background loop opens the case; everything after is clicks and typing in the page.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from hall.app import create_app
from hall.security.accounts import add_device, add_user
from hall.settings import load_settings
from hall.store.database import Database
from tests.operations.conftest import LAYOUT

pytestmark = pytest.mark.browser


class Server:
    def __init__(self, base: str, db: Database, tokens: dict[str, str]) -> None:
        self.base = base
        self.db = db
        self.tokens = tokens

    def post(self, path: str, who: str, body: dict[str, object] | None = None) -> httpx.Response:
        return httpx.post(self.base + path, json=body or {}, headers={"Authorization": f"Bearer {self.tokens[who]}"})


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    monkeypatch.setenv("HALL_OPS_INTERVAL", "0.2")
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    # The server runs on the real clock: without its [hours] the township gives numbers whenever
    # the test runs (a layout that states hours is closed at night).
    layout = tmp_path / "township.toml"
    layout.write_text(re.sub(r"(?ms)^\[hours\]\n.*?\n\n", "", LAYOUT.read_text(encoding="utf-8"), count=1), encoding="utf-8")
    settings = load_settings({
        "HALL_DATABASE_URL": url, "HALL_DATA_DIR": str(tmp_path / "data"), "HALL_SECRET_KEY": "browser-secret",
        "HALL_LAYOUT": str(layout), "HALL_CLOSE_DAY_AT": "",
    })
    config = uvicorn.Config(create_app(settings, poll_interval=0.2), host="127.0.0.1", port=0,
                            log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    port = uv.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    db = Database(url)
    tokens: dict[str, str] = {}
    with db.write() as conn:
        add_user(conn, "boss", "boss-pass-1", role="manager", name="王经理", halls=["township"])
        add_user(conn, "clerk", "clerk-pass-1", role="staff", name="张三", halls=["township"])
        for kind, window in (("kiosk", None), ("pad", 1)):
            tokens[kind] = add_device(conn, kind, "township", window=window)[1]
    r = httpx.post(base + "/api/auth/login", json={"username": "clerk", "password": "clerk-pass-1"})
    tokens["clerk"] = r.json()["token"]
    try:
        yield Server(base, db, tokens)
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        db.dispose()


def test_manager_works_a_case_to_closed_and_the_day_report_shows_it_on_time(
    server: Server, chromium_path: str, screenshot_dir: str | None
) -> None:
    from playwright.sync_api import expect, sync_playwright

    h = "/api/halls/township"
    ticket = server.post(f"{h}/tickets", "kiosk", {"category": "A", "channel": "kiosk"}).json()
    assert server.post(f"{h}/windows/1/call", "clerk").json()["ticket"]["id"] == ticket["id"]
    server.post(f"{h}/windows/1/start", "clerk")
    server.post(f"{h}/windows/1/finish", "clerk")
    rated = server.post(f"{h}/tickets/{ticket['id']}/rating", "pad", {"level": 1, "channel": "keypad"})
    assert rated.status_code == 201 and rated.json()["reason_pending"]

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(server.base + "/ops/township/cases")
            page.fill("#user", "boss")
            page.fill("#pass", "boss-pass-1")
            page.click("#login-btn")
            # Logged in by the session cookie: the page reloads in place, no token in the address.
            expect(page.locator("#login")).to_have_count(0, timeout=10_000)
            assert "token=" not in page.url
            # The background loop opens the case within a few rounds: reload until it is listed.
            row = page.locator("#cases tr[data-case]")
            for _ in range(50):
                if row.count():
                    break
                page.wait_for_timeout(200)
                page.reload()
            expect(row).to_have_count(1)
            expect(row).to_contain_text(ticket["number"])
            expect(row).to_contain_text("待回访补录")
            row.locator("a").click()

            expect(page.locator("#case-status")).to_have_text("待核实")
            page.fill("form[data-step=verify] textarea[name=note]", "调取录像，窗口人员解释不清")
            page.click("form[data-step=verify] button")
            expect(page.locator("#case-status")).to_have_text("已核实")
            page.fill("form[data-step=rectify] textarea[name=note]", "约谈窗口人员并组织业务培训")
            page.click("form[data-step=rectify] button")
            expect(page.locator("#case-status")).to_have_text("已整改")
            page.fill("form[data-step=follow_up] textarea[name=outcome]", "电话回访，群众认可整改")
            page.fill("form[data-step=follow_up] input[name=reason]", "等候时间过长")
            page.select_option("form[data-step=follow_up] select[name=new_level]", "4")
            page.click("form[data-step=follow_up] button")
            expect(page.locator("#case-status")).to_have_text("已回访")
            page.click("form[data-step=close] button")
            expect(page.locator("#case-status")).to_have_text("已办结")
            expect(page.locator("#on-time")).to_have_text("按时办结")
            expect(page.locator("#audit tr[data-action]")).to_have_count(5)
            expect(page.locator("#audit")).to_contain_text("等候时间过长")

            page.click("header.ops >> text=日报")
            expect(page.locator("#report h1")).to_contain_text("运营日报")
            expect(page.locator("#cases-on-time")).to_have_text("1 / 1")
            case_row = page.locator("#r-cases tr[data-case]")
            expect(case_row).to_have_count(1)
            expect(case_row.locator(".case-result")).to_have_text("按时办结")
            if screenshot_dir:
                page.screenshot(path=str(Path(screenshot_dir) / "ops-day-report.png"), full_page=True)
            # Printed: no navigation or print button, and the whole report on one A4 sheet.
            page.emulate_media(media="print")
            expect(page.locator("header.ops")).to_be_hidden()
            expect(page.locator("button", has_text="打印日报")).to_be_hidden()
            pdf = page.pdf(format="A4", prefer_css_page_size=True)
            assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 1
            if screenshot_dir:
                (Path(screenshot_dir) / "ops-day-report.pdf").write_bytes(pdf)
        finally:
            browser.close()
