"""Issue 12 item 9: progress tokens are kept as hashes only (the ticket row, the event log);
existing ones survive migration 0005; the database, its backups and the secret key are 0600."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from hall.cli.backup import backup
from hall.core.halls import import_layout
from hall.settings import load_settings
from hall.store.database import Database
from hall.store.migrate import upgrade
from hall.store.models import EventRow, TicketRow
from queueing.layout import parse_layout

from .conftest import MONDAY_9AM, TINY, make_env

API = "/api/halls/tiny"


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def test_progress_tokens_are_stored_as_hashes_and_still_open_the_page(hall):
    t = hall.issue("A")
    token = t["progress_token"]
    with hall.db.read() as conn:
        stored = conn.execute(select(TicketRow.progress_token)).scalars().all()
        events = conn.execute(select(EventRow.data)).scalars().all()
    assert stored == [_sha(token)]
    assert token not in json.dumps(events)  # nor in the event log
    page = hall.client.get(f"/api/progress/{token}")
    assert page.status_code == 200 and page.json()["number"] == t["number"]
    assert hall.client.get(f"/api/progress/{_sha(token)}").status_code == 404  # the hash is no key
    assert hall.client.get(f"/t/{token}").status_code == 200
    hall.post(f"{API}/windows/1/call")
    hall.post(f"{API}/windows/1/start")
    hall.post(f"{API}/windows/1/finish")
    r = hall.client.post(f"{API}/tickets/{t['id']}/rating", json={"level": 5, "progress_token": token})
    assert r.status_code == 201, r.text


def test_migration_0005_hashes_existing_tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hall.core import halls

    # Revision 0003 has no window_overrides (0009): today's importer must not look for them.
    monkeypatch.setattr(halls, "overrides_of", lambda conn, hall_id: {})
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(db, "0003_live_state")
        with db.write() as conn:
            hall_id = import_layout(conn, parse_layout(tomllib.loads(TINY)), now=MONDAY_9AM, matters=[])
            values: dict[str, Any] = dict(
                hall_id=hall_id, day="2026-11-23", number="A001", category="A", priority="normal",
                queue_class="normal", channel="kiosk", status="waiting", queue_key=MONDAY_9AM,
                issued_at=MONDAY_9AM, progress_token="old-clear-token-0123456789abcdef", extra={},
            )
            tid = conn.execute(insert(TicketRow).values(**values).returning(TicketRow.id)).scalar_one()
            conn.execute(insert(EventRow).values(
                hall_id=hall_id, seq=1, type="ticket.issued", at=MONDAY_9AM, ticket_id=tid,
                data={"id": tid, "number": "A001", "progress_url": "/t/old-clear-token-0123456789abcdef"},
            ))
        upgrade(db, "head")
        with db.read() as conn:
            assert conn.execute(select(TicketRow.progress_token)).scalar_one() == _sha("old-clear-token-0123456789abcdef")
            assert conn.execute(select(EventRow.data)).scalar_one() == {"id": tid, "number": "A001"}
        upgrade(db, "head")  # again: a hash is not hashed twice
        with db.read() as conn:
            assert conn.execute(select(TicketRow.progress_token)).scalar_one() == _sha("old-clear-token-0123456789abcdef")
    finally:
        db.dispose()


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_data_files_are_created_private(tmp_path: Path, layout_file: Path) -> None:
    old = os.umask(0o022)  # the usual umask: files would be world-readable by default
    try:
        env = make_env("", tmp_path, layout_file)
        del env["HALL_SECRET_KEY"], env["HALL_DATABASE_URL"]
        settings = load_settings(env)
        db = Database(settings.database_url)
        try:
            upgrade(db, "head")
        finally:
            db.dispose()
        data = tmp_path / "data"
        assert _mode(data / "secret.key") == 0o600
        assert _mode(data / "hall.db") == 0o600
        for extra in ("hall.db-wal", "hall.db-shm"):
            if (data / extra).exists():
                assert _mode(data / extra) == 0o600
        assert _mode(backup(settings)) == 0o600
    finally:
        os.umask(old)
