"""The reducer vectors in the browser (docs/REDUCER.md): displays/static/js/reducer.js, run in
Chromium, turns the initial snapshot and each vector's events into the vector's expected state —
the same state the server's snapshot and the bridge's hallstate reach."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.vectors import envelopes, initial, project, vectors

JS = Path(__file__).resolve().parents[2] / "displays" / "static" / "js"


@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Page]:
    p = browser.new_page()
    p.set_content("<!doctype html><html><body></body></html>")
    # live.js defines window.Hall (nothing connects until Hall.live is called); reducer.js adds
    # Hall.applyEvent: exactly the two files every page loads.
    p.add_script_tag(content=(JS / "live.js").read_text(encoding="utf-8"))
    p.add_script_tag(content=(JS / "reducer.js").read_text(encoding="utf-8"))
    yield p
    p.close()


def _reduce(page: Page, events: list[dict[str, Any]]) -> dict[str, Any]:
    return page.evaluate(
        """([snap, events]) => {
            const state = JSON.parse(snap);
            for (const env of events) { window.Hall.applyEvent(state, env); }
            return state;
        }""",
        [json.dumps(initial()), events],
    )


@pytest.mark.parametrize("vector", vectors(), ids=lambda v: v["name"])
def test_vector_in_the_browser(page: Page, vector: dict[str, Any]) -> None:
    state = _reduce(page, envelopes(vector))
    assert project(state) == vector["expected"]
    assert state["seq"] == len(vector["events"])
