"""Manager and ops pages at 1920×1080 in Chromium: offline devices as a readable list, the 潮汐
grid usable and saving, charts with a value axis, every page checked by axe-core and the
Latin-text scan (issue 13, items 3 and 10)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.audit import SIZES, audit
from tests.e2e.pages_harness import HALL, PASSWORD, PageServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LIVE = 5_000


def _page(browser: Browser) -> Page:
    return browser.new_context(viewport=SIZES["manager"], locale="zh-CN").new_page()


def _day(server: PageServer) -> None:
    """A little of a day: two tickets, one served at window 1."""
    for category in ("A", "F"):
        r = server.api("POST", f"/api/halls/{HALL}/tickets", server.tokens["kiosk"], {"category": category, "channel": "kiosk"})
        assert r.status_code == 201, r.text
    clerk = server.login("clerk")
    assert server.api("POST", f"/api/halls/{HALL}/windows/1/sign-in", clerk, {}).status_code == 200
    for step in ("call", "start", "finish"):
        assert server.api("POST", f"/api/halls/{HALL}/windows/1/{step}", clerk, {}).status_code == 200


def test_the_live_view_lists_offline_devices_by_kind_and_place(server: PageServer, browser: Browser) -> None:
    _day(server)
    page = _page(browser)
    page.goto(f"{server.base}/manage/{HALL}")
    page.fill("#g-user", "boss")
    page.fill("#g-pass", PASSWORD)
    page.click("#g-login-form button[type=submit]")
    rows = page.locator("#g-offline tr[data-device]")
    expect(rows.first).to_be_visible(timeout=LIVE)
    # The harness's devices never reported: each is a row with its kind and place, not a code.
    pad = page.locator("#g-offline tr", has_text="评价器")
    expect(pad).to_contain_text("1号窗口")
    expect(pad).to_contain_text("从未上线")
    for code in [rows.nth(i).get_attribute("data-device") or "" for i in range(rows.count())]:
        assert code and code not in page.inner_text("#g-live")
    audit(page, "manager-live")
    page.context.close()


def _ops(browser: Browser, server: PageServer, path: str) -> Page:
    page = _page(browser)
    page.goto(f"{server.base}/ops/{HALL}/{path}?token={server.login('boss')}")
    return page


def test_the_tide_page_is_a_grid_that_saves_a_row(server: PageServer, browser: Browser) -> None:
    page = _ops(browser, server, "live")
    grid = page.locator("table#windows")
    expect(grid).to_be_visible()
    box = grid.bounding_box()
    # A compact grid: it fits the screen beside the menu, no column squeezed into a narrow strip.
    assert box is not None and 600 <= box["width"] <= SIZES["manager"]["width"]
    row = page.locator("tr[data-window='2']")
    assert row.locator("input[type=checkbox]").count() == 3  # one per category, in its column
    assert (row.bounding_box() or {"height": 999})["height"] < 80  # one line a row
    audit(page, "ops-tide-grid")
    f_box = row.locator("input[value='F']")
    assert not f_box.is_checked()
    f_box.check()
    row.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    expect(page.locator("tr[data-window='2'] input[value='F']")).to_be_checked(timeout=LIVE)
    page.context.close()


def test_stats_charts_have_a_value_axis_and_the_pages_read_chinese(server: PageServer, browser: Browser) -> None:
    _day(server)
    page = _ops(browser, server, "stats")
    chart = page.locator("figure.chart").first
    ticks = [t.strip() for t in chart.locator("text[text-anchor=end]").all_text_contents()]
    assert len(ticks) == 5 and ticks[0] == "0", ticks
    steps = [int(t) for t in ticks]
    assert steps == sorted(steps) and len(set(b - a for a, b in zip(steps, steps[1:], strict=False))) == 1
    zone = page.locator("#t-zone").inner_text()
    assert "综合服务区" in zone and not re.search(r"\bservice\b", zone)
    audit(page, "ops-stats")
    for path in ("report", "cases"):
        other = _ops(browser, server, path)
        audit(other, f"ops-{path}")
        other.context.close()
    page.context.close()
