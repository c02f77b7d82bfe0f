"""A self-contained HTML report of a simulation (inline SVG charts; works offline, prints well).

`render_run(result)` takes the JSON of `hall sim run` (optionally with an `analytic` block) and
`render_plan(plan)` / `render_compare(compare)` those of `plan` and `compare`. No scripts, no
external files: one page a planner can mail to the director. Every word is zh-CN from the one
catalogue (displays/messages/planner.toml): the JSON's keys never reach the page.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

from displays.messages import say

__all__ = ["render_run", "render_plan", "render_compare", "variant_name", "layout_label"]

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
          width: int = 900, height: int = 240, ymax: float | None = None, integer: bool = False) -> str:
    """Vertical bars with 95% whiskers and an optional target line; `integer` (counts such as
    windows) puts the value axis on whole numbers."""
    n = max(len(values), 1)
    left, bottom, top = 44, 30, 12
    plot_w, plot_h = width - left - 10, height - bottom - top
    vals = [v for v in values if v is not None and not math.isnan(v)]
    hi_vals = [c[1] for c in (cis or []) if c and c[1] is not None]
    top_v = ymax if ymax is not None else max([*vals, *hi_vals, target or 0, 1e-9]) * 1.1
    step = top_v / 4
    if integer:
        step = float(max(1, math.ceil(top_v / 4)))
        top_v = step * 4
    bw = plot_w / n
    out = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img">']
    for k in range(5):
        y = top + plot_h - plot_h * k / 4
        tick = step * k
        label = _fmt(tick, 0, pct) if pct else (f"{tick:.0f}" if integer else _fmt(tick, 1))
        out.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                   f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
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
    step = float(max(1, math.ceil(top_v / 4)))  # people: whole numbers on the value axis
    top_v = step * 4

    def xy(i: int, v: float) -> str:
        return f"{left + plot_w * i / (n - 1):.1f},{top + plot_h - plot_h * v / top_v:.1f}"

    out = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img">']
    for k in range(5):
        y = top + plot_h - plot_h * k / 4
        out.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                   f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{step * k:.0f}</text>')
    for j, (name, rows) in enumerate(series.items()):
        color = colors[j % len(colors)]
        vals = [(r.get("value") or 0.0) for r in rows]
        los = [max(0.0, (r.get("ci95") or [0, 0])[0] or 0.0) for r in rows]  # no fewer than nobody
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
        (say("report.kpi.mean_served"), _est(w.get("mean_served", w.get("mean")))),
        (say("report.kpi.mean_all"), _est(w.get("mean_all_arrivals"))),
        (say("sim.kpi.service_level", within=_fmt(sl.get("within_minutes"), 0)), _est(sl, 1, True)),
        (say("report.kpi.called_within", within=_fmt(sl.get("within_minutes"), 0)),
         _est(sl.get("share_called_within"), 1, True)),
        (say("sim.kpi.p90_wait"), _est(w.get("p90"))),
        (say("sim.kpi.abandonment"), _est(result.get("abandonment_rate"), 1, True)),
        (say("sim.kpi.utilisation"), _est(result.get("utilisation"), 1, True)),
        (say("report.kpi.overtime"), _est(result.get("overtime_minutes"))),
    ]
    return "".join(f'<div class=kpi>{html.escape(k)}<b>{v}</b></div>' for k, v in kpis)


def _table(rows: Sequence[Sequence[str]], head: Sequence[str]) -> str:
    h = "".join(f"<th>{html.escape(x)}</th>" for x in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{h}</tr>{body}</table>"


def _hall(result: Mapping[str, Any]) -> str:
    """The hall as people call it: its name (the CLI adds `hall_name`), else its code."""
    return str(result.get("hall_name") or result.get("hall") or "")


def render_run(result: Mapping[str, Any], title: str | None = None) -> str:
    """The report of one configuration (`hall sim run --html`)."""
    name = title or " ".join(x for x in (say("report.run.title", hall=_hall(result)), str(result.get("profile") or ""))
                             if x)
    return _page(name, _run_body(result))


def _analytic_value(key: str, value: Any) -> str:
    if key == "model":
        # "lag_sipp (pooled hall, …)" or "erlang_c": the method's name in words.
        method = str(value).split(" ", 1)[0]
        return say(f"report.model.{method}", fallback=say("report.model.other"))
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _run_body(result: Mapping[str, Any]) -> str:
    parts = [f"<p class=note>{html.escape(say('report.note.run', days=result.get('days'), seed=result.get('seed'), windows=result.get('windows')))}</p>",
             _summary(result)]
    w = result.get("wait_minutes", {})
    parts.append(f"<h2>{say('report.h.wait')}</h2>")
    parts.append(_table([[say(f"report.stat.{k}"), _est(w.get(k))]
                         for k in ("mean_served", "mean_all_arrivals", "p50", "p90", "p95")],
                        [say("sim.col.item"), say("sim.col.value")]))
    sl = result.get("service_level", {})
    by_hour = sl.get("by_hour", [])
    target = result.get("target_share")
    if by_hour:
        parts.append(f"<h2>{say('report.h.by_hour', within=_fmt(sl.get('within_minutes'), 0))}</h2>")
        parts.append(_bars([r["hour"] for r in by_hour], [r.get("value") for r in by_hour],
                           [r.get("ci95") for r in by_hour], pct=True, target=target, ymax=1.0))
        note = (say("report.note.target", share=_fmt(target, 0, True)) if target is not None
                else say("report.note.no_target"))
        parts.append(f"<p class=note>{html.escape(note)}</p>")
    q = result.get("queue_length", {})
    if q.get("waiting"):
        parts.append(f"<h2>{say('report.h.queue')}</h2>")
        parts.append(_line([r["time"] for r in q["waiting"]],
                           {say("report.series.waiting"): q["waiting"], say("report.series.in_hall"): q["in_hall"]}))
    util = result.get("utilisation", {}).get("by_window", {})
    if util:
        parts.append(f"<h2>{say('report.h.utilisation')}</h2>")
        # Window numbers alone under the bars: forty "n号窗口" labels would run into each other.
        parts.append(_bars(list(util), [u.get("value") for u in util.values()],
                           [u.get("ci95") for u in util.values()], pct=True, ymax=1.0))
    if result.get("analytic"):
        a = result["analytic"]
        parts.append(f"<h2>{say('report.h.analytic')}</h2>")
        parts.append(_table([[html.escape(say(f"report.key.{k}", fallback=say("report.key.other"))),
                              html.escape(_analytic_value(k, v))] for k, v in a.items()
                             if k not in ("windows_needed", "per_interval")],
                            [say("report.col.quantity"), say("report.col.value")]))
        needed = a.get("windows_needed")
        if needed:
            parts.append(f"<p class=note>{html.escape(say('report.note.lag_sipp'))}</p>")
            parts.append(_bars(list(needed), list(needed.values()), None, pct=False, height=200, integer=True))
    return "".join(parts)


def render_plan(plan: Mapping[str, Any]) -> str:
    """The report of `hall sim plan`: the answer, the candidates tried, and the chosen layout."""
    t = plan["target"]
    what = say(f"report.plan.what.{plan['mode']}", layout=layout_label(str(plan.get("layout", ""))))
    answer = say("report.plan.answer", windows=plan["windows"], what=what, total=plan["total_windows"],
                 share=f"{t['share']:.0%}", within=f"{t['within_minutes']:g}",
                 confidence=f"{t['confidence']:.0%}", days=plan["days"], seed=plan["seed"])
    start = say("report.plan.analytic", method=_analytic_value("model", plan["analytic"]["method"]),
                windows=plan["analytic"]["windows"], seconds=plan["seconds"])
    parts = [f"<p>{html.escape(answer)}</p>", f"<p class=note>{html.escape(start)}</p>"]
    dd = plan.get("design_day")
    if dd:
        extra = say("report.design.variation", overdispersion=f"{dd['overdispersion']:g}",
                    forecast_error=f"{dd['forecast_error']:g}", growth=f"{dd['growth']:g}") if dd.get("variation") else ""
        parts.append(f"<h2>{say('report.h.design_day')}</h2>")
        rule = say(f"report.design.rule.{dd['rule']}", fallback=say("report.design.rule.other"))
        day = say("report.design.day", rule=rule, factor=f"{dd['volume_factor']:g}",
                  people=f"{dd['expected_people']:g}", extra=extra)
        parts.append(f"<p>{html.escape(day)}</p>")
    table = plan.get("sensitivity")
    if table:
        parts.append(f"<h2>{say('report.h.sensitivity')}</h2>")
        srows = [[html.escape(layout_label(str(r["layout"])))] + [
            f"{_fmt(c['service_level'], 1, True)} <span class=note>"
            f"[≥ {_fmt(c['service_level_lower_bound'], 1, True)}]</span>"
            f"{'' if c['meets'] else ' ✘'}" for c in r["cases"]] for r in table["rows"]]
        parts.append(_table(srows, [say("sim.col.layout"), *(_case_label(c) for c in table["cases"])]))
    slots = plan.get("slots")
    if slots:
        parts.append(f"<h2>{say('report.h.slots')}</h2>")
        parts.append(_table([[str(r["capacity"]), _fmt(r["booked_per_day"], 0),
                              html.escape(layout_label(str(r["layout"]))), str(r["total_windows"]),
                              _fmt(r["service_level_lower_bound"], 1, True)] for r in slots],
                            [say("report.col.slot_capacity"), say("report.col.booked_per_day"),
                             say("sim.col.layout"), say("sim.col.windows"), say("sim.col.sl_lower")]))
    weak = plan.get("weak_hours")
    if weak is not None:
        parts.append(f"<h2>{say('report.h.weak_hours')}</h2>")
        parts.append(_table([[html.escape(w["hour"]), _fmt(w["service_level"], 1, True)]
                             for w in weak], [say("report.col.arrival_hour"), say("sim.col.service_level")])
                     if weak else f"<p>{say('report.weak.none')}</p>")
    rows = [[html.escape(layout_label(str(x.get("layout", x["windows"])))),
             _fmt(x["service_level_lower_bound"], 1, True),
             _est(x.get("mean_wait_minutes")), "✔" if x["meets"] else "✘"] for x in plan["tried"]]
    parts.append(f"<h2>{say('report.h.candidates')}</h2>")
    parts.append(_table(rows, [say("sim.col.layout"), say("sim.col.sl_lower"), say("sim.col.mean_wait"),
                               say("sim.col.meets")]))
    parts.append(_bars([str(x["windows"]) for x in plan["tried"]],
                       [x["service_level_lower_bound"] for x in plan["tried"]], None, pct=True,
                       target=t["share"], ymax=1.0))
    res = {**plan["result"], "target_share": t["share"], "seed": plan["seed"],
           "windows": plan["total_windows"]}
    parts.append(f"<h2>{say('report.h.recommended')}</h2>")
    parts.append(_run_body(res))
    return _page(say("report.plan.title", hall=_hall(plan)), "".join(parts))


def _case_label(case: str) -> str:
    """A sensitivity case's label ("demand +10%", "service time +15%") in words."""
    for english, code in (("service time", "report.case.service"), ("design day", "report.case.base"),
                          ("demand", "report.case.demand")):
        case = case.replace(english, say(code))
    return case.replace("-", "−")


