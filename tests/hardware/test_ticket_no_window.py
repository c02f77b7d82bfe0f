"""A printed ticket nobody can call yet says so (暂无窗口办理) instead of a wait in minutes."""

from __future__ import annotations

import serial

from hardware.emulators import BusEmulator
from hardware.printing import TicketJob, render_ticket


def _printed(job: TicketJob) -> list[str]:
    with BusEmulator(printer=True) as bus:
        with serial.Serial(bus.path, 9600, timeout=1) as port:
            port.write(render_ticket(job, 80))
            assert bus.wait_for(lambda r: any(x.kind == "printer" for x in r))
    (ticket,) = bus.tickets()
    return list(ticket.lines)


def test_a_ticket_with_no_open_window_prints_that_and_when_windows_open() -> None:
    job = TicketJob("大厅", "社保", "B007", 6, None, "2026-11-23 12:05", "http://x/t/1",
                    no_window=True, opens_at="2026-11-23 14:00")
    lines = _printed(job)
    assert "预计等候 暂无窗口办理" in lines and "2026-11-23 14:00 起办理" in lines
    assert not any("分钟" in line for line in lines)
    ok = _printed(TicketJob("大厅", "社保", "B008", 1, 4.2, "2026-11-23 09:05", "http://x/t/2"))
    assert "预计等候约 4 分钟" in ok and not any("暂无窗口" in line for line in ok)
