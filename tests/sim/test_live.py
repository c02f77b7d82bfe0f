"""`hall sim live` against the real server app, and replay of the day it recorded."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

pytest.importorskip("hall.app")

from starlette.testclient import TestClient  # noqa: E402

from hall.app import create_app  # noqa: E402
from hall.cli.export import export_events  # noqa: E402
from hall.security import accounts, auth  # noqa: E402
from hall.settings import load_settings  # noqa: E402
from hall.store.database import Database  # noqa: E402
from sim.eventlog import parse_events  # noqa: E402
from sim.live import LiveError, run_live  # noqa: E402
from sim.replay import replay  # noqa: E402

LAYOUT = {
    "hall": {"code": "simlive", "name": "仿真便民服务中心", "timezone": "Asia/Shanghai"},
    "zones": [{"code": "service", "name": "便民服务区"}],
    "categories": [{"code": "A", "name": "综合业务", "zone": "service", "service_minutes": 5},
                   {"code": "B", "name": "社保医保", "zone": "service", "service_minutes": 5}],
    "windows": [{"number": 1, "kind": "comprehensive", "serves": ["A", "B"]},
                {"number": 2, "kind": "comprehensive", "serves": ["A", "B"]}],
}
DEMAND = {
    # 20 people in half an hour on two windows (about 3.5 erlangs): a queue builds, so waits are
    # minutes long and the server's request latency (milliseconds) hardly counts
    "profile": {"start": "08:30", "interval_minutes": 30, "cutoff_minutes": 0, "no_show": 0.05},
    "categories": {"A": {"arrivals": [14], "service": {"dist": "lognormal", "mean_minutes": 5}},
                   "B": {"arrivals": [6], "service": {"dist": "lognormal", "mean_minutes": 5}}},
}
TOML = """
[hall]
code = "simlive"
name = "仿真便民服务中心"
timezone = "Asia/Shanghai"
[[zones]]
code = "service"
name = "便民服务区"
[[categories]]
code = "A"
name = "综合业务"
zone = "service"
service_minutes = 5
[[categories]]
code = "B"
name = "社保医保"
zone = "service"
service_minutes = 5
[[windows]]
number = 1
kind = "comprehensive"
serves = ["A", "B"]
[[windows]]
number = 2
kind = "comprehensive"
serves = ["A", "B"]
"""


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    layout = tmp_path / "simlive.toml"
    layout.write_text(TOML, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    settings = load_settings({
        "HALL_DATABASE_URL": url, "HALL_DATA_DIR": str(tmp_path / "data"),
        "HALL_SECRET_KEY": "sim-live-secret", "HALL_LAYOUT": str(layout),
        "HALL_CLOSE_DAY_AT": "", "HALL_ISSUE_RATE": "100000"})
    with TestClient(create_app(settings, poll_interval=0.2)) as client:
        db = Database(url)
        with db.write() as conn:
            uid = accounts.add_user(conn, "simadmin", "sim-admin-pass", role="admin", name="仿真")
            token = auth.issue_token(conn, user_id=uid, hours=1)
        yield client, db, token
        db.dispose()


def test_live_drives_the_server_and_replay_reproduces_the_recorded_day(server) -> None:  # type: ignore[no-untyped-def]
    client, db, token = server
    summary = run_live("", "simlive", LAYOUT, DEMAND, speed=600.0, seed=3, token=token,
                       client=client, poll=10.0)
    assert summary["issued"] >= 12
    assert summary["finished"] + summary["no_show"] == summary["called"] == summary["issued"]
    snap = client.get("/api/halls/simlive/snapshot", headers={"Authorization": f"Bearer {token}"})
    assert snap.status_code == 200 and sum(snap.json()["waiting"].values()) == 0

    out = io.StringIO()
    export_events(db, "simlive", out)
    result = replay(parse_events(out.getvalue().splitlines()), LAYOUT)
    assert result["replayed_tickets"] == summary["issued"]
    recorded = result["recorded"]["wait_minutes"]["mean"]["value"]
    simulated = result["wait_minutes"]["mean"]["value"]
    # waits here are in real minutes of a 600x day; replay must match them within 15%
    assert recorded > 0
    assert simulated == pytest.approx(recorded, rel=0.15)


def test_live_reports_server_errors(server) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = server
    with pytest.raises(LiveError, match="HTTP 401"):
        run_live("", "simlive", LAYOUT, DEMAND, speed=900.0, token="wrong", client=client,
                 minutes=5)
