"""A server's forecast worker does not outlive it: stopping the pool ends a simulation in flight
(shutdown alone leaves the worker running until its task ends, and a killed server's orphans)."""

from __future__ import annotations

import time

from hall.operations.forecast.worker import stop_pool, worker_pool


def test_stopping_the_pool_ends_the_worker_mid_task() -> None:
    pool = worker_pool()
    future = pool.submit(time.sleep, 60)
    deadline = time.monotonic() + 30
    while not future.running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert future.running()
    procs = list(pool._processes.values())  # noqa: SLF001 - the test looks at what stop_pool ends
    assert procs and all(p.is_alive() for p in procs)
    stop_pool(pool)
    for p in procs:
        p.join(timeout=10)
    assert not any(p.is_alive() for p in procs)
