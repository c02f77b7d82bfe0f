"""`hall serve` with a bad path or layout says so in one Chinese line, before uvicorn starts and
without a traceback (issue 13, item 11)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hall.cli import main


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hall.cli", "serve", *args, "--port", "0"],
                          capture_output=True, text=True, timeout=60)


def test_a_missing_layout_is_one_line():
    r = _serve("nope.toml")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == ["hall: 找不到文件：nope.toml"], r.stderr
    assert "Traceback" not in r.stderr


def test_a_layout_that_is_not_toml_or_is_wrong_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    broken = tmp_path / "broken.toml"
    broken.write_text("[hall\n", encoding="utf-8")
    assert main(["serve", str(broken), "--port", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "不是有效的 TOML 文件" in err[0]
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[hall]\ncode = "x"\n', encoding="utf-8")
    assert main(["serve", str(wrong), "--port", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hall: 大厅布局有误："), err
