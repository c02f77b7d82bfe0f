"""Statistics read in Chinese: the CSV/XLSX a manager opens names dimensions and zones in words
(keeping the raw key in a 代码 column), the stats page labels zones by name, and the on-time
cases read the same way round everywhere (issue 13, items 3 and 10)."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from displays.messages import say
from tests.operations.conftest import App
from tests.operations.test_api import H, serve


def test_the_csv_and_xlsx_name_dimensions_and_zones_in_words(app: App) -> None:
    serve(app)
    text = app.get(f"{H}/ops/stats", "boss", day="2026-03-03", format="csv").content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][:3] == ["维度", "项目", "代码"]
    dims = {row[0] for row in table[1:]}
    assert dims == {"日期", "时段", "业务", "功能区", "窗口", "工作人员"}, dims
    zone = next(row for row in table[1:] if row[0] == "功能区")
    assert zone[1:3] == ["便民服务区", "service"]
    category = next(row for row in table[1:] if row[0] == "业务")
    assert category[1:3] == ["A 综合业务", "A"]
    assert "整改按时办结数" in table[0]
    sheet = load_workbook(io.BytesIO(app.get(f"{H}/ops/stats", "boss", day="2026-03-03", format="xlsx").content)).active
    assert sheet is not None
    assert [c.value for c in next(sheet.iter_rows())] == table[0]
    # The JSON keeps the codes for machines.
    rows = app.get(f"{H}/ops/stats", "boss", day="2026-03-03").json()["rows"]
    assert {r["dimension"] for r in rows} == {"day", "hour", "category", "zone", "window", "staff"}


def test_the_stats_page_names_zones_and_orders_on_time_cases_like_the_report(app: App) -> None:
    serve(app)
    page = app.get(f"/ops/township/stats?day=2026-03-03&token={app.tokens['boss']}").text
    zone_table = page.split('id="t-zone"', 1)[1].split("</table>", 1)[0]
    assert "便民服务区" in zone_table and ">service<" not in zone_table
    report = app.get(f"/ops/township/report?day=2026-03-03&token={app.tokens['boss']}").text
    for html in (page, report):
        assert say("stats.col.cases_on_time") == "整改 按时/总数" and "整改 按时/总数" in html and "整改/按时" not in html
