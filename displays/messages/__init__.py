"""The one zh-CN message catalogue: every word a person sees, keyed by code.

The API answers codes (`{"error": "window_busy", …}`); pages, the CLI's human output and the
reports turn codes into words here. The catalogue is every `*.toml` file in this folder, each a
flat table of `code = "text with {placeholders}"` (a file per area, so that areas grow without
editing each other's files); a code defined twice is an error at load.

    say("window_busy", ticket="B002")  ->  "B002 已叫号、尚未开始办理：请先开始办理或标记过号"

An unknown code falls back to `fallback` (or the code itself), so a new code never breaks a
page; the catalogue test checks that every code the server answers has words.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["catalogue", "say", "has"]


@lru_cache(maxsize=1)
def catalogue() -> Mapping[str, str]:
    """Every code → its zh-CN text template."""
    out: dict[str, str] = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        table = tomllib.loads(entry.read_text(encoding="utf-8"))
        for code, text in table.items():
            if not isinstance(text, str):
                raise ValueError(f"{entry.name}: {code} must be text")
            if code in out:
                raise ValueError(f"{entry.name}: {code} is already defined")
            out[code] = text
    return out


def has(code: str) -> bool:
    return code in catalogue()


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def say(code: str, fallback: str | None = None, **params: Any) -> str:
    """The words for `code` with `params` filled in (a missing placeholder stays as written)."""
    template = catalogue().get(code)
    if template is None:
        return fallback if fallback is not None else code
    return string.Formatter().vformat(template, (), _Lenient(params))
