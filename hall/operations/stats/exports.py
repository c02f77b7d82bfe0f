"""Exports, pure: statistics as CSV and XLSX, and the 好差评 records with the provincial fields.

CSV is UTF-8 with a byte-order mark (Excel in zh-CN opens it without mojibake); empty cells are
None. The XLSX holds the same header and the same values (numbers as numbers), so either file
gives the same figures.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from displays.messages import say
from hall.operations.ratings.rules import INDICATORS, LEVEL_NAMES, RatingChannel
from queueing.layout import HallLayout

__all__ = [
    "rows_to_csv",
    "rows_to_xlsx",
    "RatingRecord",
    "PROVINCIAL_FIELDS",
    "provincial_records",
    "STAT_HEADERS",
    "EXPORT_COLUMNS",
    "readable_rows",
    "stat_labels",
]

# Column -> header shown in exports and on pages.
STAT_HEADERS: dict[str, str] = {
    "dimension": "维度",
    "key": "项目",
    "tickets": "取号数",
    "served": "办结数",
    "wait_mean": "平均等候(秒)",
    "wait_p90": "等候P90(秒)",
    "wait_max": "最长等候(秒)",
    "service_mean": "平均办理(秒)",
    "service_p90": "办理P90(秒)",
    "service_level": "服务水平",
    "no_shows": "过号数",
    "transfers": "转移数",
    "suspensions": "挂起数",
    "ratings": "评价数",
    "bad_ratings": "差评数",
    "satisfaction": "满意率",
    "cases": "整改件数",
    "cases_on_time": "整改按时办结数",
    "code": "代码",
}

# The CSV/XLSX a person opens: the dimension and its item in words, then `code` — the raw key
# (zone code, category letter, window number, hour) kept so a spreadsheet can still be joined
# with the JSON API or another export.
EXPORT_COLUMNS: tuple[str, ...] = ("dimension", "key", "code")


def stat_labels(layout: HallLayout) -> dict[str, dict[str, str]]:
    """Labels of a hall's statistics keys: categories as "A 综合业务", zones by name."""
    return {
        "category": {c.code: f"{c.code} {c.name}" for c in layout.categories},
        "zone": {z.code: z.name for z in layout.zones},
    }


def readable_rows(rows: Iterable[Mapping[str, Any]], labels: Mapping[str, Mapping[str, str]]) -> list[dict[str, Any]]:
    """Rows for people: `dimension` in words (日期, 时段, 功能区 …), `key` as its label from
    `labels[dimension]` (hour "9" -> "9时", window "3" -> "3号窗口", otherwise the key), and the
    raw key as `code`."""
    out = []
    for r in rows:
        dim, key = str(r.get("dimension", "")), str(r.get("key", ""))
        if dim == "hour":
            label = say("stats.hour", hour=int(key) if key.isdigit() else key)
        elif dim == "window":
            label = say("stats.window", number=key)
        else:
            label = labels.get(dim, {}).get(key, key)
        out.append({**r, "dimension": say(f"stats.dimension.{dim}", fallback=dim), "key": label, "code": key})
    return out

# Provincial 好差评 export: JSON key -> CSV header (the fields the provincial system asks for).
PROVINCIAL_FIELDS: dict[str, str] = {
    "case_number": "办件编号",
    "matter_code": "事项编码",
    "matter_name": "事项名称",
    "department": "部门",
    "channel": "评价渠道",
    "rated_at": "评价时间",
    "level": "评价等级",
    "level_name": "评价等级名称",
    "rated_person": "被评价人",
    "region_code": "区划代码",
    "reasons": "差评原因",
    "indicators": "评价指标",
    "window": "窗口",
    "ticket_number": "排队号",
}


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    return value


def rows_to_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], headers: Mapping[str, str]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([headers.get(c, c) for c in columns])
    for row in rows:
        writer.writerow(["" if row.get(c) is None else _cell(row.get(c)) for c in columns])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def rows_to_xlsx(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[str], headers: Mapping[str, str], title: str
) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new workbook always has one sheet
    ws.title = title[:31]  # Excel's limit on sheet names
    ws.append([headers.get(c, c) for c in columns])
    for row in rows:
        ws.append([_cell(row.get(c)) for c in columns])
    for i, c in enumerate(columns, start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = max(10, len(headers.get(c, c)) * 2)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class RatingRecord:
    ticket_id: int
    ticket_number: str
    level: int
    channel: str
    at: float
    reasons: Sequence[str]
    window: int | None
    staff_name: str
    case_number: str = ""
    matter_code: str = ""
    matter_name: str = ""
    department: str = ""
    indicators: Mapping[str, int] | None = None


def provincial_records(
    ratings: Iterable[RatingRecord], region_code: str, tz: ZoneInfo
) -> list[dict[str, Any]]:
    """One dict per rating with the PROVINCIAL_FIELDS keys (JSON); `rows_to_csv` with
    PROVINCIAL_FIELDS as headers gives the CSV."""
    out: list[dict[str, Any]] = []
    for r in ratings:
        try:
            channel = RatingChannel(r.channel).export_name
        except ValueError:
            channel = r.channel
        out.append({
            "case_number": r.case_number,
            "matter_code": r.matter_code,
            "matter_name": r.matter_name,
            "department": r.department,
            "channel": channel,
            "rated_at": datetime.fromtimestamp(r.at, tz).isoformat(timespec="seconds"),
            "level": r.level,
            "level_name": LEVEL_NAMES.get(r.level, ""),
            "rated_person": r.staff_name,
            "region_code": region_code,
            "reasons": "；".join(r.reasons),
            # 整体满意度:5；服务态度:4 — the optional offline indicators, by their names.
            "indicators": "；".join(f"{INDICATORS.get(k, k)}:{v}" for k, v in (r.indicators or {}).items()),
            "window": r.window,
            "ticket_number": r.ticket_number,
        })
    return out
