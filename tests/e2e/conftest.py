"""Fixtures of the browser tests: one Chromium and one page server per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.pages_harness import PageServer

# Debian's Chromium as root in a container: no sandbox, no GPU, and no background connections
# (the machine's closed network refuses them).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PageServer]:
    """A real hall server (uvicorn, SQLite in a temporary folder) with demo accounts."""
    srv = PageServer(tmp_path_factory.mktemp("pages-server"))
    srv.start()
    srv.setup_accounts()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()
