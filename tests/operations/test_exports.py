"""CSV and XLSX carry the same numbers; the provincial 好差评 export has its fields."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from hall.operations.stats.exports import (
    PROVINCIAL_FIELDS,
    STAT_HEADERS,
    RatingRecord,
    provincial_records,
    rows_to_csv,
    rows_to_xlsx,
)
from hall.operations.stats.rules import COLUMNS, compute
from tests.operations.test_stats_day import TZ, ZONES, hand_made_day


def test_xlsx_opens_with_the_same_numbers_as_the_csv() -> None:
    rows = compute("2026-03-03", hand_made_day(), TZ, ZONES, {1: 5, 2: 1})
    csv_bytes = rows_to_csv(rows, COLUMNS, STAT_HEADERS)
    assert csv_bytes.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(rows_to_xlsx(rows, COLUMNS, STAT_HEADERS, "2026-03-03"))).active
    assert sheet is not None
    cells = [[c.value for c in r] for r in sheet.iter_rows()]
    assert table[0] == cells[0] == [STAT_HEADERS[c] for c in COLUMNS]
    assert len(table) == len(cells) == len(rows) + 1
    for text_row, xlsx_row in zip(table[1:], cells[1:], strict=True):
        for text, value in zip(text_row, xlsx_row, strict=True):
            if value is None:
                assert text == ""
            elif isinstance(value, (int, float)):
                assert float(text) == float(value)
            else:
                assert text == value
    day = cells[1]
    assert day[COLUMNS.index("wait_mean")] == 570.0 and day[COLUMNS.index("tickets")] == 5


def test_provincial_export_fields_json_and_csv() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    at = datetime(2026, 3, 3, 10, 5, tzinfo=tz).timestamp()
    records = provincial_records(
        [RatingRecord(1, "A001", 1, "keypad", at, ["态度差"], 8, "张三", "BJ2026-0001", "11100000000000000A",
                      "营业执照办理", "市场监管局"),
         RatingRecord(2, "B002", 5, "qr", at, [], 3, "李四")],
        "110105", tz,
    )
    first = records[0]
    assert set(first) == set(PROVINCIAL_FIELDS)
    assert first["channel"] == "评价器" and records[1]["channel"] == "二维码"
    assert first["rated_at"] == "2026-03-03T10:05:00+08:00"
    assert (first["level"], first["level_name"], first["region_code"]) == (1, "非常不满意", "110105")
    text = rows_to_csv(records, list(PROVINCIAL_FIELDS), PROVINCIAL_FIELDS).decode("utf-8-sig")
    header, line1 = list(csv.reader(io.StringIO(text)))[:2]
    assert header[:3] == ["办件编号", "事项编码", "事项名称"]
    assert line1[0] == "BJ2026-0001" and line1[header.index("被评价人")] == "张三"
