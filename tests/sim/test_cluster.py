"""Replications on a Dask cluster (issue 15, item 10): the same seed gives the same JSON."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from sim.runner import SCHEDULER_ENV, ClusterError, Config, run_config

ROOT = Path(__file__).resolve().parents[2]


def _config() -> Config:
    layout = tomllib.loads((ROOT / "examples/halls/township.toml").read_text(encoding="utf-8"))
    demand = {
        "profile": {"start": "08:30", "interval_minutes": 60},
        "categories": {"A": {"arrivals": [8, 10, 8, 0, 0, 0, 6, 8, 0]},
                       "B": {"arrivals": [4, 5, 4, 0, 0, 0, 3, 4, 0]},
                       "D": {"arrivals": [2, 2, 2, 0, 0, 0, 2, 2, 0]}},
        "variation": {"overdispersion": 0.05},
        "service_factors": {"window_kind": {"help_desk": 1.3}, "staff_cv": 0.1},
    }
    return Config(layout, demand)


def test_a_local_cluster_gives_the_local_json_byte_for_byte(
        monkeypatch: pytest.MonkeyPatch) -> None:
    distributed = pytest.importorskip("distributed")
    local = json.dumps(run_config(_config(), 12, 7, workers=1))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        on_cluster = json.dumps(run_config(_config(), 12, 7, scheduler=cluster.scheduler_address))
        monkeypatch.setenv(SCHEDULER_ENV, cluster.scheduler_address)
        from_env = json.dumps(run_config(_config(), 12, 7))
    assert on_cluster == local
    assert from_env == local


def test_an_unreachable_scheduler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr("sim.runner._CONNECT_TIMEOUT", 1.0)
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler"):
        run_config(_config(), 2, 1, scheduler="tcp://127.0.0.1:9")
