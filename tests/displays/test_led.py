"""LED strip text: call text, page layout for every strip width, idle and paused texts."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from displays.led import (
    DEFAULT_IDLE_TEXT,
    DEFAULT_PAUSED_TEXT,
    call_text,
    cells,
    idle_text,
    layout_strip,
    paused_text,
)


def test_call_text_reads_like_the_halls() -> None:
    assert call_text("A023", 8) == "请A023号到8号窗口"
    assert call_text("YB012", "12") == "请YB012号到12号窗口"


def test_call_text_refuses_empty_parts() -> None:
    with pytest.raises(ValueError):
        call_text("", 8)
    with pytest.raises(ValueError):
        call_text("A001", " ")


def test_cells_counts_ascii_as_half() -> None:
    assert cells("请A023号到8号窗口") == 8.5
    assert cells("A023") == 2.0


def test_sixteen_cell_strip_shows_the_call_on_one_page() -> None:
    assert layout_strip("请A023号到8号窗口", 16) == ["请A023号到8号窗口"]
    assert layout_strip(call_text("A023", 8), 10) == ["请A023号到8号窗口"]


def test_eight_cell_strip_pages_at_a_natural_break() -> None:
    pages = layout_strip("请A023号到8号窗口", 8)
    assert pages == ["请A023号", "到8号窗口"]


def test_narrow_strip_never_cuts_the_number_or_the_window() -> None:
    for width in (3, 4, 5):
        pages = layout_strip("请YB1000号到12号窗口办理", width)
        joined = "".join(pages)
        assert joined == "请YB1000号到12号窗口办理"
        assert any("YB1000" in p for p in pages)
        assert any("12" in p for p in pages)
        assert all(cells(p) <= width for p in pages)


def test_number_wider_than_strip_is_refused_not_cut() -> None:
    with pytest.raises(ValueError, match="must not be cut"):
        layout_strip("请ABCDEFGHIJ号", 4)
    with pytest.raises(ValueError):
        layout_strip("欢迎", 0)


def test_idle_and_paused_defaults_and_per_hall() -> None:
    assert idle_text() == DEFAULT_IDLE_TEXT == "欢迎光临"
    assert paused_text(None) == DEFAULT_PAUSED_TEXT == "暂停服务"
    assert idle_text({"led_idle_text": "政务服务 欢迎您"}) == "政务服务 欢迎您"
    assert paused_text({"led": {"paused_text": "午休 14:00开始"}}) == "午休 14:00开始"
    assert idle_text(SimpleNamespace(led_idle_text="  ")) == DEFAULT_IDLE_TEXT
    assert paused_text(SimpleNamespace(led_paused_text="暂停叫号")) == "暂停叫号"


NUMBERS = st.from_regex(r"[A-Z]{1,2}[0-9]{3,4}", fullmatch=True)


@given(number=NUMBERS, window=st.integers(min_value=1, max_value=199),
       width=st.sampled_from([4, 5, 6, 8, 10, 12, 16]))
def test_any_call_fits_every_strip_width_without_cutting(number: str, window: int, width: int) -> None:
    text = call_text(number, window)
    pages = layout_strip(text, width)
    assert "".join(pages) == text
    assert all(0 < cells(p) <= width for p in pages)
    numbers_seen = [m for p in pages for m in re.findall(r"[A-Z0-9]+", p)]
    assert numbers_seen == [number, str(window)]
    if cells(text) <= width:
        assert len(pages) == 1


def test_closed_text_defaults_and_per_hall() -> None:
    from displays.led import DEFAULT_CLOSED_TEXT, closed_text

    assert closed_text() == DEFAULT_CLOSED_TEXT == "未开放"
    assert closed_text({"led": {"closed_text": "本窗口暂未开放"}}) == "本窗口暂未开放"
