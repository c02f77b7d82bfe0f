from __future__ import annotations

import copy
import tomllib

import pytest

from queueing.layout import LayoutError, WindowKind, load_layout, parse_layout
from tests.queueing.conftest import EXAMPLES


def raw(name: str = "township") -> dict:
    return tomllib.loads((EXAMPLES / f"{name}.toml").read_text(encoding="utf-8"))


def test_county_example_has_the_windows_the_issue_asks_for(county):
    kinds = [w.kind for w in county.windows]
    assert len(county.windows) == 40
    assert kinds.count(WindowKind.COMPREHENSIVE) == 8
    assert WindowKind.HELP_DESK in kinds and WindowKind.CROSS_PROVINCE in kinds
    zone_names = {county.zone(w.zone).name for w in county.windows if w.kind is WindowKind.ZONE}
    assert {"公安", "不动产登记", "社保医保", "税务", "市场服务"} <= zone_names
    assert county.hours.periods[0].label() == "08:30-12:00"
    assert county.window(9).weight("B") == 2.0 and county.window(9).weight("A") == 1.0


def test_township_example_loads(township):
    assert len(township.windows) == 4
    assert township.windows_serving("D") == (township.window(4),)


@pytest.mark.parametrize(
    ("mutate", "field", "why"),
    [
        (lambda r: r["categories"][0].update(zone="nowhere"), "categories[0].zone", "unknown zone"),
        (lambda r: r["categories"][1].update(code="a"), "categories[1].code", "capital letters"),
        (lambda r: r["categories"][1].update(code="YA"), "categories[1].code", "marker"),
        (lambda r: r["categories"][0].update(service_minutes=-3), "categories[0].service_minutes", "more than 0"),
        (lambda r: r["windows"][2].update(serves=["A", "Q"]), "windows[2].serves[1]", "unknown category"),
        (lambda r: r["windows"][2].update(serves=[{"category": "A", "weight": 0}]), "windows[2].serves[0].weight", "above 0"),
        (lambda r: r["windows"][1].update(number=1), "windows[1].number", "appears twice"),
        (lambda r: r["windows"][0].update(kind="vip"), "windows[0].kind", "unknown kind"),
        (lambda r: r["rules"].update(priority_ratio=0), "rules.priority_ratio", "at least 1"),
        (lambda r: r["rules"].update(speed=3), "rules.speed", "unknown rule"),
        (lambda r: r["hours"].update(periods=[["14:00", "12:00"]]), "hours.periods[0]", "end after"),
        (lambda r: r["hours"].update(periods=[["08:00", "12:00"], ["11:00", "13:00"]]), "hours.periods[1]", "overlap"),
        (lambda r: r["hall"].update(timezone="Mars/Base"), "hall.timezone", "unknown time zone"),
        (lambda r: r["windows"][3].update(serves=["A"]), "categories[3]", "no window serves"),
    ],
)
def test_a_bad_file_names_the_field_and_why(mutate, field, why):
    r = copy.deepcopy(raw())
    mutate(r)
    with pytest.raises(LayoutError) as e:
        parse_layout(r)
    assert e.value.field == field
    assert why in e.value.why
    assert str(e.value).startswith(field + ":")


def test_unreadable_toml_is_a_layout_error(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[hall\nname=", encoding="utf-8")
    with pytest.raises(LayoutError, match="not valid TOML"):
        load_layout(p)
    with pytest.raises(LayoutError, match="no such file"):
        load_layout(tmp_path / "missing.toml")


def test_comprehensive_window_without_serves_takes_every_category():
    r = copy.deepcopy(raw())
    del r["windows"][0]["serves"]
    layout = parse_layout(r)
    assert layout.window(1).categories == {"A", "B", "C", "D"}
