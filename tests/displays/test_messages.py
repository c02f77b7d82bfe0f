"""The zh-CN message catalogue: codes to words."""

from __future__ import annotations

import re

from displays.messages import catalogue, has, say


def test_codes_have_chinese_words_and_fill_their_placeholders():
    assert has("unknown_hall")
    assert re.search(r"[\u4e00-\u9fff]", say("unknown_hall"))
    assert say("invalid", message="号码有误") == "输入有误：号码有误"


def test_an_unknown_code_falls_back_and_a_missing_placeholder_stays():
    assert say("no_such_code_anywhere") == "no_such_code_anywhere"
    assert say("no_such_code_anywhere", fallback="出错了") == "出错了"
    assert say("invalid") == "输入有误：{message}"


def test_every_entry_is_text_in_chinese():
    for code, text in catalogue().items():
        assert re.fullmatch(r"[a-z0-9_.]+", code), code
        assert re.search(r"[\u4e00-\u9fff]", text), f"{code}: {text!r} has no Chinese"
