"""The outbox keeps entries across restarts and answers, in order, until a final answer."""

from __future__ import annotations

from hardware.outbox import Outbox


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def time(self) -> float:
        return self.t


def test_entries_survive_reopen_in_order(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "outbox.db")
    box = Outbox(path)
    keys = [box.add("rating", f"/r/{i}", {"level": i}, ttl=3600) for i in range(5)]
    box.close()
    box = Outbox(path)
    assert [e.key for e in box.pending()] == keys
    assert [e.body["level"] for e in box.pending()] == [0, 1, 2, 3, 4]
    assert len(set(keys)) == 5


def test_done_refuse_failed_and_expiry() -> None:
    clock = Clock()
    box = Outbox(":memory:", clock)
    a = box.add("rating", "/a", {}, ttl=60)
    b = box.add("keypad", "/b", {}, ttl=5)
    box.add("rating", "/c", {}, ttl=60, key="fixed")
    box.add("rating", "/c", {}, ttl=60, key="fixed")  # same key twice is one entry
    assert len(box) == 3
    box.failed(a, "503")
    assert box.pending()[0].attempts == 1
    box.done(a)
    entry = box.pending()[0]
    assert entry.key == b and not box.expired(entry)
    clock.t += 5
    assert box.expired(entry)
    box.refuse(entry, 409, "already rated")
    assert [e.key for e in box.pending()] == ["fixed"]
    assert box.refused() == [(b, "keypad", 409, "already rated")]
