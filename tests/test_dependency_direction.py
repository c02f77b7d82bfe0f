"""The packages depend on each other only in the directions the design allows."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"hall", "queueing", "displays", "hardware", "sim"}
FORBIDDEN = {
    # queueing is pure: none of ours, and no I/O, asyncio or database.
    "queueing": OURS - {"queueing"} | {"asyncio", "sqlalchemy", "socket", "redis", "serial", "starlette", "simpy"},
    "hardware": {"hall", "sim"},
    "sim": {"hall", "hardware"},
    "displays": {"hardware", "sim"},
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_the_design_allows(package):
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in imports_of(path) & FORBIDDEN[package]:
            bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "\n".join(bad)


def test_there_is_no_top_level_queue_package():
    assert not (ROOT / "queue").exists(), "a top-level queue/ shadows the standard library's queue module"
