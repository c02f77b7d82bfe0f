"""A self-contained HTML report of a simulation (inline SVG charts; works offline, prints well).

`render_run(result)` takes the JSON of `hall sim run` (optionally with an `analytic` block) and
`render_plan(plan)` / `render_compare(compare)` those of `plan` and `compare`. No scripts, no
external files: one page a planner can mail to the director.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["render_run", "render_plan", "render_compare"]

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em auto;max-width:980px;
color:#1a1a1a;line-height:1.5}
h1{font-size:1.6em;border-bottom:3px solid #b22222;padding-bottom:.3em}
h2{font-size:1.2em;margin-top:1.8em;color:#8b1a1a}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.3em .7em;text-align:right}
th{background:#f4f0ec}td:first-child,th:first-child{text-align:left}
.kpi{display:inline-block;margin:.4em 1.2em .4em 0;padding:.6em 1em;border:1px solid #ddd;border-radius:6px}
.kpi b{display:block;font-size:1.6em}.note{color:#555;font-size:.9em}
svg text{font-size:11px;fill:#333}
"""


def _fmt(x: Any, digits: int = 1, pct: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * x:.{digits}f}%" if pct else f"{x:.{digits}f}"


def _est(e: Mapping[str, Any] | None, digits: int = 1, pct: bool = False,
         clip: bool = True) -> str:
    """value [lo, hi]; the interval is shown clipped to what the quantity can be (a share in
    [0, 1], a time or count at least 0), as `sim.results` already clips the JSON."""
    if not e:
        return "–"
    lo, hi = e.get("ci95", [None, None])
    if clip:
        lo = None if lo is None else max(lo, 0.0)
        hi = None if hi is None else (min(hi, 1.0) if pct else hi)
    return (f"{_fmt(e.get('value'), digits, pct)} <span class=note>"
            f"[{_fmt(lo, digits, pct)}, {_fmt(hi, digits, pct)}]</span>")


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=zh-CN><head><meta charset=utf-8><title>{html.escape(title)}"
            f"</title><style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>{body}"
            "</body></html>\n")


def _bars(labels: Sequence[str], values: Sequence[float | None],
          cis: Sequence[Sequence[float | None]] | None, *, pct: bool, target: float | None = None,
          width: int = 900, height: int = 240, ymax: float | None = None) -> str:
    """Vertical bars with 95% whiskers and an optional target line."""
    n = max(len(values), 1)
    left, bottom, top = 44, 30, 12
    plot_w, plot_h = width - left - 10, height - bottom - top
    vals = [v for v in values if v is not None and not math.isnan(v)]
    hi_vals = [c[1] for c in (cis or []) if c and c[1] is not None]
    top_v = ymax if ymax is not None else max([*vals, *hi_vals, target or 0, 1e-9]) * 1.1
    bw = plot_w / n
    out = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img">']
    for k in range(5):
        y = top + plot_h - plot_h * k / 4
        tick = top_v * k / 4
        out.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                   f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">'
                   f'{_fmt(tick, 0, pct) if pct else _fmt(tick, 1)}</text>')
    for i, v in enumerate(values):
        x = left + i * bw
        if v is not None and not math.isnan(v):
            h = plot_h * min(v, top_v) / top_v
            color = "#b22222" if target is not None and v < target else "#2e6da4"
            out.append(f'<rect x="{x + bw * .15:.1f}" y="{top + plot_h - h:.1f}" width="{bw * .7:.1f}"'
                       f' height="{h:.1f}" fill="{color}"><title>{html.escape(labels[i])}: '
                       f'{_fmt(v, 1, pct)}</title></rect>')
        lo, hi = cis[i] if cis and cis[i] else (None, None)
        if lo is not None and hi is not None:
            y1 = top + plot_h - plot_h * min(lo, top_v) / top_v
            y2 = top + plot_h - plot_h * min(hi, top_v) / top_v
            cx = x + bw / 2
            out.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y1:.1f}" y2="{y2:.1f}" stroke="#333"/>')
        if n <= 24 or i % max(1, n // 24) == 0:
            out.append(f'<text x="{x + bw / 2:.1f}" y="{height - 10}" text-anchor="middle">'
                       f'{html.escape(labels[i])}</text>')
    if target is not None:
        y = top + plot_h - plot_h * target / top_v
        out.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#b22222"'
                   ' stroke-dasharray="6 4"/>')
    out.append("</svg>")
    return "".join(out)


