"""Shared test set-up: services that CI makes mandatory, and where screenshots go."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def need(what: str, reason: str) -> None:
    """Fail in CI, skip elsewhere, when a service a test needs is missing."""
    message = f"{what} unavailable: {reason}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("HALL_TEST_POSTGRES_URL", "")
    if not url:
        need("PostgreSQL", "set HALL_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("HALL_TEST_REDIS_URL", "")
    if not url:
        need("Redis", "set HALL_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    return url


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("HALL_TEST_CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(path):
        need("Chromium", f"{path} not found (apt-get install chromium fonts-noto-cjk)")
    return path


@pytest.fixture(scope="session")
def screenshot_dir() -> str | None:
    """Folder for page screenshots a person can look at (HALL_SCREENSHOT_DIR), or None."""
    path = os.environ.get("HALL_SCREENSHOT_DIR")
    if path:
        os.makedirs(path, exist_ok=True)
    return path
