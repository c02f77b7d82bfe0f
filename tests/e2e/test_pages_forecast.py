"""The manager view shows the live forecast's bands per zone, made by the server's forecast
task in its worker process (a real server under uvicorn, Chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.pages_harness import HALL, PASSWORD, PageServer

pytestmark = [pytest.mark.browser]


@pytest.fixture
def forecasting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PageServer]:
    monkeypatch.setenv("HALL_FORECAST_DELAY", "0")  # the first forecast at once
    srv = PageServer(tmp_path)
    srv.start()
    srv.setup_accounts()
    yield srv
    srv.stop()


def test_manager_sees_the_forecast_bands_per_zone(forecasting: PageServer, browser: Browser) -> None:
    boss = forecasting.login("boss")
    for _ in range(5):
        assert forecasting.api("POST", f"/api/halls/{HALL}/tickets", forecasting.tokens["kiosk"],
                               {"category": "A", "channel": "kiosk"}).status_code in (200, 201)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{forecasting.base}/manage/{HALL}")
    page.fill("#g-user", "boss")
    page.fill("#g-pass", PASSWORD)
    page.click("#g-login-form button[type=submit]")
    # the panel fills from the API once the first forecast is made (within seconds)
    expect(page.locator("#f-zones tr[data-zone='service'] td").first).to_have_text(
        "综合服务区", timeout=60_000)
    assert page.locator("#f-head th").count() > 1
    assert page.locator("#f-stale").is_hidden()
    # a band: median (10%–90%); the first forecast ran at start-up, before anyone came
    expect(page.locator("#f-zones tr[data-zone='service'] td").nth(1)).to_have_text("0（0–0）")
    assert forecasting.api("GET", f"/api/halls/{HALL}/forecast", boss).status_code == 200
    page.close()