def _line(labels: Sequence[str], series: Mapping[str, Sequence[Mapping[str, Any]]],
          width: int = 900, height: int = 260) -> str:
    """Lines with shaded 95% bands, one per series."""
    colors = ["#2e6da4", "#d98c1f", "#3a8c3a"]
    left, bottom, top = 44, 30, 12
    plot_w, plot_h = width - left - 10, height - bottom - top
    n = max(len(labels), 2)
    top_v = max([(r.get("ci95") or [0, 0])[1] or 0 for s in series.values() for r in s] + [1]) * 1.1

    def xy(i: int, v: float) -> str:
        return f"{left + plot_w * i / (n - 1):.1f},{top + plot_h - plot_h * v / top_v:.1f}"

    out = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img">']
    for k in range(5):
        y = top + plot_h - plot_h * k / 4
        out.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                   f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{top_v * k / 4:.0f}</text>')
    for j, (name, rows) in enumerate(series.items()):
        color = colors[j % len(colors)]
        vals = [(r.get("value") or 0.0) for r in rows]
        los = [((r.get("ci95") or [0, 0])[0] or 0.0) for r in rows]
        his = [((r.get("ci95") or [0, 0])[1] or 0.0) for r in rows]
        band = " ".join(xy(i, v) for i, v in enumerate(his)) + " " + " ".join(
            xy(i, v) for i, v in reversed(list(enumerate(los))))
        out.append(f'<polygon points="{band}" fill="{color}" opacity=".18"/>')
        out.append(f'<polyline points="{" ".join(xy(i, v) for i, v in enumerate(vals))}" '
                   f'fill="none" stroke="{color}" stroke-width="2"/>')
        out.append(f'<text x="{left + 10 + 120 * j}" y="{top + 12}" fill="{color}" '
                   f'style="fill:{color}">■ {html.escape(name)}</text>')
    step = max(1, len(labels) // 12)
    for i in range(0, len(labels), step):
        x = left + plot_w * i / (n - 1)
        out.append(f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle">'
                   f'{html.escape(labels[i])}</text>')
    out.append("</svg>")
    return "".join(out)


def _summary(result: Mapping[str, Any]) -> str:
    w = result.get("wait_minutes", {})
    sl = result.get("service_level", {})
    kpis = [
        ("平均等候 (分钟) mean wait, served", _est(w.get("mean_served", w.get("mean")))),
        ("平均等候 (分钟) mean wait, all arrivals", _est(w.get("mean_all_arrivals"))),
        (f"{_fmt(sl.get('within_minutes'), 0)}分钟内办理率 service level", _est(sl, 1, True)),
        (f"{_fmt(sl.get('within_minutes'), 0)}分钟内叫号占到达 called within, of all arrivals",
         _est(sl.get("share_called_within"), 1, True)),
        ("90%分位等候 p90 wait", _est(w.get("p90"))),
        ("放弃率 abandonment", _est(result.get("abandonment_rate"), 1, True)),
        ("窗口利用率 utilisation", _est(result.get("utilisation"), 1, True)),
        ("超时 (分钟) overtime", _est(result.get("overtime_minutes"))),
    ]
    return "".join(f'<div class=kpi>{html.escape(k)}<b>{v}</b></div>' for k, v in kpis)


def _table(rows: Sequence[Sequence[str]], head: Sequence[str]) -> str:
    h = "".join(f"<th>{html.escape(x)}</th>" for x in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{h}</tr>{body}</table>"


def render_run(result: Mapping[str, Any], title: str | None = None) -> str:
    """The report of one configuration (`hall sim run --html`)."""
    name = title or f"{result.get('hall', '')} {result.get('profile', '')} 仿真报告"
    return _page(name, _run_body(result))


def _run_body(result: Mapping[str, Any]) -> str:
    parts = [f"<p class=note>{result.get('days')} simulated days, seed {result.get('seed')}, "
             f"{result.get('windows')} windows. Figures are means across days with 95% "
             "confidence intervals in brackets.</p>", _summary(result)]
    w = result.get("wait_minutes", {})
    parts.append("<h2>等候时间 Waiting time (minutes)</h2>")
    parts.append(_table([[k, _est(w.get(k))] for k in ("mean_served", "mean_all_arrivals", "p50", "p90", "p95")],
                        ["statistic", "value [95% CI]"]))
    sl = result.get("service_level", {})
    by_hour = sl.get("by_hour", [])
    if by_hour:
        parts.append(f"<h2>分时段办理率 Service level by hour of arrival (≤ "
                     f"{_fmt(sl.get('within_minutes'), 0)} min)</h2>")
        parts.append(_bars([r["hour"] for r in by_hour], [r.get("value") for r in by_hour],
                           [r.get("ci95") for r in by_hour], pct=True,
                           target=result.get("target_share"), ymax=1.0))
        parts.append("<p class=note>A backlog after the peak hides inside a daily average; red bars "
                     "fall below the target.</p>")
    q = result.get("queue_length", {})
    if q.get("waiting"):
        parts.append("<h2>排队人数 People waiting and in the hall through the day</h2>")
        parts.append(_line([r["time"] for r in q["waiting"]],
                           {"waiting 等候": q["waiting"], "in hall 在厅": q["in_hall"]}))
    util = result.get("utilisation", {}).get("by_window", {})
    if util:
        parts.append("<h2>窗口利用率 Utilisation per window</h2>")
        parts.append(_bars(list(util), [u.get("value") for u in util.values()],
                           [u.get("ci95") for u in util.values()], pct=True, ymax=1.0))
    if result.get("analytic"):
        a = result["analytic"]
        parts.append("<h2>解析参考 Analytic reference</h2>")
        parts.append(_table([[html.escape(str(k)), html.escape(str(v))] for k, v in a.items()
                             if k != "windows_needed"], ["quantity", "value"]))
        needed = a.get("windows_needed")
        if needed:
            parts.append("<p class=note>Windows a pooled hall would need per interval by lag-SIPP "
                         "(Erlang C on each interval's load, shifted by the mean service time):</p>")
            parts.append(_bars(list(needed), list(needed.values()), None, pct=False, height=200))
    return "".join(parts)


def render_plan(plan: Mapping[str, Any]) -> str:
    """The report of `hall sim plan`: the answer, the candidates tried, and the chosen layout."""
    t = plan["target"]
    what = {"pooled": "无差别 windows", "comprehensive": "无差别 windows beside the zone windows",
            "split": f"windows ({html.escape(str(plan.get('layout', '')))})"}[plan["mode"]]
    parts = [f"<p><b>{plan['windows']}</b> {what} "
             f"(total {plan['total_windows']}) are the fewest for {t['share']:.0%} of people to wait "
             f"at most {t['within_minutes']:g} minutes with {t['confidence']:.0%} confidence, over "
             f"{plan['days']} simulated days (seed {plan['seed']}).</p>",
             f"<p class=note>Analytic start ({html.escape(plan['analytic']['method'])}): "
             f"{plan['analytic']['windows']} windows; search took {plan['seconds']} s.</p>"]
    dd = plan.get("design_day")
    if dd:
        extra = (f", overdispersion {dd['overdispersion']:g}, forecast error "
                 f"{dd['forecast_error']:g}, growth {dd['growth']:g}") if dd.get("variation") else ""
        parts.append("<h2>设计日 Design day</h2>")
        parts.append(f"<p>{html.escape(str(dd['rule']))}: volume × {dd['volume_factor']:g} of the "
                     f"profile, about {dd['expected_people']:g} people{html.escape(extra)}.</p>")
    table = plan.get("sensitivity")
    if table:
        parts.append("<h2>敏感性 Sensitivity (service level, lower bound)</h2>")
        srows = [[html.escape(str(r["layout"]))] + [
            f"{_fmt(c['service_level'], 1, True)} <span class=note>"
            f"[≥ {_fmt(c['service_level_lower_bound'], 1, True)}]</span>"
            f"{'' if c['meets'] else ' ✘'}" for c in r["cases"]] for r in table["rows"]]
        parts.append(_table(srows, ["layout", *table["cases"]]))
    weak = plan.get("weak_hours")
    if weak is not None:
        parts.append("<h2>薄弱时段 Weak hours of the chosen size</h2>")
        parts.append(_table([[html.escape(w["hour"]), _fmt(w["service_level"], 1, True)]
                             for w in weak], ["hour of arrival", "service level"])
                     if weak else "<p>None: every hour meets the target.</p>")
    rows = [[html.escape(str(x.get("layout", x["windows"]))),
             _fmt(x["service_level_lower_bound"], 1, True),
             _est(x.get("mean_wait_minutes")), "✔" if x["meets"] else "✘"] for x in plan["tried"]]
    parts.append("<h2>候选方案 Candidates</h2>")
    parts.append(_table(rows, ["layout", "service level (lower bound)", "mean wait [95% CI]",
                               "meets"]))
    parts.append(_bars([str(x["windows"]) for x in plan["tried"]],
                       [x["service_level_lower_bound"] for x in plan["tried"]], None, pct=True,
                       target=t["share"], ymax=1.0))
    res = {**plan["result"], "target_share": t["share"], "seed": plan["seed"],
           "windows": plan["total_windows"]}
    parts.append("<h2>推荐方案 The recommended layout</h2>")
    parts.append(_run_body(res))
    return _page("窗口数量规划 Window planning", "".join(parts))


def render_compare(cmp: Mapping[str, Any]) -> str:
    """The report of `hall sim compare`: each layout, and paired differences with intervals."""
    rows = []
    for name, r in cmp["layouts"].items():
        rows.append([html.escape(name), str(r["windows"]), _est(r["wait_minutes"]["mean"]),
                     _est(r["wait_minutes"]["p90"]), _est(r["service_level"], 1, True),
                     _est(r["abandonment_rate"], 1, True)])
    parts = [f"<p class=note>{cmp['days']} days on seed {cmp['seed']}; every layout sees the same "
             "people (common random numbers).</p>",
             _table(rows, ["layout", "windows", "mean wait", "p90 wait", "service level",
                           "abandonment"])]
    parts.append("<h2>配对差异 Paired differences (layout − baseline)</h2>")
    drows = []
    for name, d in cmp["paired_differences"].items():
        drows.append([html.escape(name), _est(d["mean_wait_minutes"], 2, clip=False),
                      _est(d["p90_wait_minutes"], 2, clip=False),
                      _est(d["service_level"], 1, True, clip=False),
                      _est(d["abandonment_rate"], 2, True, clip=False)])
    parts.append(_table(drows, ["difference", "mean wait", "p90 wait", "service level",
                                "abandonment"]))
    names = list(cmp["layouts"])
    parts.append("<h2>平均等候 Mean wait (minutes)</h2>")
    parts.append(_bars(names, [cmp["layouts"][n]["wait_minutes"]["mean"]["value"] for n in names],
                       [cmp["layouts"][n]["wait_minutes"]["mean"]["ci95"] for n in names],
                       pct=False))
    return _page("布局比较 Layout comparison", "".join(parts))
