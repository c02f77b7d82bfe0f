"""The hall layout: zones, categories, windows and the rules, loaded and validated from TOML.

A layout file is the one description of a hall that the server imports and the simulator reads.
A bad file raises `LayoutError` naming the field (`windows[3].serves[1]`) and why; nothing is
half-loaded. See `examples/halls/county.toml` for every field.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "LayoutError",
    "WindowKind",
    "Period",
    "Hours",
    "Rules",
    "Zone",
    "Category",
    "Skill",
    "Window",
    "HallLayout",
    "HALL_KINDS",
    "load_layout",
    "parse_layout",
]


class LayoutError(ValueError):
    """A layout file is wrong; `field` names the place and `why` says what is wrong."""

    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"{field}: {why}")
        self.field = field
        self.why = why


class WindowKind(StrEnum):
    COMPREHENSIVE = "comprehensive"  # 无差别综合窗口: every category
    ZONE = "zone"  # 分领域综窗: the categories of one zone
    DEDICATED = "dedicated"  # 专窗
    HELP_DESK = "help_desk"  # 帮办代办
    COMPLAINT = "complaint"  # 办不成事反映
    CROSS_PROVINCE = "cross_province"  # 跨省通办


_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_CATEGORY_CODE = re.compile(r"^[A-Z]{1,2}$")
# A city's places: a service hall, a township (乡镇/街道) centre, or a village or community
# station — one or two windows, no kiosk and no screen: the clerk records each visit.
HALL_KINDS = ("hall", "township", "station")


@dataclass(frozen=True, slots=True)
class Period:
    """A span of the hall-local day, in minutes after midnight: [start, end)."""

    start: int
    end: int

    def contains(self, minute_of_day: float) -> bool:
        return self.start <= minute_of_day < self.end

    def label(self) -> str:
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"


@dataclass(frozen=True, slots=True)
class Hours:
    """Opening periods (the gap between them is the lunch break) and open weekdays (1 = Monday)."""

    periods: tuple[Period, ...]
    weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})

    def is_open(self, minute_of_day: float) -> bool:
        return any(p.contains(minute_of_day) for p in self.periods)

    @property
    def opens(self) -> int:
        return self.periods[0].start

    @property
    def closes(self) -> int:
        return self.periods[-1].end


@dataclass(frozen=True, slots=True)
class Rules:
    """The hall's queue rules. Every field has a default; see the README for their meaning."""

    priority_ratio: int = 2  # at most this many priority calls in a row while normal ones wait
    max_wait_minutes: float = 60.0  # past this, a ticket goes before any younger ticket
    recalls_before_no_show: int = 2  # the call after this many recalls marks a no-show
    recheckin_places_back: int = 3  # a re-checked-in no-show goes back this many places
    appointment_tolerance_minutes: float = 15.0  # an appointment is "in its slot" ± this
    appointment_marker: str = "Y"  # printed before the prefix: YA012
    priority_marker: str = "V"  # printed before the prefix: VA012
    service_level_minutes: float = 15.0  # "served within N minutes"
    one_waiting_ticket_per_person: bool = True


@dataclass(frozen=True, slots=True)
class Zone:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Category:
    code: str  # letter(s) printed before the number: A023
    name: str
    zone: str
    service_minutes: float
    daily_cap: int | None = None
    hours: Hours | None = None  # None: the hall's hours


@dataclass(frozen=True, slots=True)
class Skill:
    """A category a window serves; a weight > 1 makes the window prefer it (see README)."""

    category: str
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Window:
    number: int
    name: str
    kind: WindowKind
    skills: tuple[Skill, ...]
    zone: str | None = None
    # Worked out once: the server asks for it on every issue and call.
    categories: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", frozenset(s.category for s in self.skills))

    def weight(self, category: str) -> float:
        for s in self.skills:
            if s.category == category:
                return s.weight
        return 0.0


