"""`hall sim run|plan|compare` answer people with a short Chinese table, machines with --json;
progress reaches stderr even when it is not a terminal; an unmeetable target says why
(issue 13, item 11)."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import pytest

from sim import cli
from sim.report_text import capping_zone_windows, table

ROOT = Path(__file__).resolve().parents[2]
COUNTY = str(ROOT / "examples/halls/county.toml")
TOWNSHIP = str(ROOT / "examples/halls/township.toml")
TOWN_DEMAND = str(ROOT / "examples/demand/township-stationary.toml")
COUNTY_DEMAND = str(ROOT / "examples/demand/county.toml")


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hall")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


def _latin(text: str) -> list[str]:
    """Latin words a person would have to read (figures, ticket-free units and flags excepted)."""
    words = re.findall(r"[A-Za-z][A-Za-z_\-]*", text)
    return [w for w in words if w not in {"JSON", "TOML"} and not re.fullmatch(r"[A-Z]", w)]


def test_run_prints_a_short_chinese_table_and_progress_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(["sim", "run", "--layout", TOWNSHIP, "--demand", TOWN_DEMAND, "--days", "2", "--workers", "1"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("某某镇便民服务中心 仿真结果")  # the hall's name, not its code
    assert "平均等候（分钟）" in out and "窗口利用率" in out
    assert len(out.splitlines()) < 20 and "{" not in out
    assert not _latin(out.replace("--json", "").replace("--out", "")), _latin(out)
    assert "2/2" in err  # capsys is no terminal: the progress is there all the same


def test_run_json_is_for_machines(capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(["sim", "run", "--layout", TOWNSHIP, "--demand", TOWN_DEMAND, "--days", "1", "--workers", "1",
                  "--json", "--quiet"]) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert result["days"] == 1 and result["hall_name"] == "某某镇便民服务中心"
    assert err == ""


@pytest.fixture(scope="module")
def plan_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One `hall sim plan` (a planning search takes ~20 s) whose terminal, JSON and HTML outputs
    the tests below read."""
    import contextlib
    import io

    folder = tmp_path_factory.mktemp("plan")
    out_file, html_file = folder / "plan.json", folder / "plan.html"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = _main(["sim", "plan", "--layout", TOWNSHIP, "--demand", TOWN_DEMAND, "--days", "3", "--workers", "1",
                      "--out", str(out_file), "--html", str(html_file)])
    return {"code": code, "out": out.getvalue(), "err": err.getvalue(), "out_file": out_file,
            "plan": json.loads(out_file.read_text(encoding="utf-8")), "html": html_file.read_text(encoding="utf-8")}


def test_plan_prints_the_answer_first_not_kilobytes_of_json(plan_run: dict[str, Any]) -> None:
    assert plan_run["code"] == 0
    out, err, plan = plan_run["out"], plan_run["err"], plan_run["plan"]
    assert f"答案：至少 {plan['windows']} 个窗口" in out
    assert len(out.encode()) < 2_000 and "service_level_lower_bound" not in out
    assert str(plan_run["out_file"]) in out
    assert "达标率下限" in err and "service level" not in err  # the search's progress, in words


def test_compare_prints_each_layout_in_one_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demand = tmp_path / "town.toml"
    demand.write_text(
        '[profile]\nstart = "08:30"\ninterval_minutes = 60\n'
        '[categories.A]\narrivals = [8, 10, 8, 0, 0, 0, 6, 8, 0]\n'
        '[categories.B]\narrivals = [4, 5, 4, 0, 0, 0, 3, 4, 0]\n'
        '[categories.C]\narrivals = [2, 2, 2, 0, 0, 0, 1, 2, 0]\n'
        '[categories.D]\narrivals = [1, 1, 1, 0, 0, 0, 1, 1, 0]\n', encoding="utf-8")
    assert _main(["sim", "compare", "--layout", TOWNSHIP, "--demand", str(demand), "--days", "2",
                  "--workers", "1", "--quiet"]) == 0
    out, _ = capsys.readouterr()
    rows = [line for line in out.splitlines()
            if line.split(" ")[0] in {"混合（无差别＋分领域）", "全部无差别", "全部分领域"}]
    assert len(rows) == 3 and "服务达标率" in out
    assert "hybrid" not in out and "pooled" not in out


