"""Fixtures of the server tests: an app on SQLite or PostgreSQL (each run in its own schema),
users and device tokens, a tiny hall layout."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from hall.app import create_app
from hall.security import accounts, auth
from hall.security.accounts import add_device, add_user
from hall.settings import load_settings
from hall.store.database import Database
from hall.store.models import User
from queueing.clock import FixedClock

TINY = """
[hall]
code = "tiny"
name = "测试便民服务中心"
timezone = "Asia/Shanghai"

[rules]
priority_ratio = 2
recalls_before_no_show = 2

[[zones]]
code = "service"
name = "便民服务区"

[[zones]]
code = "police"
name = "公安"

[[categories]]
code = "A"
name = "综合业务"
zone = "service"
service_minutes = 10

[[categories]]
code = "B"
name = "社保医保"
zone = "service"
service_minutes = 8
daily_cap = 3

[[categories]]
code = "F"
name = "户籍办理"
zone = "police"
service_minutes = 8

[[windows]]
number = 1
name = "综合窗口1"
kind = "comprehensive"
serves = ["A", "B", "F"]

[[windows]]
number = 2
name = "综合窗口2"
kind = "comprehensive"
serves = ["A", "B", "F"]

[[windows]]
number = 3
name = "户籍专窗"
kind = "dedicated"
serves = ["F"]
"""


def pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def layout_file(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.toml"
    p.write_text(TINY, encoding="utf-8")
    return p


@pytest.fixture
def pg_database_url(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL schema of this test's own (dropped after), so parallel runs never collide."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {schema}")
    try:
        yield pg_schema_url(postgres_url, schema)
    finally:
        with psycopg.connect(plain, autocommit=True) as c:
            c.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hall.db'}"
    return str(request.getfixturevalue("pg_database_url"))


# Monday 2026-11-23 09:00 in Asia/Shanghai: the hall is open.
MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


@dataclass
class Hall:
    """A running app with a tiny hall, an admin, a clerk, and device tokens."""

    client: TestClient
    db: Database
    clock: FixedClock
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", **extra}

    def post(self, path: str, who: str = "staff", json: Any = None, **headers: str) -> Any:
        return self.client.post(path, json=json if json is not None else {}, headers=self.headers(who, **headers))

    def issue(self, category: str = "A", who: str = "kiosk", **body: Any) -> Any:
        r = self.post("/api/halls/tiny/tickets", who, {"category": category, "channel": "kiosk", **body})
        assert r.status_code == 201, r.text
        return r.json()


def make_env(database_url: str, tmp_path: Path, layout: Path, **extra: str) -> dict[str, str]:
    return {
        "HALL_DATABASE_URL": database_url,
        "HALL_DATA_DIR": str(tmp_path / "data"),
        "HALL_SECRET_KEY": "test-secret-key",
        "HALL_LAYOUT": str(layout),
        "HALL_CLOSE_DAY_AT": "",
        **extra,
    }


@functools.lru_cache(maxsize=16)
def _cached_hash(password: str) -> str:
    # argon2 is slow on purpose; the tests hash the same few passwords over and over.
    return auth.hash_password(password)


@pytest.fixture
def hall(database_url: str, tmp_path: Path, layout_file: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hall]:
    monkeypatch.setattr(accounts, "hash_password", _cached_hash)
    settings = load_settings(make_env(database_url, tmp_path, layout_file))
    clock = FixedClock(MONDAY_9AM)
    app = create_app(settings, poll_interval=0.2, clock=clock)
    with TestClient(app) as client:
        db = Database(database_url)
        h = Hall(client, db, clock)
        with db.write() as conn:
            add_user(conn, "admin", "admin-pass-1", role="admin", name="管理员")
            add_user(conn, "clerk", "clerk-pass-1", role="staff", name="张三", halls=["tiny"])
            add_user(conn, "other", "other-pass-1", role="staff", name="李四", halls=[])
            for kind, window in (("kiosk", None), ("screen", None), ("pad", 1), ("bridge", None)):
                h.tokens[kind] = add_device(conn, kind, "tiny", window=window)[1]
            ids = dict(conn.execute(select(User.username, User.id)).all())
            h.tokens["admin"] = auth.issue_token(conn, user_id=ids["admin"], hours=1)
            h.tokens["other"] = auth.issue_token(conn, user_id=ids["other"], hours=1)
        r = client.post("/api/auth/login", json={"username": "clerk", "password": "clerk-pass-1"})
        assert r.status_code == 200, r.text
        h.tokens["staff"] = r.json()["token"]
        client.cookies.clear()  # the tests are machines: bearer tokens, not the pages' cookie
        yield h
        db.dispose()




@pytest.fixture(autouse=True)
def _collect_garbage() -> Iterator[None]:
    # A database connection left open is reported (ResourceWarning, an error here) when it is
    # collected; collecting after each test pins the report on the test that leaked it.
    yield
    import gc

    gc.collect()