@dataclass(frozen=True, slots=True)
class HallLayout:
    code: str
    name: str
    timezone: str
    hours: Hours
    rules: Rules
    zones: tuple[Zone, ...]
    categories: tuple[Category, ...]
    windows: tuple[Window, ...]
    region_code: str | None = None
    kind: str = "hall"  # one of HALL_KINDS
    source: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def category(self, code: str) -> Category:
        for c in self.categories:
            if c.code == code:
                return c
        raise KeyError(code)

    def window(self, number: int) -> Window:
        for w in self.windows:
            if w.number == number:
                return w
        raise KeyError(number)

    def zone(self, code: str) -> Zone:
        for z in self.zones:
            if z.code == code:
                return z
        raise KeyError(code)

    def windows_serving(self, category: str) -> tuple[Window, ...]:
        return tuple(w for w in self.windows if category in w.categories)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_layout(path: str | Path) -> HallLayout:
    """Read and validate a layout TOML file; raises LayoutError (also for unreadable TOML)."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LayoutError(str(p), "no such file") from None
    except tomllib.TOMLDecodeError as e:
        raise LayoutError(str(p), f"not valid TOML ({e})") from None
    return parse_layout(raw)


def parse_layout(raw: Mapping[str, Any]) -> HallLayout:
    """Validate a layout already parsed from TOML (or JSON); raises LayoutError."""
    if not isinstance(raw, Mapping):
        raise LayoutError("<root>", "must be a table")
    hall = _table(raw, "hall")
    code = _str(hall, "hall.code", "code")
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", code):
        raise LayoutError("hall.code", "must be lower-case letters, digits, '-' or '_' (it appears in URLs)")
    name = _str(hall, "hall.name", "name")
    tzname = hall.get("timezone", "Asia/Shanghai")
    try:
        ZoneInfo(str(tzname))
    except (ZoneInfoNotFoundError, ValueError):
        raise LayoutError("hall.timezone", f"unknown time zone {tzname!r}") from None
    region = hall.get("region_code")
    if region is not None and not (isinstance(region, str) and region.isdigit()):
        raise LayoutError("hall.region_code", "must be a string of digits (区划代码)")

    hall_kind = hall.get("kind", "hall")
    if hall_kind not in HALL_KINDS:
        raise LayoutError("hall.kind", f"must be one of {', '.join(HALL_KINDS)}")

    hours = _hours(raw.get("hours", {"periods": [["08:30", "12:00"], ["14:00", "17:30"]]}), "hours")
    rules = _rules(raw.get("rules", {}))

    zones = []
    for i, z in enumerate(_list(raw, "zones")):
        where = f"zones[{i}]"
        zones.append(Zone(_str(z, f"{where}.code", "code"), _str(z, f"{where}.name", "name")))
    _unique([z.code for z in zones], "zones", "code")
    zone_codes = {z.code for z in zones}

    categories = []
    for i, c in enumerate(_list(raw, "categories")):
        where = f"categories[{i}]"
        ccode = _str(c, f"{where}.code", "code")
        if not _CATEGORY_CODE.match(ccode):
            raise LayoutError(f"{where}.code", "must be one or two capital letters (the ticket prefix)")
        if ccode.startswith(rules.appointment_marker) or ccode.startswith(rules.priority_marker):
            raise LayoutError(
                f"{where}.code",
                f"must not start with the appointment or priority marker "
                f"({rules.appointment_marker!r}, {rules.priority_marker!r}): numbers would be ambiguous",
            )
        zone = _str(c, f"{where}.zone", "zone")
        if zone not in zone_codes:
            raise LayoutError(f"{where}.zone", f"unknown zone {zone!r}")
        minutes = _number(c, f"{where}.service_minutes", "service_minutes", default=10.0)
        if minutes <= 0:
            raise LayoutError(f"{where}.service_minutes", "must be more than 0")
        cap = c.get("daily_cap")
        if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap <= 0):
            raise LayoutError(f"{where}.daily_cap", "must be a whole number above 0")
        chours = _hours(c["hours"], f"{where}.hours") if "hours" in c else None
        categories.append(
            Category(ccode, _str(c, f"{where}.name", "name"), zone, float(minutes), cap, chours)
        )
    if not categories:
        raise LayoutError("categories", "a hall needs at least one category")
    _unique([c.code for c in categories], "categories", "code")
    category_codes = [c.code for c in categories]

    windows = []
    for i, w in enumerate(_list(raw, "windows")):
        where = f"windows[{i}]"
        number = w.get("number")
        if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
            raise LayoutError(f"{where}.number", "must be a whole number above 0")
        kind_raw = w.get("kind", "comprehensive")
        try:
            kind = WindowKind(kind_raw)
        except ValueError:
            allowed = ", ".join(k.value for k in WindowKind)
            raise LayoutError(f"{where}.kind", f"unknown kind {kind_raw!r} (one of {allowed})") from None
        wzone = w.get("zone")
        if wzone is not None and wzone not in zone_codes:
            raise LayoutError(f"{where}.zone", f"unknown zone {wzone!r}")
        skills = _skills(w.get("serves"), f"{where}.serves", category_codes, kind, wzone, categories)
        windows.append(Window(number, str(w.get("name") or f"{number}号窗口"), kind, skills, wzone))
    if not windows:
        raise LayoutError("windows", "a hall needs at least one window")
    _unique([w.number for w in windows], "windows", "number")
    served = {s.category for w in windows for s in w.skills}
    for i, cat in enumerate(categories):
        if cat.code not in served:
            raise LayoutError(f"categories[{i}]", f"no window serves category {cat.code!r}")

    return HallLayout(
        code=code,
        name=name,
        timezone=str(tzname),
        hours=hours,
        rules=rules,
        zones=tuple(zones),
        categories=tuple(categories),
        windows=tuple(sorted(windows, key=lambda w: w.number)),
        region_code=region,
        kind=str(hall_kind),
        source=dict(raw),
    )


def _skills(
    serves: Any,
    where: str,
    codes: list[str],
    kind: WindowKind,
    zone: str | None,
    categories: list[Category],
) -> tuple[Skill, ...]:
    if serves is None:
        if kind is WindowKind.COMPREHENSIVE:
            return tuple(Skill(c) for c in codes)
        if kind is WindowKind.ZONE and zone is not None:
            return tuple(Skill(c.code) for c in categories if c.zone == zone)
        raise LayoutError(where, "list the categories this window serves (or \"*\" for all)")
    if serves == "*":
        return tuple(Skill(c) for c in codes)
    if not isinstance(serves, list) or not serves:
        raise LayoutError(where, "must be a non-empty list of category codes or {category, weight} tables")
    skills: list[Skill] = []
    for j, item in enumerate(serves):
        here = f"{where}[{j}]"
        cat: Any
        if isinstance(item, str):
            cat, weight = item, 1.0
        elif isinstance(item, Mapping):
            cat = item.get("category")
            weight = item.get("weight", 1.0)
            if not isinstance(weight, int | float) or isinstance(weight, bool) or not 0 < weight <= 100:
                raise LayoutError(f"{here}.weight", "must be a number above 0 and at most 100")
        else:
            raise LayoutError(here, "must be a category code or a {category, weight} table")
        if cat not in codes:
            raise LayoutError(here, f"unknown category {cat!r}")
        if any(s.category == cat for s in skills):
            raise LayoutError(here, f"category {cat!r} listed twice")
        skills.append(Skill(str(cat), float(weight)))
    return tuple(skills)


def _hours(raw: Any, where: str) -> Hours:
    if not isinstance(raw, Mapping):
        raise LayoutError(where, "must be a table with periods = [[\"08:30\", \"12:00\"], …]")
    periods_raw = raw.get("periods")
    if not isinstance(periods_raw, list) or not periods_raw:
        raise LayoutError(f"{where}.periods", "must be a non-empty list of [\"HH:MM\", \"HH:MM\"] pairs")
    periods: list[Period] = []
    for i, pr in enumerate(periods_raw):
        here = f"{where}.periods[{i}]"
        if not (isinstance(pr, list) and len(pr) == 2 and all(isinstance(x, str) for x in pr)):
            raise LayoutError(here, "must be a pair [\"HH:MM\", \"HH:MM\"]")
        start, end = (_minutes(x, here) for x in pr)
        if end <= start:
            raise LayoutError(here, "must end after it starts")
        if periods and start < periods[-1].end:
            raise LayoutError(here, "periods must be in order and must not overlap")
        periods.append(Period(start, end))
    weekdays = raw.get("weekdays", [1, 2, 3, 4, 5])
    if not isinstance(weekdays, list) or not all(isinstance(d, int) and 1 <= d <= 7 for d in weekdays):
        raise LayoutError(f"{where}.weekdays", "must be a list of days 1 (Monday) … 7 (Sunday)")
    return Hours(tuple(periods), frozenset(weekdays))


def _minutes(text: str, where: str) -> int:
    m = _TIME.match(text)
    if not m:
        raise LayoutError(where, f"{text!r} is not a time HH:MM")
    return int(m.group(1)) * 60 + int(m.group(2))


_RULE_TYPES: dict[str, type] = {
    "priority_ratio": int,
    "max_wait_minutes": float,
    "recalls_before_no_show": int,
    "recheckin_places_back": int,
    "appointment_tolerance_minutes": float,
    "appointment_marker": str,
    "priority_marker": str,
    "service_level_minutes": float,
    "one_waiting_ticket_per_person": bool,
}


def _rules(raw: Any) -> Rules:
    if not isinstance(raw, Mapping):
        raise LayoutError("rules", "must be a table")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        where = f"rules.{key}"
        kind = _RULE_TYPES.get(key)
        if kind is None:
            raise LayoutError(where, f"unknown rule (known: {', '.join(sorted(_RULE_TYPES))})")
        if kind is bool:
            if not isinstance(value, bool):
                raise LayoutError(where, "must be true or false")
        elif kind is str:
            if not (isinstance(value, str) and re.fullmatch(r"[A-Z]", value)):
                raise LayoutError(where, "must be one capital letter")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise LayoutError(where, "must be a number")
        elif kind is int and not isinstance(value, int):
            raise LayoutError(where, "must be a whole number")
        values[key] = kind(value)
    rules = Rules(**values)
    if rules.priority_ratio < 1:
        raise LayoutError("rules.priority_ratio", "must be at least 1 (priority calls in a row)")
    if rules.max_wait_minutes <= 0:
        raise LayoutError("rules.max_wait_minutes", "must be more than 0")
    for name in ("recalls_before_no_show", "recheckin_places_back"):
        if getattr(rules, name) < 0:
            raise LayoutError(f"rules.{name}", "must not be negative")
    if rules.appointment_tolerance_minutes < 0 or rules.service_level_minutes <= 0:
        bad = "appointment_tolerance_minutes" if rules.appointment_tolerance_minutes < 0 else "service_level_minutes"
        raise LayoutError(f"rules.{bad}", "must not be negative" if bad.startswith("app") else "must be more than 0")
    if rules.appointment_marker == rules.priority_marker:
        raise LayoutError("rules.priority_marker", "must differ from the appointment marker")
    return rules


def _table(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key)
    if not isinstance(value, Mapping):
        raise LayoutError(key, "missing table")
    return value


def _list(raw: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise LayoutError(key, "must be a list of tables ([[" + key + "]])")
    for i, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise LayoutError(f"{key}[{i}]", "must be a table")
    return value


def _str(raw: Mapping[str, Any], where: str, key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise LayoutError(where, "missing or empty text")
    return value.strip()


def _number(raw: Mapping[str, Any], where: str, key: str, default: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LayoutError(where, "must be a number")
    return float(value)


def _unique(values: list[Any], where: str, key: str) -> None:
    seen: set[Any] = set()
    for i, v in enumerate(values):
        if v in seen:
            raise LayoutError(f"{where}[{i}].{key}", f"{v!r} appears twice")
        seen.add(v)
