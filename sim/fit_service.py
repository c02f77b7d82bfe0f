"""Fitting service-time factors from the event log: by window kind, 无差别 against specialist, and
the spread between clerks (`sim.servicetime`).

Per category, the specialist baseline is the mean service at zone and dedicated windows (at
comprehensive windows for a category no specialist serves, which then has no generalist factor); a
category's generalist factor is its mean at comprehensive windows over that baseline, another
kind's factor the count-weighted ratio over categories with a baseline. Each service divided by
its window's factor is then the person's own time, from which the category's law is fitted.
Clerks: every (day, window) with at least `MIN_PER_CLERK` services gives a speed ratio (its own
times over their categories' means); the variance of the log ratio, less what the services' own
spread explains (cv² / n), is the clerks' log-variance. A factor needs `MIN_SAMPLES` services on
both sides; otherwise it is left out (1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from queueing.layout import HallLayout, WindowKind
from sim.eventlog import TicketLog

__all__ = ["fit_service_factors", "MIN_SAMPLES", "MIN_PER_CLERK"]

MIN_SAMPLES = 20
MIN_PER_CLERK = 5
_SPECIALIST = (WindowKind.ZONE.value, WindowKind.DEDICATED.value)


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs)


def fit_service_factors(tickets: Sequence[TicketLog], layout: HallLayout,
                        day_of: dict[Any, int]) -> tuple[dict[str, Any] | None,
                                                         dict[Any, float]]:
    """(`[service_factors]` table or None, each ticket id's fitted window factor)."""
    kind_of = {w.number: w.kind.value for w in layout.windows}
    by: dict[tuple[str, str], list[float]] = {}
    for t in tickets:
        s = t.service
        if s is not None and s > 0 and t.window in kind_of:
            by.setdefault((kind_of[t.window], t.category), []).append(s)
    base: dict[str, float] = {}
    for c in {c for _, c in by}:
        spec = [s for k in _SPECIALIST for s in by.get((k, c), [])]
        comp = by.get((WindowKind.COMPREHENSIVE.value, c), [])
        if len(spec) >= MIN_SAMPLES:
            base[c] = _mean(spec)
        elif len(comp) >= MIN_SAMPLES:  # no specialist to compare: 无差别 is the reference
            base[c] = _mean(comp)
    generalist: dict[str, float] = {}
    kinds: dict[str, float] = {}
    for (k, c), xs in sorted(by.items()):
        if c not in base or len(xs) < MIN_SAMPLES:
            continue
        n_spec = sum(len(by.get((sk, c), [])) for sk in _SPECIALIST)
        if k == WindowKind.COMPREHENSIVE.value and n_spec >= MIN_SAMPLES:
            generalist[c] = round(_mean(xs) / base[c], 4)
    for k in sorted({k for k, _ in by} - {*_SPECIALIST, WindowKind.COMPREHENSIVE.value}):
        num = den = 0.0
        for c, b in base.items():
            xs = by.get((k, c), [])
            num += sum(xs)
            den += len(xs) * b
        if den > 0 and sum(len(by.get((k, c), [])) for c in base) >= MIN_SAMPLES:
            kinds[k] = round(num / den, 4)
    factor_of: dict[Any, float] = {}
    for t in tickets:
        kind = kind_of.get(t.window or 0)
        if kind is None:
            continue
        f = kinds.get(kind, 1.0)
        if kind == WindowKind.COMPREHENSIVE.value:
            f *= generalist.get(t.category, 1.0)
        factor_of[t.id] = f
    # clerks: speed ratios per (day, window) against the category means of own times
    own: dict[str, list[float]] = {}
    for t in tickets:
        s = t.service
        if s is not None and s > 0 and t.id in factor_of:
            own.setdefault(t.category, []).append(s / factor_of[t.id])
    cat_mean = {c: _mean(xs) for c, xs in own.items()}
    cat_cv2 = {c: (sum((x - cat_mean[c]) ** 2 for x in xs) / max(len(xs) - 1, 1)) / cat_mean[c] ** 2
               for c, xs in own.items()}
    groups: dict[tuple[int, int], list[tuple[float, str]]] = {}
    for t in tickets:
        s = t.service
        if s is not None and s > 0 and t.id in factor_of and t.window is not None:
            groups.setdefault((day_of.get(t.id, 0), t.window), []).append(
                (s / factor_of[t.id], t.category))
    logs: list[float] = []
    noise: list[float] = []
    for group in groups.values():
        if len(group) < MIN_PER_CLERK:
            continue
        expected = sum(cat_mean[c] for _, c in group)
        logs.append(math.log(sum(x for x, _ in group) / expected))
        noise.append(sum(cat_cv2[c] * cat_mean[c] ** 2 for _, c in group) / expected ** 2)
    staff_cv = 0.0
    if len(logs) >= 10:
        m = _mean(logs)
        var = sum((x - m) ** 2 for x in logs) / (len(logs) - 1) - _mean(noise)
        staff_cv = math.sqrt(math.exp(var) - 1) if var > 0 else 0.0
    table: dict[str, Any] = {}
    if kinds:
        table["window_kind"] = kinds
    if generalist:
        table["generalist"] = generalist
    if staff_cv > 0:
        table["staff_cv"] = round(staff_cv, 4)
    return (table or None), factor_of
