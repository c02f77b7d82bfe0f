"""Subcommands of `hall` owned by this package (see hall/cli.py): `hall sim …`.

    hall sim run       --layout L --demand D --days N --seed S [--out result.json] [--html r.html]
    hall sim plan      --layout L --demand D [--target 0.9 --within 15 --confidence 0.95]
                       [--mode pooled|comprehensive|split]
    hall sim compare   --layout L --demand D [--layout L2 …]   (one layout: hybrid/pooled/dedicated)
    hall sim calibrate --events FILE.jsonl --layout L [--bookings B.jsonl] [--period N:FROM:TO]
                      --out demand.toml
    hall sim replay    --events FILE.jsonl --layout L [--as-recorded RECORDED_LAYOUT]
    hall sim live      --url http://127.0.0.1:8000 --hall CODE --demand D --layout L [--speed 60]

run, plan and compare print a short table of the answer (sim.report_text); `--json` prints the
full JSON instead and `--out` writes it to a file. Progress goes to stderr, also when it is not a
terminal (a planner running it under nohup still sees it move; `--quiet` silences it).

Bad input (a layout or profile error) prints `输入有误：FIELD: WHY` and exits with status 2 before
anything runs. Heavy imports happen inside the handlers so `hall --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sim.variation import DESIGN_DAYS

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to the `hall` parser."""
    p = sub.add_parser("sim", help="simulate a hall, plan windows, compare layouts")
    s = p.add_subparsers(dest="sim_command", required=True, metavar="SIM_COMMAND")

    def common(q: argparse.ArgumentParser, days: int = 20) -> None:
        q.add_argument("--days", type=int, default=days, help="replications (simulated days)")
        q.add_argument("--seed", type=int, default=1)
        q.add_argument("--workers", type=int, default=0, help="processes (0: one per core)")
        q.add_argument("--scheduler", default=None,
                       help="a Dask scheduler (tcp://host:8786) to run the days on; default "
                            "$HALL_DASK_SCHEDULER (needs the cluster extra)")
        q.add_argument("--out", help="also write the JSON result to this file")
        q.add_argument("--json", action="store_true", help="print the JSON result instead of the table")
        q.add_argument("--html", help="also write a self-contained HTML report here")
        q.add_argument("--progress", action="store_true", help="progress on stderr (the default; kept for scripts)")
        q.add_argument("--quiet", action="store_true", help="no progress on stderr")
        q.add_argument("--scale", type=float, default=1.0,
                       help="multiply every arrival rate (what-if growth, e.g. 1.2)")

    q = s.add_parser("run", help="simulate one configuration")
    q.add_argument("--layout", required=True)
    q.add_argument("--demand", required=True)
    common(q)
    q.set_defaults(func=_run)

    q = s.add_parser("plan", help="fewest windows meeting a service-level target")
    q.add_argument("--layout", required=True)
    q.add_argument("--demand", required=True)
    q.add_argument("--target", type=float, default=0.9, help="share served within --within")
    q.add_argument("--within", type=float, default=15.0, help="minutes")
    q.add_argument("--confidence", type=float, default=0.95)
    q.add_argument("--mode", choices=["pooled", "comprehensive", "split"], default="pooled",
                   help="pooled: only 无差别 windows; comprehensive: keep the zone windows and "
                        "find how many 无差别 windows to add beside them; split: the fewest "
                        "windows in all, split between 无差别 and zone windows")
    q.add_argument("--design-day", choices=list(DESIGN_DAYS), default=None,
                   help="the day to size for: p90 = the 90th-percentile day of the profile's "
                        "[variation] (the default when it has one), profile = as written, "
                        "weekdays = the busiest weekday")
    q.add_argument("--slots", type=_capacities, default=None, metavar="N,N,…",
                   help="also size the booking slots: the fewest windows for each number of "
                        "places per slot (the profile must have a booking table)")
    q.add_argument("--no-sensitivity", action="store_true",
                   help="skip the sensitivity table (−10%%…+30%% demand, +15%% service time)")
    common(q)
    q.set_defaults(func=_plan)

    q = s.add_parser("compare", help="layouts side by side with paired differences")
    q.add_argument("--layout", required=True, action="append",
                   help="repeat to compare several; one layout compares hybrid/pooled/dedicated")
    q.add_argument("--demand", required=True)
    common(q)
    q.set_defaults(func=_compare)

    q = s.add_parser("calibrate", help="fit a demand profile from an exported event log")
    q.add_argument("--events", required=True, help="JSONL from `hall export events`")
    q.add_argument("--layout", required=True)
    q.add_argument("--interval", type=int, default=30, help="minutes per arrival interval")
    q.add_argument("--bookings", help="JSONL of booking records {category, start, status}: "
                                      "fits booking no-shows (the event log alone cannot)")
    q.add_argument("--period", action="append", default=[], metavar="NAME:FROM:TO",
                   help="a calendar period whose factor to fit, e.g. 开学:2026-08-25:2026-09-05 "
                        "(repeat for several)")
    q.add_argument("--out", help="demand TOML to write (default: standard output)")
    q.set_defaults(func=_calibrate)

    q = s.add_parser("replay", help="re-run recorded days' people under a layout (what-if)")
    q.add_argument("--events", required=True)
    q.add_argument("--layout", required=True, help="the layout to try")
    q.add_argument("--hours", choices=["activity", "layout"], default="activity",
                   help="windows work while the recorded hall did (default) or the layout's hours")
    q.add_argument("--out")
    q.add_argument("--html")
    q.set_defaults(func=_replay)

    q = s.add_parser("live", help="drive a running server with simulated people and staff")
    q.add_argument("--url", required=True)
    q.add_argument("--hall", required=True)
    q.add_argument("--layout", required=True)
    q.add_argument("--demand", required=True)
    q.add_argument("--username", default="admin")
    q.add_argument("--password-file", help="file holding the password (default: stdin)")
    q.add_argument("--token", help="a bearer token instead of logging in")
    q.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second")
    q.add_argument("--minutes", type=float, default=0, help="stop after this much simulated time")
    q.add_argument("--seed", type=int, default=1)
    q.add_argument("--days", type=int, default=1,
                   help="days to run one after another (0: until interrupted, as demo traffic)")
    q.set_defaults(func=_live)