def test_an_unmeetable_target_names_the_zone_windows_that_cap_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sim.planning

    def never(*_a: object, **_k: object) -> dict[str, object]:
        raise ValueError("no layout up to 1000 windows meets the target")

    monkeypatch.setattr(sim.planning, "plan", never)
    code = _main(["sim", "plan", "--layout", COUNTY, "--demand", COUNTY_DEMAND, "--mode", "comprehensive",
                  "--target", "0.99", "--within", "5", "--days", "1", "--workers", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert "目标无法达到" in err and "只由分领域窗口办理" in err
    assert "税务" in err and "36号" in err  # the 税务 category and its own windows
    assert "no layout up to" not in err


def test_capping_windows_are_the_zone_windows_of_categories_no_comprehensive_window_serves() -> None:
    layout = {"categories": [{"code": "A", "name": "综合"}, {"code": "F", "name": "户籍"}],
              "windows": [{"number": 1, "kind": "comprehensive", "serves": ["A"]},
                          {"number": 8, "kind": "zone", "serves": [{"category": "F", "weight": 2}]}]}
    demand = {"categories": {"A": {"arrivals": [5]}, "F": {"arrivals": [3]}}}
    assert capping_zone_windows(layout, demand) == {"F 户籍": ["8号"]}
    demand["categories"]["F"]["arrivals"] = [0]
    assert capping_zone_windows(layout, demand) == {}


def test_the_html_reports_are_in_chinese_with_the_hall_name_and_whole_window_axes(tmp_path: Path) -> None:
    from sim.report import render_run

    html_file = tmp_path / "r.html"
    assert _main(["sim", "run", "--layout", COUNTY, "--demand", COUNTY_DEMAND, "--days", "2", "--workers", "1",
                  "--quiet", "--html", str(html_file)]) == 0
    page = html_file.read_text(encoding="utf-8")
    text = _visible(page)
    assert text.lstrip().startswith("某某县政务服务中心")
    assert not _latin(text), sorted(set(_latin(text)))
    for raw in ("windows_in_layout", "service_cv2", "lag_sipp", "red bars", "target"):
        assert raw not in page.replace("</title>", ""), raw
    assert "本次未设目标" in text  # no target line promised where none was given
    # The windows-needed chart counts windows: its value axis has whole numbers only.
    needed = page.split("各时段所需窗口数", 1)[1]
    ticks = re.findall(r'text-anchor="end">([^<]+)</text>', needed)
    assert ticks and all(re.fullmatch(r"\d+", t) for t in ticks), ticks
    assert "仿真报告" in render_run({"hall": "x", "hall_name": "某中心", "days": 1, "seed": 1, "windows": 1})


def test_the_plan_report_draws_its_target_line_and_says_the_answer_in_chinese(plan_run: dict[str, Any]) -> None:
    page = plan_run["html"]
    text = _visible(page)
    assert text.lstrip().startswith("某某镇便民服务中心 窗口数量规划")
    assert "的办事人在 15 分钟内被叫号" in text
    assert 'stroke-dasharray="6 4"' in page  # the target line, drawn because a target was given
    assert not _latin(text), sorted(set(_latin(text)))


def _visible(page: str) -> str:
    import html

    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    page = re.sub(r"<title>.*?</title>", "", page, count=1, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_a_table_lines_up_chinese_by_display_width() -> None:
    lines = table(["方案", "窗口"], [["甲", "10"], ["pooled", "2"]]).splitlines()
    assert len({len(line.encode("gbk", "replace")) for line in lines}) == 1


def test_a_missing_layout_or_bad_profile_is_said_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        _main(["sim", "run", "--layout", "nope.toml", "--demand", TOWN_DEMAND, "--days", "1"])
    assert e.value.code == 2
    assert capsys.readouterr().err.strip() == "找不到文件：nope.toml"
