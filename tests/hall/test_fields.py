"""hall.fields: the fast walk and the exact one agree on every value, and the line patterns
refuse what their names say."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hall.fields import INT64_MAX, BadField, Line, Note, _fine, _locate, check_tree

leaves = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | st.text(
    st.characters(codec=None, min_codepoint=0, max_codepoint=0xDFFF), max_size=6)
trees = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                     max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(trees)
def test_the_fast_walk_agrees_with_the_exact_one(value: Any) -> None:
    try:
        _locate(value, "$", 0)
        exact = True
    except BadField:
        exact = False
    assert _fine(value, 0) is exact


def test_refusals_name_the_place() -> None:
    with pytest.raises(BadField) as e:
        check_tree({"devices": [{"id": "ok"}, {"id": "a\ud800"}]})
    assert e.value.where == "$.devices[1].id"
    with pytest.raises(BadField):
        check_tree({"n": INT64_MAX + 1})
    check_tree({"n": INT64_MAX, "note": "两行\n文字\t"})


class _M(msgspec.Struct):
    line: Line | None = None
    note: Note | None = None


@pytest.mark.parametrize("field, text, ok", [
    ("line", "午休", True), ("line", "午休\n", False), ("line", "a\rb", False), ("line", "a\x00", False),
    ("note", "第一行\n第二行", True), ("note", "a\tb", False), ("note", "a\x1b", False),
])
def test_line_and_note_fields(field: str, text: str, ok: bool) -> None:
    if ok:
        msgspec.convert({field: text}, _M)
    else:
        with pytest.raises(msgspec.ValidationError, match=re.escape(f"$.{field}")):
            msgspec.convert({field: text}, _M)
