"""`hall sim …` end to end through its argument parser (registered as hall/cli.py does)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from sim import cli

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = str(ROOT / "examples/halls/county.toml")
DEMAND = str(ROOT / "examples/demand/county.toml")
TOWNSHIP = str(ROOT / "examples/halls/township.toml")


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hall")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


def test_run_writes_json_and_a_self_contained_report(tmp_path: Path) -> None:
    out, html = tmp_path / "r.json", tmp_path / "r.html"
    assert _main(["sim", "run", "--layout", LAYOUT, "--demand", DEMAND, "--days", "3",
                  "--seed", "4", "--workers", "1", "--out", str(out), "--html", str(html)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["days"] == 3 and result["seed"] == 4
    assert result["analytic"]["windows_in_layout"] == 40
    page = html.read_text(encoding="utf-8")
    assert page.count("<svg") >= 3
    assert "http://" not in page.replace('http://www.w3.org', '') and "<script" not in page
    assert "服务达标率" in page


def test_bad_profile_fails_before_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(Path(DEMAND).read_text(encoding="utf-8").replace(
        "arrivals = [17.5, 25,", "arrivals = [-17.5, 25,"), encoding="utf-8")
    with pytest.raises(SystemExit) as e:
        _main(["sim", "run", "--layout", LAYOUT, "--demand", str(bad), "--days", "1"])
    assert e.value.code == 2
    assert "categories.A.arrivals[0]: must not be negative" in capsys.readouterr().err


def test_plan_and_compare_on_a_township(tmp_path: Path) -> None:
    demand = tmp_path / "town.toml"
    demand.write_text(
        '[profile]\nstart = "08:30"\ninterval_minutes = 60\n'
        '[categories.A]\narrivals = [8, 10, 8, 0, 0, 0, 6, 8, 0]\n'
        '[categories.B]\narrivals = [4, 5, 4, 0, 0, 0, 3, 4, 0]\n'
        '[categories.C]\narrivals = [2, 2, 2, 0, 0, 0, 1, 2, 0]\n'
        '[categories.D]\narrivals = [1, 1, 1, 0, 0, 0, 1, 1, 0]\n', encoding="utf-8")
    plan_out, html = tmp_path / "plan.json", tmp_path / "plan.html"
    assert _main(["sim", "plan", "--layout", TOWNSHIP, "--demand", str(demand), "--days", "6",
                  "--workers", "1", "--out", str(plan_out), "--html", str(html)]) == 0
    plan = json.loads(plan_out.read_text(encoding="utf-8"))
    chosen = [t for t in plan["tried"] if t["windows"] == plan["windows"]][0]
    assert chosen["meets"]
    fewer = [t for t in plan["tried"] if t["windows"] == plan["windows"] - 1]
    assert plan["windows"] == 1 or (fewer and not fewer[0]["meets"])
    assert "<svg" in html.read_text(encoding="utf-8")
    cmp_out, cmp_html = tmp_path / "cmp.json", tmp_path / "cmp.html"
    assert _main(["sim", "compare", "--layout", TOWNSHIP, "--demand", str(demand), "--days", "4",
                  "--workers", "1", "--out", str(cmp_out), "--html", str(cmp_html)]) == 0
    cmp = json.loads(cmp_out.read_text(encoding="utf-8"))
    assert set(cmp["layouts"]) == {"hybrid", "pooled", "dedicated"}
    diff = cmp["paired_differences"]["dedicated - hybrid"]["mean_wait_minutes"]
    assert diff["ci95"][0] <= diff["value"] <= diff["ci95"][1]
    page = cmp_html.read_text(encoding="utf-8")
    assert "全部分领域 − 混合（无差别＋分领域）" in page and "<svg" in page


def test_scale_grows_the_demand(tmp_path: Path) -> None:
    base, grown = tmp_path / "a.json", tmp_path / "b.json"
    common = ["--layout", LAYOUT, "--demand", DEMAND, "--days", "2", "--seed", "3",
              "--workers", "1"]
    assert _main(["sim", "run", *common, "--out", str(base)]) == 0
    assert _main(["sim", "run", *common, "--scale", "1.3", "--out", str(grown)]) == 0
    a = json.loads(base.read_text(encoding="utf-8"))
    b = json.loads(grown.read_text(encoding="utf-8"))
    assert b["arrivals"]["value"] > 1.15 * a["arrivals"]["value"]
    assert b["wait_minutes"]["mean"]["value"] > a["wait_minutes"]["mean"]["value"]
