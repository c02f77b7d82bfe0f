"""Database fixtures of the operations tests: SQLite file or PostgreSQL in a schema of its own.

Each test gets a migrated database (0001 + 0002) with the township example hall imported and a
manager, two staff users; `world` inserts tickets, events and ratings the way the server does.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, insert, select, text, update

from hall.core.halls import import_layout
from hall.core.registry import HallRegistry
from hall.store.database import Database
from hall.store.migrate import upgrade
from hall.store.models import EventRow, HallCounter, Rating, TicketRow, User, UserHall, WaitingCount
from queueing.layout import load_layout

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = ROOT / "examples" / "halls" / "township.toml"


def _pg_database(url: str) -> Iterator[Database]:
    schema = f"ops_{secrets.token_hex(6)}"
    admin = create_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in url else "?"
        # application_name marks this test's connections (the app's too: it gets the same URL).
        db = Database(f"{url}{sep}options={quote(f'-csearch_path={schema}')}&application_name={schema}")
        try:
            yield db
        finally:
            db.dispose()
            with admin.begin() as conn:
                # A connection of this test that outlived the app (a worker thread finishing a
                # statement) would deadlock with DROP SCHEMA: end it first.
                conn.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE application_name = :n AND pid <> pg_backend_pid()"),
                    {"n": schema},
                )
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'ops.db'}")
        upgrade(database)
        yield database
        database.dispose()
    else:
        url = request.getfixturevalue("postgres_url")
        for database in _pg_database(url):
            upgrade(database)
            yield database


class World:
    """A hall in the database plus helpers that write what the server would write."""

    def __init__(self, db: Database) -> None:
        self.db = db
        layout = load_layout(LAYOUT)
        with db.write() as conn:
            self.hall_id = import_layout(conn, layout, now=time.time())
            self.users: dict[str, int] = {}
            for username, name, role in (("boss", "王经理", "manager"), ("s1", "张三", "staff"), ("s2", "李四", "staff")):
                uid = conn.execute(
                    insert(User).values(username=username, name=name, role=role, password_hash="x", created_at=0.0)
                    .returning(User.id)
                ).scalar_one()
                conn.execute(insert(UserHall).values(user_id=uid, hall_id=self.hall_id))
                self.users[username] = uid
        self.registry = HallRegistry(db)
        self.hall = self.registry.get("township")
        self._n = 0

    def emit(self, conn: Any, type_: str, at: float, data: dict[str, Any], ticket_id: int | None = None,
             window: int | None = None, user: str | None = None) -> int:
        seq = conn.execute(select(HallCounter.seq).where(HallCounter.hall_id == self.hall_id)).scalar_one() + 1
        conn.execute(update(HallCounter).where(HallCounter.hall_id == self.hall_id).values(seq=seq))
        conn.execute(insert(EventRow).values(
            hall_id=self.hall_id, seq=seq, type=type_, at=at, ticket_id=ticket_id, window=window,
            user_id=self.users.get(user) if user else None, data=data,
        ))
        return seq

    def ticket(self, category: str, issued_at: float, status: str = "waiting", day: str = "2026-03-03",
               window: int | None = None, finished_at: float | None = None, **extra: Any) -> int:
        self._n += 1
        with self.db.write() as conn:
            tid = conn.execute(insert(TicketRow).values(
                hall_id=self.hall_id, day=day, number=f"{category}{self._n:03d}", category=category,
                priority="normal", queue_class="normal", channel="kiosk", status=status, queue_key=issued_at,
                window=window, issued_at=issued_at, finished_at=finished_at, wait_origin=issued_at,
                progress_token=secrets.token_hex(8), extra={}, **extra,
            ).returning(TicketRow.id)).scalar_one()
            self.emit(conn, "ticket.issued", issued_at, {"id": tid, "category": category, "zone": "service"}, tid)
            if status == "waiting":
                self._count(conn, category, 1)
        return tid

    def set_status(self, conn: Any, ticket_id: int, status: str) -> None:
        """Change a ticket's status keeping the waiting counts, as the server's transitions do."""
        was, category = conn.execute(select(TicketRow.status, TicketRow.category).where(TicketRow.id == ticket_id)).one()
        conn.execute(update(TicketRow).where(TicketRow.id == ticket_id).values(status=status))
        self._count(conn, category, (status == "waiting") - (was == "waiting"))

    def _count(self, conn: Any, category: str, d: int) -> None:
        key = (WaitingCount.hall_id == self.hall_id) & (WaitingCount.category == category) & (WaitingCount.queue_class == "normal")
        if conn.execute(update(WaitingCount).where(key).values(n=WaitingCount.n + d)).rowcount == 0:
            conn.execute(insert(WaitingCount).values(hall_id=self.hall_id, category=category, queue_class="normal", n=d))

    def rate(self, ticket_id: int, level: int, at: float, reasons: list[str] | None = None,
             channel: str = "pad", window: int = 1, staff: str = "s1", pending: bool = False) -> None:
        with self.db.write() as conn:
            conn.execute(insert(Rating).values(
                hall_id=self.hall_id, ticket_id=ticket_id, level=level, reasons=reasons or [],
                reason_pending=pending, channel=channel, window=window, staff_user_id=self.users[staff], at=at,
            ))
            self.emit(conn, "ticket.rated", at, {"id": ticket_id, "window": window, "level": level}, ticket_id, window)


@pytest.fixture
def world(db: Database) -> World:
    return World(db)


class App:
    """A running app (TestClient) on the township hall with a manager, a clerk and devices."""

    def __init__(self, client: Any, db: Database, clock: Any, tokens: dict[str, str]) -> None:
        self.client = client
        self.db = db
        self.clock = clock
        self.tokens = tokens

    def post(self, path: str, who: str, body: Any = None) -> Any:
        return self.client.post(path, json=body if body is not None else {},
                                headers={"Authorization": f"Bearer {self.tokens[who]}"})

    def get(self, path: str, who: str | None = None, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return self.client.get(path, params=params or None, headers=headers)

    def wait_for(self, path: str, who: str, predicate: Any, timeout: float = 15.0) -> Any:
        """Poll a GET until `predicate(json)` holds (the background loop runs every 0.2 s)."""
        deadline = time.monotonic() + timeout
        while True:
            body = self.get(path, who).json()
            if predicate(body):
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting on {path}: {body}")
            time.sleep(0.1)


@pytest.fixture
def app(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    from starlette.testclient import TestClient

    from hall.app import create_app
    from hall.security.accounts import add_device, add_user
    from hall.settings import load_settings
    from queueing.clock import FixedClock

    monkeypatch.setenv("HALL_OPS_INTERVAL", os.environ.get("DBG_OPS", "0.2"))
    settings = load_settings({
        "HALL_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "HALL_DATA_DIR": str(tmp_path / "data"), "HALL_SECRET_KEY": "ops-test-secret",
        "HALL_LAYOUT": str(LAYOUT), "HALL_CLOSE_DAY_AT": "",
    })
    from datetime import datetime
    from zoneinfo import ZoneInfo

    clock = FixedClock(datetime(2026, 3, 3, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp())
    application = create_app(settings, poll_interval=0.2, clock=clock)
    with TestClient(application) as client:
        tokens: dict[str, str] = {}
        with db.write() as conn:
            add_user(conn, "boss", "boss-pass-1", role="manager", name="王经理", halls=["township"])
            add_user(conn, "clerk", "clerk-pass-1", role="staff", name="张三", halls=["township"])
            for kind, window in (("kiosk", None), ("pad", 1)):
                tokens[kind] = add_device(conn, kind, "township", window=window)[1]
        for user, pw in (("boss", "boss-pass-1"), ("clerk", "clerk-pass-1")):
            r = client.post("/api/auth/login", json={"username": user, "password": pw})
            assert r.status_code == 200, r.text
            tokens[user] = r.json()["token"]
        client.cookies.clear()  # the tests are machines: bearer tokens, not the pages' cookie
        yield App(client, db, clock, tokens)
