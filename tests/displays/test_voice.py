"""Voice: clip sequences of calls, numbers as halls say them, rendered WAVs, the generator."""

from __future__ import annotations

import io
import shutil
import wave
from pathlib import Path

import pytest

from displays.voice import CLIP_NAMES, ClipPack, ClipPackError, call_clips, window_clips
from displays.voice.generate import main as generate_main
from tests.conftest import need


def _seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as w:
        return w.getnframes() / w.getframerate()


def test_call_clips_for_a023_at_window_8() -> None:
    assert call_clips("A023", 8) == [
        "qing", "letter_A", "digit_0", "digit_2", "digit_3", "hao", "dao", "digit_8",
        "hao_chuangkou_banli",
    ]


def test_call_clips_for_b103_at_window_12() -> None:
    assert call_clips("B103", "12") == [
        "qing", "letter_B", "digit_1", "digit_0", "digit_3", "hao", "dao", "shi", "digit_2",
        "hao_chuangkou_banli",
    ]


@pytest.mark.parametrize(
    ("window", "words"),
    [
        (1, ["digit_1"]),
        (10, ["shi"]),
        (20, ["digit_2", "shi"]),
        (23, ["digit_2", "shi", "digit_3"]),
        (100, ["digit_1", "bai"]),
        (105, ["digit_1", "bai", "digit_0", "digit_5"]),
        (110, ["digit_1", "bai", "digit_1", "shi"]),
        ("A3", ["letter_A", "digit_3"]),
    ],
)
def test_window_numbers_are_spoken_as_numbers(window: int | str, words: list[str]) -> None:
    assert window_clips(window) == words


def test_unspeakable_number_is_refused() -> None:
    with pytest.raises(ValueError):
        call_clips("A-01", 3)


def test_committed_pack_is_complete() -> None:
    assert ClipPack.default().missing() == []


@pytest.mark.parametrize(("number", "window"), [("A023", 8), ("B103", 12)])
def test_rendered_call_lasts_3_to_6_seconds_per_repetition(number: str, window: int) -> None:
    pack = ClipPack.default()
    once = _seconds(pack.render_call(number, window, repeat=1, chime=False))
    assert 3.0 <= once <= 6.0
    twice = _seconds(pack.render_call(number, window))  # defaults: chime, then twice
    chime = pack.clip("chime").seconds
    assert twice > chime + 2 * once
    assert twice < chime + 2 * once + 1.5  # only the chime pause and one repetition gap added


def test_render_joins_clips_with_short_gaps() -> None:
    pack = ClipPack.default()
    clips = call_clips("A023", 8)
    sound = sum(pack.clip(n).seconds for n in clips)
    once = _seconds(pack.render_call("A023", 8, repeat=1, chime=False))
    assert once == pytest.approx(sound + 0.060 * (len(clips) - 1), abs=0.01)


def test_missing_and_mismatched_clips_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ClipPackError, match="missing"):
        ClipPack(tmp_path).render_call("A001", 1)
    for name in CLIP_NAMES:
        shutil.copy(ClipPack.default().folder / f"{name}.wav", tmp_path / f"{name}.wav")
    with wave.open(str(tmp_path / "digit_1.wav"), "wb") as w:  # a "recorded" clip at 44.1 kHz
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(b"\x10\x27" * 4410)
    with pytest.raises(ClipPackError, match="digit_1"):
        ClipPack(tmp_path).render_call("A001", 1)
    assert _seconds(ClipPack(tmp_path).render_call("A002", 2, repeat=1)) > 3


def test_generator_builds_a_full_pack(tmp_path: Path) -> None:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        need("espeak-ng", "apt-get install espeak-ng")
    assert generate_main(["--out", str(tmp_path), "--espeak", espeak]) == 0
    pack = ClipPack(tmp_path)
    assert pack.missing() == []
    for name in ("qing", "digit_0", "letter_Z", "hao_chuangkou_banli"):
        clip = pack.clip(name)
        assert 0.1 < clip.seconds < 3.0
        assert max(abs(v) for v in clip.samples) < 32000  # the lowered gain leaves headroom
    assert 3.0 <= _seconds(pack.render_call("A023", 8, repeat=1, chime=False)) <= 6.0


def test_generator_without_espeak_exits_2(tmp_path: Path) -> None:
    assert generate_main(["--out", str(tmp_path), "--espeak", ""]) == 2


def test_recorded_clips_replace_generated_ones_by_name(tmp_path: Path) -> None:
    committed = ClipPack.default().folder
    slow = ClipPack(committed).clip("qing")
    with wave.open(str(tmp_path / "qing.wav"), "wb") as w:  # a "recording": 1.5 s of tone
        w.setnchannels(slow.fmt.channels)
        w.setsampwidth(2)
        w.setframerate(slow.fmt.rate)
        w.writeframes(b"\x00\x30" * int(slow.fmt.rate * 1.5))
    pack = ClipPack(tmp_path, fallback=committed)
    assert pack.missing() == []
    assert pack.clip("qing").seconds == pytest.approx(1.5, abs=0.05)
    assert pack.clip("dao").seconds == ClipPack(committed).clip("dao").seconds
    base = _seconds(ClipPack(committed).render_call("A023", 8, repeat=1, chime=False))
    mixed = _seconds(pack.render_call("A023", 8, repeat=1, chime=False))
    assert mixed == pytest.approx(base - slow.seconds + 1.5, abs=0.05)
    assert ClipPack(tmp_path).missing() != []  # without the fallback the folder alone is incomplete
