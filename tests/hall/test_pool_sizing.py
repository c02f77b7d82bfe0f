"""`hall serve --workers N` sizes each process's PostgreSQL pool to fit max_connections, or
refuses clearly (issue 14, "pools exceed the database")."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hall.cli import main
from hall.store.database import MIN_POOL, Database, PoolTooSmall, connection_limit, pool_per_process


@pytest.mark.parametrize("workers", [1, 2, 4, 8, 16])
def test_workers_together_fit_max_connections(workers: int) -> None:
    each = pool_per_process(100, 3, workers)
    assert MIN_POOL <= each <= 30
    assert workers * each <= 100 - 3 - 5  # five kept for the CLI, backups, psql


def test_the_readme_four_workers_fit_postgres_defaults() -> None:
    # Before: 4 × (10 + 20 overflow) = 120 against PostgreSQL's default 100.
    assert 4 * pool_per_process(100, 3, 4) <= 97


def test_too_many_workers_are_refused() -> None:
    with pytest.raises(PoolTooSmall) as e:
        pool_per_process(100, 3, 40)
    assert (e.value.workers, e.value.each) == (40, 2)


@pytest.mark.postgres
def test_pool_sized_from_the_real_server(pg_database_url: str) -> None:
    max_connections, reserved = connection_limit(pg_database_url)
    assert max_connections >= 20 and 0 <= reserved < max_connections
    each = pool_per_process(max_connections, reserved, 4)
    db = Database(pg_database_url, pool_size=each)
    try:
        pool = db.engine.pool
        assert pool.size() == each and getattr(pool, "_max_overflow") == 0  # noqa: B009 - no public reader
    finally:
        db.dispose()


@pytest.mark.postgres
def test_serve_refuses_more_workers_than_the_database_allows(
    pg_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    started: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append(k))
    monkeypatch.setenv("HALL_DATABASE_URL", pg_database_url)
    monkeypatch.setenv("HALL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HALL_SECRET_KEY", "pool-test")
    monkeypatch.setenv("HALL_DB_POOL", "0")  # recorded, so that what serve sets is undone after
    monkeypatch.delenv("HALL_LAYOUT", raising=False)
    max_connections, _ = connection_limit(pg_database_url)
    assert main(["serve", "--workers", str(max_connections)]) == 2
    err = capsys.readouterr().err
    assert f"--workers {max_connections}" in err and "max_connections" in err and "请减少" in err
    assert started == []

    assert main(["serve", "--workers", "4"]) == 0
    assert started and 4 * int(os.environ["HALL_DB_POOL"]) <= max_connections