def layout_label(label: str) -> str:
    """A candidate's label from the planner ("3 无差别 + 2 zone") in words."""
    return label.replace(" zone windows", " 分领域窗口").replace(" zone", " 分领域")


def variant_name(name: str) -> str:
    """A layout's name in a comparison: the standard variants in words, a file's stem as it is;
    a paired difference "a - b" as "a − b"."""
    if " - " in name:
        return " − ".join(variant_name(part) for part in name.split(" - ", 1))
    return say(f"sim.variant.{name}", fallback=name)


def render_compare(cmp: Mapping[str, Any]) -> str:
    """The report of `hall sim compare`: each layout, and paired differences with intervals."""
    rows = []
    for name, r in cmp["layouts"].items():
        rows.append([html.escape(variant_name(name)), str(r["windows"]), _est(r["wait_minutes"]["mean"]),
                     _est(r["wait_minutes"]["p90"]), _est(r["service_level"], 1, True),
                     _est(r["abandonment_rate"], 1, True)])
    parts = [f"<p class=note>{html.escape(say('report.note.compare', days=cmp['days'], seed=cmp['seed']))}</p>",
             _table(rows, [say("sim.col.layout"), say("sim.col.windows"), say("sim.col.mean_wait"),
                           say("sim.col.p90_wait"), say("sim.col.service_level"), say("sim.col.abandonment")])]
    parts.append(f"<h2>{say('report.h.paired')}</h2>")
    drows = []
    for name, d in cmp["paired_differences"].items():
        drows.append([html.escape(variant_name(name)), _est(d["mean_wait_minutes"], 2, clip=False),
                      _est(d["p90_wait_minutes"], 2, clip=False),
                      _est(d["service_level"], 1, True, clip=False),
                      _est(d["abandonment_rate"], 2, True, clip=False)])
    parts.append(_table(drows, [say("report.col.difference"), say("sim.col.mean_wait"), say("sim.col.p90_wait"),
                                say("sim.col.service_level"), say("sim.col.abandonment")]))
    names = list(cmp["layouts"])
    parts.append(f"<h2>{say('report.h.mean_wait')}</h2>")
    parts.append(_bars([variant_name(n) for n in names], [cmp["layouts"][n]["wait_minutes"]["mean"]["value"] for n in names],
                       [cmp["layouts"][n]["wait_minutes"]["mean"]["ci95"] for n in names],
                       pct=False))
    return _page(say("report.compare.title", hall=_hall(cmp)), "".join(parts))
