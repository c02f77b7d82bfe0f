from __future__ import annotations

from pathlib import Path

import pytest

from queueing.layout import HallLayout, load_layout

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "halls"

# 2026-11-23 09:00 in Shanghai (a Monday) — instants in tests are epoch seconds.
T0 = 1_795_395_600.0


@pytest.fixture
def county() -> HallLayout:
    return load_layout(EXAMPLES / "county.toml")


@pytest.fixture
def township() -> HallLayout:
    return load_layout(EXAMPLES / "township.toml")
