"""Ticket bytes: byte-exact framing, GB18030 text and a native QR that decodes back."""

from __future__ import annotations

import pytest

from hardware.escpos_decode import EscPosDecoder
from hardware.printing import (
    PAPER_STATUS_QUERY,
    TicketJob,
    paper_ok,
    render_ticket,
    send_to_target,
    wrap_cells,
)

JOB = TicketJob(
    hall_name="某某区政务服务中心",
    category_name="社保业务",
    number="A023",
    ahead=4,
    eta_minutes=12.4,
    issued_at="2026-11-21 09:03",
    qr_payload="http://hall.example/p/tok123",
)


@pytest.mark.parametrize("paper", [58, 80])
def test_ticket_decodes_to_number_ahead_and_qr(paper: int) -> None:
    data = render_ticket(JOB, paper)
    assert data.startswith(b"\x1b\x40\x1c\x26")  # init, Chinese mode
    assert data.endswith(b"\x1bd\x06\x1dV\x00")  # feed 6, cut
    assert b"A023" in data and "前面还有 4 人".encode("gb18030") in data
    dec = EscPosDecoder()
    dec.feed(data)
    (ticket,) = dec.tickets
    assert "A023" in ticket.lines
    assert "前面还有 4 人" in ticket.lines
    assert "预计等候约 12 分钟" in ticket.lines
    assert ticket.qr == ["http://hall.example/p/tok123"]
    assert any("过号" in line for line in ticket.lines)


def test_number_in_large_type_per_paper() -> None:
    # GS ! n with n = (w-1)<<4 | (h-1): 3x3 on 58 mm, 4x4 on 80 mm, just before the number.
    assert b"\x1d!\x22\x1ba\x01A023\n" in render_ticket(JOB, 58)
    assert b"\x1d!\x33\x1ba\x01A023\n" in render_ticket(JOB, 80)


def test_wrap_respects_columns() -> None:
    lines = wrap_cells("过号请重新取号或到服务台登记，过号后顺延3位", 16)
    assert all(sum(1 if ord(c) < 128 else 2 for c in line) <= 16 for line in lines)
    assert "".join(lines) == "过号请重新取号或到服务台登记，过号后顺延3位"


def test_decoder_handles_split_chunks_and_status_queries() -> None:
    data = PAPER_STATUS_QUERY + render_ticket(JOB, 58)
    dec = EscPosDecoder()
    queries = sum(dec.feed(data[i : i + 3]) for i in range(0, len(data), 3))
    assert queries == 1
    assert dec.tickets[0].qr == [JOB.qr_payload]


def test_paper_status() -> None:
    assert paper_ok(b"\x12") is True
    assert paper_ok(b"\x72") is False
    assert paper_ok(b"") is None


def test_send_to_file_target(tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "lp0"
    send_to_target(f"file:{target}", b"abc")
    send_to_target(str(target), b"def")
    assert target.read_bytes() == b"abcdef"


def test_a_lone_surrogate_from_the_stream_prints_as_a_replacement_not_a_crash() -> None:
    # Text from the server is untrusted: a lone surrogate (no GB18030 form) must not stop
    # the printer's job (issue 12 item 1).
    from dataclasses import replace

    data = render_ticket(replace(JOB, hall_name="某某\ud800中心"), 80)
    assert "某某?中心".encode("gb18030") in data
