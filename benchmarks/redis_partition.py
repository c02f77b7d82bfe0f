"""Issuing and serving during a silent Redis partition, against the same hall with Redis well.

Two real server processes (uvicorn, PostgreSQL, Redis through a TCP proxy that can black-hole
every byte: nothing answers, nothing is refused). Blocks alternate (interleaved, so the shared
machine's load drifts out of the ratio): Redis well, then black-holed; each block issues through
both processes and calls/starts/finishes at one window per process. Prints JSON: per kind of
block the ticket and finish rates, the slowest issue, and the ratio partitioned / well. The
issue's baseline (issue 12, item 10): 4 tickets in a 15 s black-hole instead of ~180 (ratio
~0.02), each issue 10 s.

    .venv/bin/python benchmarks/redis_partition.py [--blocks 2] [--seconds 6]

Needs HALL_TEST_POSTGRES_URL and HALL_TEST_REDIS_URL (source /tmp/citest.sh).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hall.conftest import pg_schema_url  # noqa: E402 - the tests' helpers, reused
from tests.hall.procs import Server  # noqa: E402
from tests.hall.tcpproxy import Proxy  # noqa: E402
from tests.hall.test_multiprocess import prepare  # noqa: E402
from tests.hall.test_redis import _phase  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--blocks", type=int, default=2, help="pairs of (well, partitioned) blocks")
    ap.add_argument("--seconds", type=float, default=6.0, help="length of each block")
    args = ap.parse_args()
    import psycopg

    pg = os.environ["HALL_TEST_POSTGRES_URL"]
    rurl = urlparse(os.environ["HALL_TEST_REDIS_URL"])
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    plain = pg.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {schema}")
    tmp = Path(tempfile.mkdtemp())
    proxy = Proxy((rurl.hostname or "127.0.0.1", rurl.port or 6379)).start()
    db, token = prepare(pg_schema_url(pg, schema), "bench")
    env = {
        "HALL_DATABASE_URL": pg_schema_url(pg, schema), "HALL_REDIS_URL": f"redis://127.0.0.1:{proxy.port}{rurl.path or '/0'}",
        "HALL_SECRET_KEY": "k", "HALL_REDIS_PREFIX": f"bench-{uuid.uuid4().hex[:8]}:", "HALL_DATA_DIR": str(tmp),
        "HALL_CLOSE_DAY_AT": "", "HALL_ISSUE_RATE": "100000",
    }
    servers = [Server(env, tmp / "a.log").start(), Server(env, tmp / "b.log").start()]
    blocks: dict[str, list[dict[str, float]]] = {"well": [], "partitioned": []}
    issued: list[int] = []
    errors: list = []
    try:
        for _ in range(args.blocks):
            blocks["well"].append(_phase(servers, "bench", token, args.seconds, issued, errors))
            proxy.blackhole()
            blocks["partitioned"].append(_phase(servers, "bench", token, args.seconds, issued, errors))
            proxy.restore()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not all(httpx.get(f"{s.url}/readyz", timeout=5).json()["bus"] for s in servers):
                time.sleep(0.2)
    finally:
        for s in servers:
            s.stop()
        proxy.close()
        db.dispose()
        with psycopg.connect(plain, autocommit=True) as c:
            c.execute(f"DROP SCHEMA {schema} CASCADE")

    def mean(kind: str, what: str) -> float:
        return sum(b[what] for b in blocks[kind]) / len(blocks[kind])

    out = {
        kind: {
            "issued_per_s": round(mean(kind, "issued"), 2),
            "finished_per_s": round(mean(kind, "finished"), 2),
            "slowest_issue_s": round(max(b["slowest_issue"] for b in blocks[kind]), 3),
        }
        for kind in blocks
    }
    out["ratio_issued"] = round(out["partitioned"]["issued_per_s"] / out["well"]["issued_per_s"], 3)
    out["ratio_finished"] = round(out["partitioned"]["finished_per_s"] / out["well"]["finished_per_s"], 3)
    out["baseline_ratio_issued"] = round(4 / 180, 3)
    out["errors"] = errors[:3]
    out["load_average"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
