"""The answer of `hall sim run|plan|compare` as a short table a planner reads on the terminal.

The JSON (`--json`, `--out`) stays the machines' form; every word here comes from the zh-CN
catalogue (displays/messages/planner.toml). Columns are padded by display width, so Chinese
text (two cells a character) lines up.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from displays.messages import say

__all__ = ["run_text", "plan_text", "compare_text", "table", "capping_zone_windows"]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Rows under a header, left-aligned first column and right-aligned figures."""
    cols = [list(c) for c in zip(head, *rows, strict=True)]
    widths = [max(_width(x) for x in c) for c in cols]

    def line(cells: Sequence[str]) -> str:
        out = []
        for i, (cell, w) in enumerate(zip(cells, widths, strict=True)):
            pad = " " * (w - _width(cell))
            out.append(cell + pad if i == 0 else pad + cell)
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(head), rule, *(line(r) for r in rows)])


def _num(x: Any, digits: int = 1, pct: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * x:.{digits}f}%" if pct else f"{x:.{digits}f}"


def _est(e: Mapping[str, Any] | None, digits: int = 1, pct: bool = False) -> str:
    if not e:
        return "–"
    lo, hi = (e.get("ci95") or [None, None])[:2]
    if lo is None or hi is None:
        return _num(e.get("value"), digits, pct)
    # Shown clipped to what the quantity can be (a time, count or share is at least 0, a share
    # at most 1), as the HTML report does.
    lo, hi = max(lo, 0.0), (min(hi, 1.0) if pct else hi)
    return f"{_num(e.get('value'), digits, pct)} [{_num(lo, digits, pct)}, {_num(hi, digits, pct)}]"


def _kpis(result: Mapping[str, Any]) -> list[list[str]]:
    w = result.get("wait_minutes", {})
    sl = result.get("service_level", {})
    rows = [
        [say("sim.kpi.windows"), str(result.get("windows", "–"))],
        [say("sim.kpi.arrivals"), _est(result.get("arrivals"), 0)],
        [say("sim.kpi.mean_wait"), _est(w.get("mean_served") or w.get("mean"))],
        [say("sim.kpi.p90_wait"), _est(w.get("p90"))],
        [say("sim.kpi.service_level", within=_num(sl.get("within_minutes"), 0)), _est(sl, 1, True)],
        [say("sim.kpi.abandonment"), _est(result.get("abandonment_rate"), 1, True)],
        [say("sim.kpi.utilisation"), _est(result.get("utilisation"), 1, True)],
    ]
    analytic = result.get("analytic") or {}
    if analytic.get("windows") is not None:
        rows.append([say("sim.kpi.analytic"), str(analytic["windows"])])
    return rows


def _hall(result: Mapping[str, Any]) -> str:
    return str(result.get("hall_name") or result.get("hall") or "")


def run_text(result: Mapping[str, Any]) -> str:
    """`hall sim run`: the day's key figures with their intervals."""
    title = say("sim.run.title", hall=_hall(result), days=result.get("days"), seed=result.get("seed"))
    return title + "\n\n" + table([say("sim.col.item"), say("sim.col.value")], _kpis(result))


def plan_text(plan: Mapping[str, Any]) -> str:
    """`hall sim plan`: the answer in one sentence, then each size tried."""
    t = plan["target"]
    title = say("sim.plan.title", hall=_hall(plan), days=plan.get("days"), seed=plan.get("seed"))
    answer = say("sim.plan.answer", windows=plan["windows"], total=plan.get("total_windows", plan["windows"]),
                 share=f"{t['share']:.0%}", within=f"{t['within_minutes']:g}", confidence=f"{t['confidence']:.0%}")
    from sim.report import layout_label

    rows = [[layout_label(str(x.get("layout", x["windows"]))), _num(x["service_level_lower_bound"], 1, True),
             _est(x.get("mean_wait_minutes")), say("sim.yes") if x["meets"] else say("sim.no")]
            for x in sorted(plan["tried"], key=lambda x: x["windows"])]
    head = [say("sim.col.layout"), say("sim.col.sl_lower"), say("sim.col.mean_wait"), say("sim.col.meets")]
    out = [title, "", answer, "", say("sim.plan.tried"), table(head, rows)]
    if plan.get("slots"):
        srows = [[str(r["capacity"]), f"{r['booked_per_day']:.0f}", layout_label(str(r["layout"])),
                  str(r["total_windows"]), _num(r["service_level_lower_bound"], 1, True)]
                 for r in plan["slots"]]
        out += ["", say("report.h.slots"),
                table([say("report.col.slot_capacity"), say("report.col.booked_per_day"),
                       say("sim.col.layout"), say("sim.col.windows"), say("sim.col.sl_lower")], srows)]
    return "\n".join(out)


def compare_text(cmp: Mapping[str, Any]) -> str:
    """`hall sim compare`: each layout's figures side by side."""
    title = say("sim.compare.title", hall=_hall(cmp), days=cmp.get("days"))
    from sim.report import variant_name

    rows = [[variant_name(name), str(r.get("windows", "–")), _est(r["wait_minutes"]["mean"]), _est(r["wait_minutes"]["p90"]),
             _est(r.get("service_level"), 1, True), _est(r.get("abandonment_rate"), 1, True)]
            for name, r in cmp["layouts"].items()]
    head = [say("sim.col.layout"), say("sim.col.windows"), say("sim.col.mean_wait"), say("sim.col.p90_wait"),
            say("sim.col.service_level"), say("sim.col.abandonment")]
    return title + "\n\n" + table(head, rows)


def capping_zone_windows(layout_raw: Mapping[str, Any], demand_raw: Mapping[str, Any]) -> dict[str, list[str]]:
    """Categories with demand that no added 无差别 window serves, each with the zone windows
    that alone serve it: adding 无差别 windows cannot lift their service level, so they cap
    the hall's. Keys and values are labels a person reads ("F 户籍办理": ["8号"])."""
    windows = list(layout_raw.get("windows", []))
    comprehensive = [w for w in windows if w.get("kind", "comprehensive") == "comprehensive"]
    # sim.variants.with_comprehensive gives every added window the first one's categories.
    serves = _codes(comprehensive[0].get("serves", "*")) if comprehensive else "*"
    if serves == "*":
        return {}
    names = {c["code"]: c.get("name", c["code"]) for c in layout_raw.get("categories", [])}
    demanded = [code for code, c in (demand_raw.get("categories") or {}).items()
                if sum(x for x in c.get("arrivals", []) if isinstance(x, int | float)) > 0]
    out: dict[str, list[str]] = {}
    for code in demanded:
        if code in serves:
            continue
        only = [f"{w['number']}号" for w in windows
                if w.get("kind", "comprehensive") != "comprehensive"
                and (w.get("serves", "*") == "*" or code in _codes(w.get("serves")))]
        out[f"{code} {names.get(code, '')}".strip()] = only
    return out


def _codes(serves: Any) -> set[str] | str:
    """A layout's `serves` ("*", ["A", {category = "B", weight = 2}]) as category codes."""
    if serves == "*":
        return "*"
    return {x["category"] if isinstance(x, Mapping) else str(x) for x in serves or []}
