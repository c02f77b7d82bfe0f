"""Ports for test servers that must know their port before they listen (a child process, or a
server stopped and started again on the same port).

Binding port 0 and closing it hands out a port from the kernel's ephemeral range, where any
outgoing connection, or the other pytest-xdist worker, may take it before the server binds it.
Instead each pytest process walks a block of its own below that range (32768-60999 on Linux), one
block per xdist worker, from a random start so that two runs side by side rarely meet; a port in
the block that cannot be bound is passed over.
"""

from __future__ import annotations

import itertools
import os
import random
import socket

__all__ = ["free_port", "worker_index"]

BASE = 20_000  # below the ephemeral range, above the well-known ports
BLOCK = 1_000  # ports per worker: a run asks for a few hundred at most


def worker_index() -> int:
    """0, 1, … in a pytest-xdist worker (PYTEST_XDIST_WORKER is gw0, gw1, …), -1 outside xdist."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else -1


def _block_ports() -> itertools.cycle[int]:
    first = BASE + (worker_index() + 1) * BLOCK
    start = random.randrange(BLOCK)  # noqa: S311 - spreading, not secrecy
    return itertools.cycle([first + (start + i) % BLOCK for i in range(BLOCK)])


_ports = _block_ports()


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on, not handed out again by this process until the
    other ports of its block have been."""
    for _ in range(BLOCK):
        port = next(_ports)
        with socket.socket() as s:
            # As uvicorn binds: SO_REUSEADDR, so a port whose old connections linger in
            # TIME_WAIT from an earlier run still counts as free.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port in {BASE}+{(worker_index() + 1) * BLOCK} (block of {BLOCK})")
