"""Replications: run a configuration for many days, in parallel processes, reproducibly.

A configuration is the raw layout and demand tables (what the TOML files hold), so it crosses
process boundaries as plain data and is validated again in each worker. Day `d` of seed `s`
always draws the same people (`sim.streams`), whichever worker runs it and however many there
are, so the same seed gives identical results and two configurations on one seed see the same
people (common random numbers).

More machines: with a Dask scheduler address (`scheduler=` or `HALL_DASK_SCHEDULER`, e.g.
`tcp://10.0.0.5:8786`) the same day chunks run on the cluster's workers instead of local
processes (`distributed`, the `cluster` extra); results are gathered in day order, so the JSON
is byte for byte the one a local run gives.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from queueing.layout import HallLayout, parse_layout
from sim.demand import Demand, parse_demand
from sim.population import Person, generate_people
from sim.results import aggregate, summarise_day
from sim.streams import Streams
from sim.synthetic import full_day

__all__ = ["Config", "run_days", "run_config", "default_workers", "Progress", "SCHEDULER_ENV",
           "ClusterError"]

SCHEDULER_ENV = "HALL_DASK_SCHEDULER"
_clients: dict[str, Any] = {}
_CONNECT_TIMEOUT = 10.0  # seconds


class ClusterError(ValueError):
    """The Dask scheduler cannot be used (extra not installed, or unreachable)."""


def _client(address: str) -> Any:
    """One client per scheduler address for the life of the process (connecting costs more
    than a small run)."""
    client = _clients.get(address)
    if client is not None and client.status == "running":
        return client
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError("a Dask scheduler needs the cluster extra: "
                           "pip install 'hall[cluster]'") from None
    try:
        client = Client(address, timeout=_CONNECT_TIMEOUT, set_as_default=False)
    except OSError as e:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {e}") from None
    _clients[address] = client
    return client


def _on_cluster(address: str, plain: Config, seed: int, chunks: list[list[int]],
                progress: Callable[[int], None] | None) -> dict[int, dict[str, Any]]:
    client = _client(address)
    futures = client.map(_days_chunk, [(plain, seed, c) for c in chunks], pure=False)
    results: dict[int, dict[str, Any]] = {}
    for chunk, fut in zip(chunks, futures, strict=True):
        for d, res in zip(chunk, fut.result(), strict=True):
            results[d] = res
        if progress:
            progress(len(chunk))
    return results


@dataclass(frozen=True)
class Config:
    """One hall set-up to simulate: layout and demand tables, plus optional staffing overrides
    (window number -> [(start, end) seconds after midnight])."""

    layout: Mapping[str, Any]
    demand: Mapping[str, Any]
    periods: Mapping[int, Sequence[tuple[float, float]]] | None = None
    label: str = ""
    _parsed: list[Any] = field(default_factory=list, compare=False, repr=False)

    def parsed(self) -> tuple[HallLayout, Demand]:
        """Validated layout and demand (cached); raises LayoutError / DemandError."""
        if not self._parsed:
            layout = parse_layout(self.layout)
            self._parsed.extend((layout, parse_demand(self.demand, layout)))
        return self._parsed[0], self._parsed[1]


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def _day(config: Config, seed: int, day: int,
         people: Sequence[Person] | None = None) -> dict[str, Any]:
    layout, demand = config.parsed()
    streams = Streams(seed, day)
    if people is None:
        people = generate_people(demand, streams)
    record = full_day(layout, demand, people, streams, config.periods)
    return summarise_day(record, people, demand)


def _days_chunk(args: tuple[Config, int, list[int]]) -> list[dict[str, Any]]:
    config, seed, days = args
    return [_day(config, seed, d) for d in days]


class Progress:
    """A one-line progress bar on stderr (only when it is a terminal, unless forced)."""

    def __init__(self, total: int, label: str = "", enabled: bool | None = None) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled

    def advance(self, k: int = 1) -> None:
        self.done += k
        if self.enabled:
            width = 30
            filled = int(width * self.done / self.total)
            sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] "
                             f"{self.done}/{self.total}")
            if self.done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def run_days(config: Config, days: int, seed: int, workers: int = 1,
             progress: Callable[[int], None] | None = None,
             first_day: int = 0, scheduler: str | None = None) -> list[dict[str, Any]]:
    """Per-day figures for days first_day .. first_day+days-1, in day order.

    Validates before anything runs (raises LayoutError / DemandError in the caller's process).
    With `workers` > 1 days run in forked processes; with a Dask `scheduler` address (default
    `HALL_DASK_SCHEDULER`) on the cluster. The results depend on neither.
    """
    config.parsed()
    day_ids = list(range(first_day, first_day + days))
    address = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if address:
        size = max(1, -(-days // 64))  # enough chunks to spread over a cluster's workers
        chunks = [day_ids[i:i + size] for i in range(0, days, size)]
        plain = Config(config.layout, config.demand, config.periods, config.label)
        gathered = _on_cluster(address, plain, seed, chunks, progress)
        return [gathered[d] for d in day_ids]
    if workers <= 1 or days <= 1:
        out = []
        for d in day_ids:
            out.append(_day(config, seed, d))
            if progress:
                progress(1)
        return out
    size = max(1, -(-days // (workers * 4)))  # small chunks: a steady progress bar, even load
    chunks = [day_ids[i:i + size] for i in range(0, days, size)]
    # fork keeps start-up cheap (no re-import) and the child only computes and returns plain
    # data; from Python 3.12 forking a process with threads warns, so use a fork server there
    methods = multiprocessing.get_all_start_methods()
    method = "fork" if "fork" in methods and sys.version_info < (3, 12) else (
        "forkserver" if "forkserver" in methods else "spawn")
    ctx = multiprocessing.get_context(method)
    results: dict[int, dict[str, Any]] = {}
    plain = Config(config.layout, config.demand, config.periods, config.label)
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=ctx) as pool:
        futures = [pool.submit(_days_chunk, (plain, seed, c)) for c in chunks]
        for chunk, fut in zip(chunks, futures, strict=True):
            for d, res in zip(chunk, fut.result(), strict=True):
                results[d] = res
            if progress:
                progress(len(chunk))
    return [results[d] for d in day_ids]


def run_config(config: Config, days: int, seed: int, workers: int = 1,
               progress: Callable[[int], None] | None = None,
               scheduler: str | None = None) -> dict[str, Any]:
    """Simulate and aggregate: the JSON result of one configuration."""
    layout, demand = config.parsed()
    per_day = run_days(config, days, seed, workers, progress, scheduler=scheduler)
    out = {
        "hall": layout.code,
        "profile": demand.name,
        "seed": seed,
        "windows": len(layout.windows),
        **aggregate(per_day, demand),
    }
    return out

