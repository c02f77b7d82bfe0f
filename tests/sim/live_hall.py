"""A hall server for the live-driven proofs (tests/sim/test_live_surge.py, test_live_advice.py):
in-process, on the driver's stepped clock, with an admin's token, one signed-in clerk's token per
window (so the server knows which windows are open) and the hall's forecast settings."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from starlette.testclient import TestClient

from hall.app import create_app
from hall.security import accounts, auth
from hall.settings import load_settings
from hall.store.database import Database
from hall.store.models import Hall
from sim.live import SteppedClock


@contextmanager
def live_hall(tmp: Path, toml: str, code: str, windows: Iterable[int], forecast: Mapping[str, Any],
              clock: SteppedClock) -> Iterator[tuple[TestClient, str, dict[int, str]]]:
    layout = tmp / f"{code}.toml"
    layout.write_text(toml, encoding="utf-8")
    url = f"sqlite:///{tmp / 'hall.db'}"
    settings = load_settings({
        "HALL_DATABASE_URL": url, "HALL_DATA_DIR": str(tmp / "data"),
        "HALL_SECRET_KEY": f"sim-{code}-secret", "HALL_LAYOUT": str(layout),
        "HALL_CLOSE_DAY_AT": "", "HALL_ISSUE_RATE": "100000"})
    with TestClient(create_app(settings, poll_interval=0.2, clock=clock)) as client:
        db = Database(url)
        with db.write() as conn:
            uid = accounts.add_user(conn, f"{code}admin", f"{code}-admin-pass", role="admin", name="值班主任")
            token = auth.issue_token(conn, user_id=uid, hours=100)
            clerks = {}
            for w in windows:
                cid = accounts.add_user(conn, f"clerk{w}", f"{code}-clerk-pass", role="admin", name=f"窗口{w}")
                clerks[w] = auth.issue_token(conn, user_id=cid, hours=100)
            current = conn.execute(select(Hall.settings).where(Hall.code == code)).scalar_one() or {}
            conn.execute(update(Hall).where(Hall.code == code).values(
                settings={**current, "forecast": dict(forecast)}, updated_at=clock.now() + 1.0))
        client.app_state["hall"].registry.refresh()
        try:
            yield client, token, clerks
        finally:
            db.dispose()
