"""Regenerate the clip pack with Debian's espeak-ng: ``python -m displays.voice.generate``.

Uses the ``cmn-latn-pinyin`` voice with pinyin input (Debian 12's ``cmn`` voice mispronounces
characters), about 3 dB below espeak-ng's default gain (its output nearly clips), trims silence
and writes 16-bit WAVs into ``displays/voice/clips/`` (or ``--out``). The chime is synthesised
here (two decaying tones), since a speech engine cannot make one. Exits 2 when espeak-ng is
missing.
"""

from __future__ import annotations

import argparse
import array
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from displays.voice.render import DEFAULT_CLIP_DIR
from displays.voice.speech import CHIME, CLIP_NAMES
from displays.voice.wavclip import Clip, ClipFormat, read_clip, trim, write_wav

__all__ = ["PINYIN", "generate", "main", "synth_chime"]

VOICE = "cmn-latn-pinyin"
AMPLITUDE = 71  # espeak-ng's -a is linear with 100 the default: 20·log10(0.71) ≈ -3 dB
SPEED = 165  # words per minute; a little slower than the default 175 for a noisy hall

_DIGITS = ["ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3"]
# Letters as Mandarin speakers say them in halls, written in pinyin so one voice says everything.
_LETTERS = {
    "A": "ei1", "B": "bi4", "C": "xi1", "D": "di4", "E": "yi4", "F": "ai4 fu1", "G": "ji4",
    "H": "ei1 qi1", "I": "ai4", "J": "jie4", "K": "kei4", "L": "ai4 le1", "M": "ai4 mu1",
    "N": "en1", "O": "ou1", "P": "pi4", "Q": "qiu1", "R": "a1 er4", "S": "ai4 si1", "T": "ti4",
    "U": "you1", "V": "wei1", "W": "da2 bu liu1", "X": "ai4 ke4 si1", "Y": "wai1", "Z": "zei4",
}

PINYIN: dict[str, str] = {
    "qing": "qing3",
    "hao": "hao4",
    "dao": "dao4",
    "hao_chuangkou_banli": "hao4 chuang1 kou3 ban4 li3",
    "shi": "shi2",
    "bai": "bai3",
    **{f"digit_{d}": p for d, p in enumerate(_DIGITS)},
    **{f"letter_{c}": p for c, p in _LETTERS.items()},
}


def synth_chime(fmt: ClipFormat) -> Clip:
    """A two-tone 叮咚 (E5 then C5), each note decaying, peak about -9 dBFS."""
    out = array.array("h")
    for freq, ms in ((659.25, 380), (523.25, 620)):
        n = int(fmt.rate * ms / 1000)
        for i in range(n):
            t = i / fmt.rate
            attack = min(1.0, i / (0.005 * fmt.rate))  # 5 ms ramp avoids a click
            value = 0.35 * attack * math.exp(-4.0 * t) * math.sin(2 * math.pi * freq * t)
            out.extend([round(value * 32767)] * fmt.channels)
    return Clip(out, fmt)


def _speak(espeak: str, text: str, target: Path) -> None:
    subprocess.run(
        [espeak, "-v", VOICE, "-a", str(AMPLITUDE), "-s", str(SPEED), "-w", str(target), text],
        check=True,
        capture_output=True,
        timeout=60,
    )


def generate(out_dir: Path, espeak: str) -> list[Path]:
    """Write every clip of ``speech.CLIP_NAMES`` into ``out_dir``; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    fmt: ClipFormat | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for name in CLIP_NAMES:
            if name == CHIME:
                continue
            raw = Path(tmp) / f"{name}.wav"
            _speak(espeak, PINYIN[name], raw)
            clip = trim(read_clip(raw))
            fmt = clip.fmt
            target = out_dir / f"{name}.wav"
            write_wav(clip.samples, clip.fmt, target)
            written.append(target)
    assert fmt is not None
    chime = synth_chime(fmt)
    target = out_dir / f"{CHIME}.wav"
    write_wav(chime.samples, chime.fmt, target)
    written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m displays.voice.generate", description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_CLIP_DIR, help="folder for the WAVs")
    parser.add_argument("--espeak", default=shutil.which("espeak-ng") or "", help="espeak-ng path")
    args = parser.parse_args(argv)
    if not args.espeak:
        print("espeak-ng not found: apt-get install espeak-ng", file=sys.stderr)
        return 2
    written = generate(args.out, args.espeak)
    print(f"wrote {len(written)} clips to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
