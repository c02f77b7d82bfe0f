"""Service-level alerts, pure: which alerts hold for a view of the hall now.

Kinds (limits per hall, settings `operations.alerts`; a limit of 0 switches the kind off):
- `waiting_per_window` — people waiting in a zone per open window serving that zone (or, with
  no zone figures, in the whole hall per open window) above `waiting_per_window` (default 10,
  the usual 潮汐 trigger); the alert's subject is the zone code (or "hall");
- `longest_wait` — the longest current wait above `longest_wait_minutes` (default 30);
- `window_paused` — a window paused longer than `pause_minutes` (default 30);
- `device_offline` — a device reported offline.

`evaluate` returns the active alerts keyed by `(kind, subject)`; `diff` against the previously
active keys says what to raise and what to clear, so a caller stores and notifies only changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["AlertRules", "HallView", "WindowView", "Alert", "evaluate", "diff"]


@dataclass(frozen=True)
class AlertRules:
    waiting_per_window: float = 10.0
    longest_wait_minutes: float = 30.0
    pause_minutes: float = 30.0
    device_offline: bool = True

    @classmethod
    def from_settings(cls, raw: Mapping[str, Any] | None) -> AlertRules:
        raw = dict(raw or {})
        unknown = set(raw) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown alert rule(s): {', '.join(sorted(unknown))}")
        return cls(**raw)


@dataclass(frozen=True)
class WindowView:
    number: int
    open: bool  # staffed and not paused
    paused_since: float | None = None


@dataclass(frozen=True)
class HallView:
    """What the alert check needs: waiting count, open windows, the longest wait so far (on
    `queueing.metrics`' definition, hall.core.queries.longest_waits), pauses, offline devices."""

    waiting: int
    windows: Sequence[WindowView]
    longest_wait_seconds: float | None = None
    offline_devices: Sequence[str] = ()
    by_zone: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # zone -> (waiting, open windows)
    zone_names: Mapping[str, str] = field(default_factory=dict)  # for the messages


@dataclass(frozen=True)
class Alert:
    kind: str
    subject: str
    value: float
    limit: float
    message: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.subject)


def evaluate(view: HallView, rules: AlertRules, now: float) -> dict[tuple[str, str], Alert]:
    """The alerts that hold now."""
    out: list[Alert] = []
    open_windows = sum(1 for w in view.windows if w.open)
    loads = dict(view.by_zone) if view.by_zone else {"hall": (view.waiting, open_windows)}
    if rules.waiting_per_window > 0:
        for subject, (waiting, open_n) in sorted(loads.items()):
            if waiting <= 0:
                continue
            # No open window with people waiting is the worst case: alert whatever the limit.
            per = waiting / open_n if open_n else float(waiting)
            if per > rules.waiting_per_window or open_n == 0:
                where = "" if subject == "hall" else view.zone_names.get(subject, subject)
                out.append(Alert(
                    "waiting_per_window", subject, round(per, 2), rules.waiting_per_window,
                    f"{where}每个开放窗口等候{per:.1f}人，超过{rules.waiting_per_window:g}人"
                    if open_n else f"{where}{waiting}人等候，无开放窗口",
                ))
    if rules.longest_wait_minutes > 0 and view.longest_wait_seconds is not None:
        minutes = view.longest_wait_seconds / 60.0
        if minutes > rules.longest_wait_minutes:
            out.append(Alert(
                "longest_wait", "hall", round(minutes, 1), rules.longest_wait_minutes,
                f"最长等候{minutes:.0f}分钟，超过{rules.longest_wait_minutes:g}分钟",
            ))
    if rules.pause_minutes > 0:
        for w in view.windows:
            if w.paused_since is None:
                continue
            minutes = (now - w.paused_since) / 60.0
            if minutes > rules.pause_minutes:
                out.append(Alert(
                    "window_paused", str(w.number), round(minutes, 1), rules.pause_minutes,
                    f"{w.number}号窗口暂停{minutes:.0f}分钟，超过{rules.pause_minutes:g}分钟",
                ))
    if rules.device_offline:
        for device in view.offline_devices:
            out.append(Alert("device_offline", device, 1.0, 0.0, f"设备{device}离线"))
    return {a.key: a for a in out}


def diff(
    active: Mapping[tuple[str, str], Any], now_holding: Mapping[tuple[str, str], Alert]
) -> tuple[list[Alert], list[tuple[str, str]]]:
    """(alerts to raise, keys to clear) going from `active` to `now_holding`."""
    raise_ = [a for k, a in now_holding.items() if k not in active]
    clear = [k for k in active if k not in now_holding]
    return raise_, clear
