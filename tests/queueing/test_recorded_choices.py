"""The policy's hot path decides exactly as main's code did before it was made faster
(issues 15/16): same tickets, same order, same ties, same reasons, same head lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.queueing.recorded_ops import SEEDS, record

RECORDED = json.loads((Path(__file__).parent / "data" / "recorded_choices.json").read_text())


@pytest.mark.parametrize("seed", SEEDS)
def test_every_decision_matches_the_recording(seed: int) -> None:
    expected = next(r for r in RECORDED if r["seed"] == seed)
    got = json.loads(json.dumps(record(seed, expected["ops"])))
    assert len(got["rows"]) == len(expected["rows"])
    for k, (g, e) in enumerate(zip(got["rows"], expected["rows"], strict=True)):
        assert g == e, f"seed {seed}, row {k}"


def test_the_recording_exercises_every_rule() -> None:
    rules = {row[3][1] for r in RECORDED for row in r["rows"] if row[0] == "call" and row[3][0] is not None}
    assert rules == {"max_wait", "named_window", "appointment", "priority", "priority_ratio", "aging", "queue_key"}
