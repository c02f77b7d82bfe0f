"""Reference M/M/c simulators the benchmark compares against: `ciw` and plain SimPy.

Both are the straightforward way to write the model in that library (ciw's own network model;
SimPy with one process per customer and a `Resource` of c servers), measured on the same
scenario as the hall model: Poisson arrivals at `lam`, exponential services at `mu`, FIFO,
statistics over customers arriving after `warmup`. Used by `benchmarks/sim.py` only; `ciw` is
imported lazily (it is in the `bench` extra).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import simpy

__all__ = ["BaselineResult", "run_ciw", "run_plain_simpy"]


@dataclass(frozen=True, slots=True)
class BaselineResult:
    customers: int
    seconds: float
    mean_wait: float

    @property
    def per_second(self) -> float:
        return self.customers / self.seconds if self.seconds > 0 else float("inf")


def run_ciw(c: int, lam: float, mu: float, horizon: float, warmup: float, seed: int) -> BaselineResult:
    """Simulate M/M/c with ciw until `horizon` and time it."""
    import ciw  # noqa: PLC0415 - optional, benchmark only

    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=lam)],
        service_distributions=[ciw.dists.Exponential(rate=mu)],
        number_of_servers=[c],
    )
    ciw.seed(seed)
    started = time.perf_counter()
    q = ciw.Simulation(network)
    q.simulate_until_max_time(horizon)
    elapsed = time.perf_counter() - started
    recs = q.get_all_records()
    waits = [r.waiting_time for r in recs if r.arrival_date >= warmup]
    return BaselineResult(len(recs), elapsed, sum(waits) / len(waits))


def run_plain_simpy(c: int, lam: float, mu: float, horizon: float, warmup: float,
                    seed: int) -> BaselineResult:
    """Simulate M/M/c in SimPy the textbook way: a process per customer and a Resource."""
    rng = random.Random(seed)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=c)
    waits: list[float] = []
    served = [0]

    def customer(env: simpy.Environment, arrived: float):
        with servers.request() as req:
            yield req
            if arrived >= warmup:
                waits.append(env.now - arrived)
            yield env.timeout(rng.expovariate(mu))
            served[0] += 1

    def source(env: simpy.Environment):
        while True:
            yield env.timeout(rng.expovariate(lam))
            env.process(customer(env, env.now))

    env.process(source(env))
    started = time.perf_counter()
    env.run(until=horizon)
    elapsed = time.perf_counter() - started
    return BaselineResult(served[0], elapsed, sum(waits) / len(waits))
