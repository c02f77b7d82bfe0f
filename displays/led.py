"""Text for one-line LED window strips (窗口条屏): what a strip shows, laid out for its width.

Pure functions, no I/O: the bridge (``hardware/``) calls them for each strip's width and turns the
pages into frames. Widths are counted in full-width cells, as strip vendors sell them (a "16-character"
strip holds 16 Chinese characters); an ASCII character takes half a cell, the way GB2312 fonts draw
it. A ticket number (or window number) is never cut across pages: a strip shows whole numbers or
none, because a half-shown "A02" sends people to the wrong window.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "DEFAULT_IDLE_TEXT",
    "DEFAULT_PAUSED_TEXT",
    "DEFAULT_CLOSED_TEXT",
    "call_text",
    "cells",
    "closed_text",
    "idle_text",
    "layout_strip",
    "paused_text",
]

DEFAULT_IDLE_TEXT = "欢迎光临"
DEFAULT_PAUSED_TEXT = "暂停服务"
DEFAULT_CLOSED_TEXT = "未开放"  # a window nobody staffs (docs/REDUCER.md's closed), as its screen says

# Break before these characters reads naturally ("请A023号 / 到8号窗口").
_GOOD_BREAK_BEFORE = frozenset("到请，,。；;：:！!（(")
# Breaking between these pairs splits a word a reader expects whole.
_BAD_PAIRS = frozenset({("窗", "口"), ("办", "理"), ("服", "务"), ("暂", "停"), ("欢", "迎"), ("光", "临")})
_PAGE_COST = 1000  # fewer pages always beats a nicer break


def call_text(number: str, window: int | str) -> str:
    """The strip text for a call: ``call_text("A023", 8) == "请A023号到8号窗口"``.

    ``window`` is the window's number as shown over the counter (an int or a string such as "8").
    """
    number = str(number).strip()
    window_text = str(window).strip()
    if not number or not window_text:
        raise ValueError("call_text needs a ticket number and a window")
    return f"请{number}号到{window_text}号窗口"


def cells(text: str) -> float:
    """Width of ``text`` in full-width cells: ASCII counts half a cell, anything else one."""
    return sum(0.5 if ord(ch) < 0x80 else 1.0 for ch in text)


def _units(text: str) -> list[str]:
    """Split into unbreakable units: runs of ASCII letters/digits (numbers) and single characters."""
    units: list[str] = []
    run = ""
    for ch in text:
        if ch.isascii() and ch.isalnum():
            run += ch
            continue
        if run:
            units.append(run)
            run = ""
        units.append(ch)
    if run:
        units.append(run)
    return units


def _is_number(unit: str) -> bool:
    return unit.isascii() and unit.isalnum()


def _break_penalty(left: str, right: str) -> int:
    """How bad it reads to end a page after ``left`` and start the next with ``right``."""
    if right.isspace() or left.isspace() or right in _GOOD_BREAK_BEFORE:
        return 0
    if _is_number(left) and right == "号":
        return 6  # "A023" / "号…" looks like a different number
    if (left[-1], right[0]) in _BAD_PAIRS:
        return 6
    if left == "号":
        return 1
    return 3


def layout_strip(text: str, width: int) -> list[str]:
    """Lay ``text`` out as pages for a strip ``width`` full-width cells wide.

    Returns one page when the text fits; otherwise the fewest pages, choosing among equally few
    the breaks that read best (before 到, after 号, never inside a number or inside 窗口). The
    bridge shows the pages in turn (or scrolls page by page). Spaces at page edges are dropped.
    Raises ``ValueError`` when ``width`` < 1 or a single number is wider than the strip, because
    the only alternative would be to cut it.
    """
    if width < 1:
        raise ValueError(f"strip width must be at least 1 cell, got {width}")
    text = text.strip()
    if cells(text) <= width:
        return [text]
    units = _units(text)
    for unit in units:
        if cells(unit) > width:
            raise ValueError(f"{unit!r} is wider than a {width}-cell strip and must not be cut")
    n = len(units)
    # best[i] = (cost, start of the last page) for laying out units[:i]; a small DP keeps the
    # choice global (greedy packing would strand "号窗口" or split "A023号" needlessly).
    best: list[tuple[int, int] | None] = [None] * (n + 1)
    best[0] = (0, 0)
    for end in range(1, n + 1):
        for start in range(end - 1, -1, -1):
            page = "".join(units[start:end]).strip()
            if cells(page) > width:
                break
            prev = best[start]
            if prev is None:
                continue
            penalty = _break_penalty(units[start - 1], units[start]) if start > 0 else 0
            cost = prev[0] + _PAGE_COST + penalty
            current = best[end]
            if current is None or cost < current[0]:
                best[end] = (cost, start)
    pages: list[str] = []
    end = n
    while end > 0:
        entry = best[end]
        assert entry is not None  # every unit fits, so every prefix has a layout
        start = entry[1]
        page = "".join(units[start:end]).strip()
        if page:
            pages.append(page)
        end = start
    pages.reverse()
    return pages


def _setting(hall_settings: Mapping[str, Any] | object | None, name: str) -> str | None:
    if hall_settings is None:
        return None
    if isinstance(hall_settings, Mapping):
        value = hall_settings.get(name)
        if value is None and isinstance(hall_settings.get("led"), Mapping):
            value = hall_settings["led"].get(name.removeprefix("led_"))
    else:
        value = getattr(hall_settings, name, None)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def idle_text(hall_settings: Mapping[str, Any] | object | None = None) -> str:
    """What a strip shows with no ticket: the hall's ``led_idle_text`` or 欢迎光临.

    ``hall_settings`` may be a mapping (``{"led_idle_text": ...}`` or ``{"led": {"idle_text": ...}}``),
    any object with a ``led_idle_text`` attribute, or None for the default.
    """
    return _setting(hall_settings, "led_idle_text") or DEFAULT_IDLE_TEXT


def paused_text(hall_settings: Mapping[str, Any] | object | None = None) -> str:
    """What a strip shows while its window is paused: the hall's ``led_paused_text`` or 暂停服务.

    Takes ``hall_settings`` like :func:`idle_text`.
    """
    return _setting(hall_settings, "led_paused_text") or DEFAULT_PAUSED_TEXT


def closed_text(hall_settings: Mapping[str, Any] | object | None = None) -> str:
    """What a strip shows over a closed window: the hall's ``led_closed_text`` or 未开放.

    Takes ``hall_settings`` like :func:`idle_text`.
    """
    return _setting(hall_settings, "led_closed_text") or DEFAULT_CLOSED_TEXT