def _read_toml(path: str) -> dict[str, Any]:
    p = Path(path)
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SystemExit(_fail_said("cli.no_file", path=path)) from None
    except tomllib.TOMLDecodeError as e:
        raise SystemExit(_fail_said("cli.bad_toml", path=path, message=str(e))) from None


def _capacities(text: str) -> list[int]:
    """--slots 0,2,4: places per booking slot to try."""
    try:
        out = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of whole numbers") from None
    if not out or any(x < 0 for x in out) or len(out) > 12:
        raise argparse.ArgumentTypeError("give 1 to 12 whole numbers at least 0, e.g. 0,2,4")
    return out


def _fail(message: str) -> int:
    from displays.messages import say

    # The field path stays as written in the file, so the planner can find the line.
    print(say("sim.bad_input", message=message), file=sys.stderr)
    return 2


def _fail_said(code: str, **fields: Any) -> int:
    from displays.messages import say

    print(say(code, **fields), file=sys.stderr)
    return 2


def _use_scheduler(args: argparse.Namespace) -> None:
    """--scheduler reaches every run of the command through the runner's environment default."""
    import os

    from sim.runner import SCHEDULER_ENV

    if getattr(args, "scheduler", None):
        os.environ[SCHEDULER_ENV] = args.scheduler


def _workers(n: int) -> int:
    from sim.runner import default_workers

    return n if n > 0 else default_workers()


def _emit(result: Any, out: str | None) -> None:
    text = json.dumps(result, ensure_ascii=False, indent=2, sort_keys=False)
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)


def _answer(result: Mapping[str, Any], args: argparse.Namespace, table: Callable[[Any], str]) -> None:
    """The table for people on stdout (or the JSON with --json); the JSON file with --out."""
    from displays.messages import say

    if args.out:
        _emit(result, args.out)
    if getattr(args, "json", False):
        _emit(result, None)
        return
    print(table(result))
    print()
    print(say("sim.out_written", path=args.out) if args.out else say("sim.json_hint"))
    if args.html:
        print(say("sim.html_written", path=args.html))


