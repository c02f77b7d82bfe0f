"""`hall serve` with a bad path or layout says so in one Chinese line, before uvicorn starts and
without a traceback (issue 13, item 11)."""

from __future__ import annotations

import os
import re
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


def test_a_layout_that_is_not_toml_or_is_wrong_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.delenv("HALL_LAYOUT", raising=False)  # recorded: whatever serve sets is undone
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
    assert "HALL_LAYOUT" not in os.environ  # a refused layout leaves nothing for later servers


def test_the_commands_speak_chinese(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                    layout_file: Path):
    monkeypatch.setenv("HALL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HALL_SECRET_KEY", "cli-secret")
    monkeypatch.delenv("HALL_DATABASE_URL", raising=False)
    monkeypatch.delenv("HALL_REDIS_URL", raising=False)
    assert main(["halls", "import", str(layout_file)]) == 0
    assert main(["db", "upgrade"]) == 0
    assert main(["close-day", "--today"]) == 0
    out = capsys.readouterr().out
    assert "个窗口" in out and "数据库已升级到 head" in out and "已关闭 0 个未办结的号" in out
    assert not re.search(r"\b(windows|categories|closed|database at)\b", out), out
