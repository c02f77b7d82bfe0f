"""A long-lived server freezes start-up's objects, raises the collection thresholds and shows
its pause distribution in /metrics (issue 14, "no long pauses")."""

from __future__ import annotations

import gc
import re
from pathlib import Path

from starlette.testclient import TestClient

from hall.app import create_app
from hall.metrics import SERVER_GC_THRESHOLDS
from hall.settings import load_settings

from .conftest import make_env


def _count(text: str, generation: int) -> float:
    m = re.search(rf'hall_gc_pause_seconds_count\{{generation="{generation}"\}} ([0-9.e+]+)', text)
    assert m is not None, text[:2000]
    return float(m.group(1))


def test_server_freezes_start_up_and_times_collections(tmp_path: Path, layout_file: Path) -> None:
    before = gc.get_threshold()
    app = create_app(load_settings(make_env(f"sqlite:///{tmp_path / 'gc.db'}", tmp_path, layout_file)))
    with TestClient(app) as client:
        assert gc.get_threshold() == SERVER_GC_THRESHOLDS
        assert gc.get_freeze_count() > 10_000  # the app, SQLAlchemy's tables, the layout …
        full_before = _count(client.get("/metrics").text, 2)
        gc.collect()
        gc.collect(0)
        text = client.get("/metrics").text
        assert _count(text, 2) >= full_before + 1
        assert _count(text, 0) >= 1
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