def _log(args: argparse.Namespace) -> Callable[[str], None] | None:
    """Progress lines on stderr unless --quiet."""
    if getattr(args, "quiet", False):
        return None

    def log(line: str) -> None:
        print(_progress_words(line), file=sys.stderr, flush=True)

    return log


_CANDIDATE = re.compile(r"^(?P<layout>.+): service level ≥ (?P<lb>[\d.]+) \((?P<verdict>meets|short of) (?P<share>\d+%)\)$")


_COMPARED = re.compile(r"^(?P<layout>.+): mean wait (?P<minutes>[\d.]+) min$")


def _progress_words(line: str) -> str:
    """The planner's line for a candidate in words ("5 无差别：达标率下限 94.5%，达到 90%");
    any other line as it came."""
    from displays.messages import say
    from sim.report import layout_label

    m = _COMPARED.match(line)
    if m is not None:
        from sim.report import variant_name

        return say("sim.compare.progress", layout=variant_name(m["layout"]), minutes=f"{float(m['minutes']):.1f}")
    m = _CANDIDATE.match(line)
    if m is None:
        return line
    return say("sim.plan.candidate", layout=layout_label(m["layout"]), lb=f"{float(m['lb']):.1%}",
               verdict=say("sim.plan.meets" if m["verdict"] == "meets" else "sim.plan.short"), share=m["share"])


def _hall_name(layout_raw: Mapping[str, Any]) -> str:
    hall = layout_raw.get("hall") or {}
    return str(hall.get("name") or hall.get("code") or "")


def _validated(layout_path: str, demand_path: str,
               scale: float = 1.0) -> tuple[dict[str, Any], dict[str, Any]]:
    from queueing.layout import LayoutError, parse_layout
    from sim.demand import DemandError, parse_demand, scale_raw

    layout_raw, demand_raw = _read_toml(layout_path), _read_toml(demand_path)
    try:
        if scale != 1.0:
            demand_raw = scale_raw(demand_raw, scale)
        parse_demand(demand_raw, parse_layout(layout_raw))
    except (LayoutError, DemandError) as e:
        raise SystemExit(_fail(str(e))) from None
    return layout_raw, demand_raw


def _run(args: argparse.Namespace) -> int:
    from displays.messages import say
    from sim.analytic_ref import reference
    from sim.report import render_run
    from sim.report_text import run_text
    from sim.runner import Config, Progress, run_config

    layout_raw, demand_raw = _validated(args.layout, args.demand, args.scale)
    _use_scheduler(args)
    config = Config(layout_raw, demand_raw)
    bar = Progress(args.days, say("sim.progress"), not args.quiet)
    try:
        result = run_config(config, args.days, args.seed, _workers(args.workers), bar.advance)
    except ValueError as e:  # a Dask scheduler that cannot be used
        return _fail(str(e))
    layout, demand = config.parsed()
    result["hall_name"] = layout.name
    result["analytic"] = reference(layout, demand)
    if args.html:
        Path(args.html).write_text(render_run(result), encoding="utf-8")
    _answer(result, args, run_text)
    return 0


def _plan(args: argparse.Namespace) -> int:
    from sim.demand import DemandError
    from sim.planning import Target, plan
    from sim.report import render_plan
    from sim.report_text import plan_text

    layout_raw, demand_raw = _validated(args.layout, args.demand, args.scale)
    _use_scheduler(args)
    try:
        target = Target(args.target, args.within, args.confidence)
    except ValueError as e:
        return _fail(str(e))

    try:
        result = plan(layout_raw, demand_raw, target, args.days, args.seed,
                      _workers(args.workers), args.mode, _log(args), design=args.design_day,
                      with_sensitivity=not args.no_sensitivity, slot_capacities=args.slots)
    except DemandError as e:
        return _fail(str(e))
    except ValueError as e:  # e.g. no layout up to the limit meets the target
        return _unmeetable(str(e), layout_raw, demand_raw, target, args.mode)
    result["hall_name"] = _hall_name(layout_raw)
    if args.html:
        Path(args.html).write_text(render_plan(result), encoding="utf-8")
    _answer(result, args, plan_text)
    return 0


