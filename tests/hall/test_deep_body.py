"""A deeply nested body is refused before the decoder recurses. Refused by running out of stack,
it let a garbage collection at that depth run its callbacks (the pause timer of hall.metrics) at
the recursion limit, where they failed (an unraisable RecursionError, seen once in a full CI
run of the hostile-input corpus on PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from hall.edge import body
from hall.edge.body import too_deep
from hall.errors import ApiError


def test_depth_is_measured_outside_strings() -> None:
    assert not too_deep(b'{"a": [[1], {"b": [2]}]}')
    assert not too_deep(b'{"a": "' + b"[" * 500 + b'"}')  # brackets inside a string
    assert not too_deep(b'{"a": "\\"' + b"{" * 500 + b'"}')  # after an escaped quote, still inside
    assert not too_deep(b"[" * 33 + b"]" * 33)
    assert too_deep(b"[" * 34 + b"]" * 34)
    assert not too_deep(b"[" + b"[]," * 5000 + b"[]]")  # many brackets, shallow


def test_a_deep_body_is_refused_before_the_decoder_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    real = body.msgspec.json.decode

    def decode(raw: bytes, **kw: Any) -> Any:
        calls.append(raw)
        return real(raw, **kw)

    monkeypatch.setattr(body.msgspec.json, "decode", decode)
    for raw in (b"[" * 30_000 + b"]" * 30_000, b'{"a": ' + b"[" * 1000 + b"]" * 1000 + b"}"):
        with pytest.raises(ApiError) as e:
            body._decode(raw, Any)
        assert e.value.status == 422 and "nested too deeply" in str(e.value.body())
    assert calls == []
    assert body._decode(b'{"a": [[1]]}', Any) == {"a": [[1]]} and len(calls) == 1
