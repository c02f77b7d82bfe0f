"""Shared test set-up: services that CI makes mandatory, and where screenshots go.

Under pytest-xdist (`make test` runs two workers) each worker gets a PostgreSQL database and a
Redis database number of its own, derived from the configured ones, and a block of server ports
(tests/ports.py); a plain `pytest` uses the configured ones as they are.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.ports import worker_index

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CONNECT_TIMEOUT_S = 5  # a service that does not answer in this long counts as missing


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, hand out the long files first: the files with a slow or browser test, then
    the others by how many tests they hold. `make test` gives whole files to the workers in this
    order (`--dist loadfile --no-loadscope-reorder`), so no long file is left for the end while
    the other worker idles. Outside xdist the order stays as collected."""
    if worker_index() < 0:
        return
    count: dict[str, int] = {}
    heavy: set[str] = set()
    for item in items:
        count[item.location[0]] = count.get(item.location[0], 0) + 1
        if item.get_closest_marker("slow") or item.get_closest_marker("browser"):
            heavy.add(item.location[0])
    first_seen = {f: i for i, f in reversed(list(enumerate(item.location[0] for item in items)))}
    items.sort(key=lambda item: (item.location[0] not in heavy, -count[item.location[0]], first_seen[item.location[0]]))


def need(what: str, reason: str) -> None:
    """Fail in CI, skip elsewhere, when a service a test needs is missing."""
    message = f"{what} unavailable: {reason}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def worker_postgres_url(url: str, worker: int) -> str:
    """The URL of this worker's database: `test` becomes `test_gw0`, `test_gw1`, … (unchanged
    outside xdist)."""
    if worker < 0:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path}_gw{worker}"))


def worker_redis_url(url: str, worker: int) -> str:
    """This worker's Redis database number: the configured one plus 1 + the worker's index
    (mod 16, Redis's default count). Keys are apart per worker; pub/sub channels span every
    database number, which is why each test also sets its own HALL_REDIS_PREFIX."""
    if worker < 0:
        return url
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base + 1 + worker) % 16}"))


def _plain(url: str) -> str:
    """psycopg's own spelling of a SQLAlchemy URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _ensure_database(url: str, worker_url: str) -> None:
    """Create the worker's database (connected to the configured one) unless it exists."""
    import psycopg
    from psycopg import errors, sql

    name = urlsplit(worker_url).path.lstrip("/")
    with psycopg.connect(_plain(url), autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as c:
        if c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        try:
            c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except errors.DuplicateDatabase:
            pass  # a run beside this one created it first


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("HALL_TEST_POSTGRES_URL", "")
    if not url:
        need("PostgreSQL", "set HALL_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    import psycopg

    mine = worker_postgres_url(url, worker_index())
    try:
        if mine != url:
            _ensure_database(url, mine)
        with psycopg.connect(_plain(mine), connect_timeout=CONNECT_TIMEOUT_S) as c:
            c.execute("SELECT 1")
    except psycopg.Error as e:
        need("PostgreSQL", f"cannot reach {urlsplit(mine).netloc}{urlsplit(mine).path}: {e}".strip())
    return mine


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("HALL_TEST_REDIS_URL", "")
    if not url:
        need("Redis", "set HALL_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    import redis

    mine = worker_redis_url(url, worker_index())
    client = redis.Redis.from_url(mine, socket_timeout=CONNECT_TIMEOUT_S, socket_connect_timeout=CONNECT_TIMEOUT_S)
    try:
        client.ping()
    except redis.RedisError as e:
        need("Redis", f"cannot reach {mine}: {e}")
    finally:
        client.close()
    return mine


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