def _unmeetable(message: str, layout_raw: Mapping[str, Any], demand_raw: Mapping[str, Any],
                target: Any, mode: str) -> int:
    """Why no layout meets the target, in words: which zone windows cap it, when they do."""
    from displays.messages import say
    from sim.report_text import capping_zone_windows

    if "no layout up to" not in message:
        return _fail(message)
    limit = message.split("no layout up to", 1)[1].split()[0]
    lines = [say("sim.unmeetable", limit=limit, share=f"{target.share:.0%}", within=f"{target.within_minutes:g}")]
    capped = capping_zone_windows(layout_raw, demand_raw) if mode == "comprehensive" else {}
    if capped:
        lines.append(say("sim.unmeetable.capped", categories="、".join(capped),
                         windows="；".join(f"{c}：{'、'.join(ws)}" for c, ws in capped.items())))
    print("\n".join(lines), file=sys.stderr)
    return 2


def _compare(args: argparse.Namespace) -> int:
    from sim.planning import compare, standard_variants
    from sim.report import render_compare
    from sim.report_text import compare_text

    pairs = [_validated(path, args.demand, args.scale) for path in args.layout]
    demand_raw = pairs[0][1]
    if len(pairs) == 1:
        layouts = standard_variants(pairs[0][0], demand_raw)
    else:
        layouts = {}
        for i, (path, (raw, _)) in enumerate(zip(args.layout, pairs, strict=True)):
            name = Path(path).stem
            layouts[name if name not in layouts else f"{name}-{i + 1}"] = raw

    _use_scheduler(args)
    try:
        result = compare(layouts, demand_raw, args.days, args.seed, _workers(args.workers), _log(args))
    except ValueError as e:  # a Dask scheduler that cannot be used
        return _fail(str(e))
    result["hall_name"] = _hall_name(pairs[0][0])
    if args.html:
        Path(args.html).write_text(render_compare(result), encoding="utf-8")
    _answer(result, args, compare_text)
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from queueing.layout import LayoutError, parse_layout
    from sim.calibrate import CalibrationError, calibrate, read_bookings, read_events, to_toml
    from sim.fit_calendar import parse_period

    try:
        layout = parse_layout(_read_toml(args.layout))
        bookings = read_bookings(args.bookings) if args.bookings else None
        periods = [parse_period(p) for p in args.period]
        fitted = calibrate(read_events(args.events), layout, args.interval, bookings=bookings,
                           periods=periods)
    except (LayoutError, CalibrationError, ValueError) as e:
        return _fail(str(e))
    text = to_toml(fitted)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


def _replay(args: argparse.Namespace) -> int:
    from queueing.layout import LayoutError, parse_layout
    from sim.calibrate import CalibrationError, read_events
    from sim.replay import replay
    from sim.report import render_run

    try:
        layout_raw = _read_toml(args.layout)
        parse_layout(layout_raw)
        result = replay(read_events(args.events), layout_raw, args.hours)
    except (LayoutError, CalibrationError, ValueError) as e:
        return _fail(str(e))
    _emit(result, args.out)
    if args.html:
        Path(args.html).write_text(render_run(result), encoding="utf-8")
    return 0


def _live(args: argparse.Namespace) -> int:
    from sim.live import LiveError, run_live

    layout_raw, demand_raw = _validated(args.layout, args.demand)
    token = args.token
    password = None
    if token is None:
        password = (Path(args.password_file).read_text(encoding="utf-8").strip()
                    if args.password_file else sys.stdin.readline().strip())
    day = 0
    try:
        while args.days <= 0 or day < args.days:
            summary = run_live(args.url, args.hall, layout_raw, demand_raw, speed=args.speed,
                               seed=args.seed + day, minutes=args.minutes, token=token,
                               username=args.username, password=password)
            _emit(summary, None)
            day += 1
    except LiveError as e:
        return _fail(str(e))
    except KeyboardInterrupt:
        return 130
    return 0
