"""The field types of the API's request and answer models (hall.http.models): one place that
says what text, numbers and lists the server accepts, used by the models, the body parser and
the parameter guard alike.

Text is Unicode scalar text (no lone surrogates: the JSON decoder refuses them), without NUL or
any other control character. `Line` fields (names, codes, keys, reasons) allow no line break;
`Note` fields (a case note, an appeal's reason) allow `\\n` and nothing else below U+0020.
Integers are within 64 bits (ids, seq) so that no database or client overflows on them.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

import msgspec

__all__ = [
    "INT64_MAX", "MAX_DEPTH", "Id", "Seq", "Line", "Short", "Kind", "Note", "Code", "Key", "Username", "Password",
    "clean_text", "check_tree", "BadField",
]

INT64_MAX = 2**63 - 1
# Deepest JSON any request needs is 4 (heartbeat: body → devices → device → value); 32 leaves
# room for the operations' settings documents and stays far below Python's recursion limit.
MAX_DEPTH = 32

# `$(?!\n)`: Python's `$` also matches before a final newline; the look-ahead refuses it.
_LINE = r"^[^\x00-\x1f\x7f]*$(?!\n)"
_NOTE = r"^[^\x00-\x09\x0b-\x1f\x7f]*$(?!\n)"
_BAD_LINE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_BAD_ANY = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _line(max_length: int, min_length: int = 0, description: str | None = None) -> msgspec.Meta:
    return msgspec.Meta(min_length=min_length, max_length=max_length, pattern=_LINE, description=description)


Id = Annotated[int, msgspec.Meta(ge=1, le=INT64_MAX, description="a row id or window number (64-bit)")]
Seq = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX, description="an event seq (64-bit)")]
Line = Annotated[str, _line(200, description="one line of text (no line breaks)")]
Short = Annotated[str, _line(32)]
Kind = Annotated[str, _line(16)]
Code = Annotated[str, _line(64, 1, "a code: category, matter, device, appointment")]
Key = Annotated[str, _line(150, 1, "an idempotency key")]
Username = Annotated[str, _line(150, 1)]
Password = Annotated[str, _line(256, 1)]
Note = Annotated[str, msgspec.Meta(max_length=2000, pattern=_NOTE, description="text; newlines allowed")]


class BadField(ValueError):
    """A value the edge refuses; `where` is its JSON path (`$.devices[0].id`)."""

    def __init__(self, message: str, where: str) -> None:
        super().__init__(f"{message} at {where}")
        self.message = message
        self.where = where


def clean_text(value: str, where: str, *, newlines: bool = True) -> None:
    """Raise BadField unless `value` is scalar text without NUL or control characters
    (tab, CR and LF allowed when `newlines`)."""
    bad = (_BAD_ANY if newlines else _BAD_LINE).search(value)
    if bad is not None:
        raise BadField(f"text may not contain U+{ord(bad.group()):04X}", where)


def check_tree(value: Any, where: str = "$") -> None:
    """Every string (keys too) clean, every integer within 64 bits, every number finite, nesting
    at most MAX_DEPTH: what any stored event and any database column can hold. Raises BadField
    naming the first bad place."""
    if not _fine(value, 0):
        _locate(value, where, 0)


def _fine(value: Any, depth: int) -> bool:
    # The fast walk: no paths built (this runs on every body and every event); _locate finds
    # the place only once something is wrong.
    if depth > MAX_DEPTH:
        return False
    t = type(value)
    if t is str:
        return _BAD_ANY.search(value) is None
    if t is dict:
        for k, v in value.items():
            if type(k) is not str or _BAD_LINE.search(k) is not None or not _fine(v, depth + 1):
                return False
        return True
    if t is list or t is tuple:
        return all(_fine(v, depth + 1) for v in value)
    if t is int:
        return -INT64_MAX - 1 <= value <= INT64_MAX
    if t is float:
        return math.isfinite(value)
    if value is None or t is bool:
        return True
    return _fine_subclass(value, depth)


def _fine_subclass(value: Any, depth: int) -> bool:
    # str/int/float subclasses (StrEnum values in event data) take the slow, exact path.
    try:
        _locate(value, "$", depth)
    except BadField:
        return False
    return True


def _locate(value: Any, where: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise BadField(f"JSON nested deeper than {MAX_DEPTH}", where)
    if isinstance(value, str):
        clean_text(value, where)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not -INT64_MAX - 1 <= value <= INT64_MAX:
            raise BadField("integer outside 64 bits", where)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise BadField("number out of range", where)
    elif isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise BadField("object keys must be text", where)
            clean_text(k, where, newlines=False)
            _locate(v, f"{where}.{k}", depth + 1)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _locate(v, f"{where}[{i}]", depth + 1)
