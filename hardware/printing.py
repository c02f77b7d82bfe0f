"""Queue tickets on ESC/POS thermal printers (python-escpos), 58 mm and 80 mm, GB18030 text.

`render_ticket` builds the bytes once (python-escpos `Dummy`, so they are byte-exact and
testable); `PrinterTarget` sends them to a file such as `/dev/usb/lp0` or a network printer
(`tcp://host:9100`); serial printers go through the bridge's bus writer like any other device.
"""

from __future__ import annotations

from dataclasses import dataclass

from escpos.printer import Dummy

__all__ = [
    "TicketJob",
    "Paper",
    "PAPER",
    "render_ticket",
    "wrap_cells",
    "PAPER_STATUS_QUERY",
    "paper_ok",
    "send_to_target",
]

PAPER_STATUS_QUERY = b"\x10\x04\x04"  # DLE EOT 4: roll paper sensor status
_CHINESE_MODE = b"\x1c\x26"  # FS &: most Chinese printers need it to read two-byte characters
_DEFAULT_NOTICE = "过号请重新取号或到服务台登记，过号后顺延3位"


@dataclass(frozen=True, slots=True)
class Paper:
    columns: int  # ASCII characters a line (a Chinese character takes two)
    number_size: int  # magnification of the ticket number (1..8)
    qr_size: int


PAPER = {58: Paper(columns=32, number_size=3, qr_size=5), 80: Paper(columns=48, number_size=4, qr_size=7)}


@dataclass(frozen=True, slots=True)
class TicketJob:
    """What a printed ticket carries. `ahead` None prints no people ahead, `eta_minutes` None
    no estimate (the server's are unknown: nothing printed beats a wrong figure)."""

    hall_name: str
    category_name: str
    number: str
    ahead: int | None
    eta_minutes: float | None
    issued_at: str  # already formatted for people, e.g. "2026-11-21 09:03"
    qr_payload: str
    notice: str = _DEFAULT_NOTICE
    # The server's estimate said no open window serves this ticket now (state "no_window"):
    # printed as such, with when windows open again when the hall's hours say.
    no_window: bool = False
    opens_at: str | None = None


def _cols(ch: str) -> int:
    return 1 if ord(ch) < 0x80 else 2


def wrap_cells(text: str, columns: int) -> list[str]:
    """Wrap `text` to lines of at most `columns` ASCII columns (Chinese characters count two)."""
    lines: list[str] = []
    line, used = "", 0
    for ch in text:
        w = _cols(ch)
        if used + w > columns and line:
            lines.append(line)
            line, used = "", 0
        line += ch
        used += w
    if line:
        lines.append(line)
    return lines


def _text(p: Dummy, text: str) -> None:
    # python-escpos' own encoder picks code pages per character and has none for Chinese;
    # the printer is in Chinese mode, so GB18030 bytes go out raw.
    p._raw(text.encode("gb18030", errors="replace") + b"\n")  # a lone surrogate prints "?"


def render_ticket(job: TicketJob, paper_mm: int = 80) -> bytes:
    """The ESC/POS bytes for one ticket. Raises KeyError for a paper width other than 58/80."""
    paper = PAPER[paper_mm]
    p = Dummy()
    p._raw(b"\x1b\x40" + _CHINESE_MODE)
    # Double width when the hall name fits on one line that way, else double height only.
    wide = sum(_cols(c) for c in job.hall_name) * 2 <= paper.columns
    p.set(align="center", bold=True, custom_size=True, width=2 if wide else 1, height=2)
    for line in wrap_cells(job.hall_name, paper.columns // (2 if wide else 1)):
        _text(p, line)
    p.set(align="center", bold=False, custom_size=True, width=1, height=1)
    _text(p, job.category_name)
    p.set(align="center", custom_size=True, width=paper.number_size, height=paper.number_size)
    _text(p, job.number)
    p.set(align="center", custom_size=True, width=1, height=1)
    if job.ahead is not None:
        _text(p, f"前面还有 {job.ahead} 人")
    if job.no_window:
        _text(p, "预计等候 暂无窗口办理")
        if job.opens_at:
            _text(p, f"{job.opens_at} 起办理")
    elif job.eta_minutes is not None:
        _text(p, f"预计等候约 {max(1, round(job.eta_minutes))} 分钟")
    _text(p, f"取号时间 {job.issued_at}")
    p.qr(job.qr_payload, native=True, size=paper.qr_size)
    _text(p, "扫码查看排队进度")
    p.set(align="left")
    for line in wrap_cells(job.notice, paper.columns):
        _text(p, line)
    p.cut()  # feeds (ESC d 6) then cuts (GS V 0)
    return bytes(p.output)


def paper_ok(reply: bytes) -> bool | None:
    """Interpret the answer to `PAPER_STATUS_QUERY`: True paper present, False paper out (bits
    5-6 set), None when no answer came (the printer is off or does not support the query)."""
    if not reply:
        return None
    return not reply[-1] & 0x60


def send_to_target(target: str, data: bytes) -> None:
    """Blocking send to `file:/dev/usb/lp0` (or a bare path) or `tcp://host[:port]`.

    Raises OSError when the printer is unreachable; the caller reports it as a device fault.
    """
    if target.startswith("tcp://"):
        from escpos.printer import Network

        host, _, port = target[len("tcp://") :].partition(":")
        net = Network(host, int(port or 9100), timeout=5)
        net.open()
        try:
            net._raw(data)
        finally:
            net.close()
        return
    path = target[len("file:") :] if target.startswith("file:") else target
    with open(path, "ab", buffering=0) as fh:
        fh.write(data)
