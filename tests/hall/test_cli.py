"""The `hall` subcommands of this package, run in-process on a SQLite file."""

from __future__ import annotations

import io
import json
import sqlite3
import time

import pytest

from hall.cli import main


@pytest.fixture
def env(tmp_path, monkeypatch, layout_file):
    monkeypatch.setenv("HALL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HALL_SECRET_KEY", "cli-secret")
    monkeypatch.delenv("HALL_DATABASE_URL", raising=False)
    monkeypatch.delenv("HALL_REDIS_URL", raising=False)
    assert main(["halls", "import", str(layout_file)]) == 0
    return tmp_path


def test_users_devices_and_login(env, monkeypatch, capsys, tmp_path, layout_file):
    monkeypatch.setattr("sys.stdin", io.StringIO("secret-pass-1\n"))
    assert main(["users", "add", "wang", "--role", "manager", "--hall", "tiny", "--name", "王主任"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "add", "li", "--role", "staff"]) == 2
    assert "8 characters" in capsys.readouterr().err
    assert main(["devices", "add", "kiosk", "--hall", "tiny"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert len(token) >= 40
    assert main(["devices", "add", "pad", "--hall", "nowhere", "--window", "1"]) == 2

    from starlette.testclient import TestClient

    from hall.app import create_app

    with TestClient(create_app(environ={"HALL_DATA_DIR": str(env / "data"), "HALL_SECRET_KEY": "cli-secret"})) as c:
        r = c.post("/api/auth/login", json={"username": "wang", "password": "secret-pass-1"})
        assert r.status_code == 200 and r.json()["role"] == "manager"
        r = c.post("/api/halls/tiny/tickets", json={"category": "A"}, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201


def test_export_events_backup_and_close_day(env, capsys):
    from hall.core.events import EventType
    from hall.core.registry import HallRegistry
    from hall.core.tx import run_write
    from hall.store.database import Database

    db = Database(f"sqlite:///{env / 'data' / 'hall.db'}")
    reg = HallRegistry(db)
    info = reg.get("tiny")

    def work(tx):
        tx.emit(EventType.WINDOW_PAUSED, {"window": 1, "reason": "午休"}, window=1)
        tx.emit(EventType.WINDOW_RESUMED, {"window": 1}, window=1)
        return 200, {}

    run_write(db, info, None, work, now=time.time())
    out = env / "events.jsonl"
    assert main(["export", "events", "--hall", "tiny", "--output", str(out)]) == 0
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [e["seq"] for e in lines] == [1, 2]
    assert set(lines[0]) == {"seq", "type", "at", "hall", "data"} and lines[0]["hall"] == "tiny"
    assert main(["export", "events", "--hall", "tiny", "--since", "2000-01-01", "--until", "2000-01-02", "-o", str(out)]) == 0
    assert out.read_text() == ""
    assert main(["export", "events", "--hall", "tiny", "--since", "yesterday"]) == 2

    target = env / "copy.db"
    assert main(["backup", str(target)]) == 0
    with sqlite3.connect(target) as c:
        assert c.execute("SELECT count(*) FROM events").fetchone()[0] == 2
    assert main(["backup", str(target)]) == 2  # never overwrites

    assert main(["close-day", "--today"]) == 0
    assert "tiny：已关闭 0 个未办结的号" in capsys.readouterr().out
    db.dispose()


def test_db_upgrade_is_repeatable(env):
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0
