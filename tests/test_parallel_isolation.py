"""What keeps two pytest-xdist workers apart: their databases, Redis numbers and server ports."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests import ports
from tests.conftest import worker_postgres_url, worker_redis_url

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def test_each_worker_has_its_own_postgres_database() -> None:
    assert worker_postgres_url(PG, -1) == PG
    assert worker_postgres_url(PG, 0) == "postgresql+psycopg://postgres@127.0.0.1:5432/test_gw0"
    assert worker_postgres_url(f"{PG}?sslmode=disable", 1).endswith("/test_gw1?sslmode=disable")


def test_each_worker_has_its_own_redis_number() -> None:
    assert worker_redis_url("redis://127.0.0.1:6379/0", -1) == "redis://127.0.0.1:6379/0"
    got = {worker_redis_url("redis://127.0.0.1:6379/0", w) for w in range(3)}
    assert got == {"redis://127.0.0.1:6379/1", "redis://127.0.0.1:6379/2", "redis://127.0.0.1:6379/3"}
    assert worker_redis_url("redis://127.0.0.1:6379", 0) == "redis://127.0.0.1:6379/1"
    assert worker_redis_url("redis://127.0.0.1:6379/15", 0) == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(("name", "index"), [("gw0", 0), ("gw7", 7), ("", -1), ("master", -1)])
def test_worker_index_reads_xdist_name(monkeypatch: pytest.MonkeyPatch, name: str, index: int) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", name)
    assert ports.worker_index() == index


def test_free_ports_are_this_workers_own_and_not_ephemeral() -> None:
    first = ports.BASE + (ports.worker_index() + 1) * ports.BLOCK
    got = [ports.free_port() for _ in range(20)]
    assert len(set(got)) == 20  # never the same port twice in a row
    assert all(first <= p < first + ports.BLOCK for p in got)
    low, _ = (int(x) for x in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    assert max(got) < low  # no outgoing connection is given one of them


def test_a_port_something_listens_on_is_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        monkeypatch.setattr(ports, "_ports", iter([taken, taken, 20_999]))
        assert ports.free_port() == 20_999
