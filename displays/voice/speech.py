"""What a call says, as a sequence of clip names: 请 A 零 二 三 号 到 八 号窗口办理.

Ticket numbers are spoken character by character (A023 → A 零 二 三), as halls do so that a
person compares the sound with the paper in hand; window numbers are spoken as numbers
(12 → 十二, 23 → 二十三, 105 → 一百零五).
"""

from __future__ import annotations

import string

__all__ = [
    "CHIME",
    "CLIP_NAMES",
    "DIGIT_CLIPS",
    "call_clips",
    "number_clips",
    "window_clips",
]

QING = "qing"  # 请
HAO = "hao"  # 号
DAO = "dao"  # 到
HAO_WINDOW = "hao_chuangkou_banli"  # 号窗口办理
SHI = "shi"  # 十
BAI = "bai"  # 百
CHIME = "chime"
DIGIT_CLIPS = tuple(f"digit_{d}" for d in range(10))
LETTER_CLIPS = tuple(f"letter_{c}" for c in string.ascii_uppercase)

CLIP_NAMES: tuple[str, ...] = (
    QING, HAO, DAO, HAO_WINDOW, SHI, BAI, CHIME, *DIGIT_CLIPS, *LETTER_CLIPS,
)


def number_clips(number: str) -> list[str]:
    """Clips that spell a ticket number one character at a time (``"A023"`` → A 零 二 三).

    Raises ``ValueError`` for characters the pack cannot say (anything but A–Z and 0–9).
    """
    clips: list[str] = []
    for ch in number.strip().upper():
        if ch in string.digits:
            clips.append(f"digit_{ch}")
        elif ch in string.ascii_uppercase:
            clips.append(f"letter_{ch}")
        else:
            raise ValueError(f"cannot speak {ch!r} in ticket number {number!r}")
    if not clips:
        raise ValueError("empty ticket number")
    return clips


def _cardinal(n: int) -> list[str]:
    """Clips for 1 ≤ n ≤ 999 read as a Mandarin number (十二, 二十三, 一百零五, 一百一十)."""
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    clips: list[str] = []
    if hundreds:
        clips += [f"digit_{hundreds}", BAI]
        if rest == 0:
            return clips
        if tens == 0:
            return [*clips, "digit_0", f"digit_{ones}"]
        # after 百 the ten is always said with its digit: 一百一十, not 一百十
        clips += [f"digit_{tens}", SHI]
    elif tens:
        if tens > 1:
            clips.append(f"digit_{tens}")
        clips.append(SHI)
    if ones:
        clips.append(f"digit_{ones}")
    return clips


def window_clips(window: int | str) -> list[str]:
    """Clips for a window number: numbers 1–999 as numbers, anything else spelled out."""
    text = str(window).strip()
    if text.isdigit() and 0 < int(text) < 1000:
        return _cardinal(int(text))
    return number_clips(text)


def call_clips(number: str, window: int | str, *, chime: bool = False) -> list[str]:
    """The clips of one announcement: 请 ⟨number⟩ 号 到 ⟨window⟩ 号窗口办理 (optionally a chime first)."""
    clips = [CHIME] if chime else []
    return [*clips, QING, *number_clips(number), HAO, DAO, *window_clips(window), HAO_WINDOW]
