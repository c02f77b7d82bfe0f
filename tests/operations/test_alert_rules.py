"""Alert evaluation and signing (pure)."""

from __future__ import annotations

from hall.operations.live.rules import AlertRules, HallView, WindowView, diff, evaluate
from hall.operations.webhooks.signing import backoff_seconds, sign, signature_headers, verify

RULES = AlertRules(waiting_per_window=10, longest_wait_minutes=30, pause_minutes=20)
TWO_OPEN = [WindowView(1, True), WindowView(2, True)]


def test_waiting_per_window_raised_and_cleared() -> None:
    assert evaluate(HallView(20, TWO_OPEN), RULES, 0.0) == {}
    over = evaluate(HallView(21, TWO_OPEN), RULES, 0.0)
    assert list(over) == [("waiting_per_window", "hall")]
    assert over[("waiting_per_window", "hall")].value == 10.5
    raised, cleared = diff({}, over)
    assert [a.kind for a in raised] == ["waiting_per_window"] and cleared == []
    raised, cleared = diff(over, evaluate(HallView(20, TWO_OPEN), RULES, 0.0))
    assert raised == [] and cleared == [("waiting_per_window", "hall")]


def test_no_open_window_with_people_waiting_alerts() -> None:
    got = evaluate(HallView(1, [WindowView(1, False)]), RULES, 0.0)
    assert ("waiting_per_window", "hall") in got


def test_longest_wait_pause_and_device() -> None:
    def view(now: float) -> HallView:  # a ticket waiting since 0, window 2 paused since 0
        return HallView(1, [WindowView(1, True), WindowView(2, False, paused_since=0.0)],
                        longest_wait_seconds=now, offline_devices=["pad-8"])

    got = evaluate(view(20 * 60.0), RULES, 20 * 60.0)
    assert set(got) == {("device_offline", "pad-8")}
    got = evaluate(view(31 * 60.0), RULES, 31 * 60.0)
    assert set(got) == {("longest_wait", "hall"), ("window_paused", "2"), ("device_offline", "pad-8")}
    assert got[("longest_wait", "hall")].value == 31.0
    off = AlertRules(longest_wait_minutes=0, pause_minutes=0, device_offline=False)
    assert evaluate(view(99 * 60.0), off, 99 * 60.0) == {}


def test_signature_verifies_and_rejects_tampering_and_replay() -> None:
    body = b'{"seq": 5, "type": "ticket.rated"}'
    headers = signature_headers("s3cret", 1_000, body, "ticket.rated", 9)
    assert headers["X-Hall-Signature"] == sign("s3cret", 1_000, body)
    assert verify("s3cret", headers, body, now=1_010)
    assert not verify("s3cret", headers, body + b" ", now=1_010)
    assert not verify("other", headers, body, now=1_010)
    assert not verify("s3cret", headers, body, now=1_000 + 301)


def test_backoff_doubles_up_to_cap() -> None:
    assert [backoff_seconds(n) for n in range(5)] == [0.0, 2.0, 4.0, 8.0, 16.0]
    assert backoff_seconds(40) == 3600.0


def test_waiting_per_window_holds_per_zone() -> None:
    view = HallView(15, TWO_OPEN, by_zone={"police": (12, 1), "social": (3, 2), "estate": (2, 0)})
    got = evaluate(view, RULES, 0.0)
    assert set(got) == {("waiting_per_window", "police"), ("waiting_per_window", "estate")}
    assert got[("waiting_per_window", "police")].value == 12.0
    assert "无开放窗口" in got[("waiting_per_window", "estate")].message
