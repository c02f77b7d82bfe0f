"""Byte-exact codecs against the examples in ../shared/PROTOCOLS.md."""

from __future__ import annotations

import pytest

from hardware.crc import crc16_bytes
from hardware.protocols.ff68 import FF68Parser, beep_frame, digits_frame, key_frame, rating_frame
from hardware.protocols.ledframe import LedFrameParser, encode_led
from hardware.protocols.modbus import ModbusParser, encode_write_register
from hardware.protocols.simple import SimpleNumberParser, encode_simple_number
from hardware.registry import FF68Keypads, KeyPress, RatingPress, board_protocol, keypad_protocol

LED_A023_8 = bytes.fromhex(
    "02 08 31 11 00 c7 eb 41 30 32 33 ba c5 b5 bd 38 ba c5 b4 b0 bf da 56 b5 03"
)


def test_crc16_modbus_check_vector() -> None:
    assert crc16_bytes(bytes.fromhex("01 03 00 00 00 01")) == bytes.fromhex("84 0A")


def test_led_frame_matches_spec() -> None:
    frame = encode_led(8, "请A023号到8号窗口")
    assert frame == LED_A023_8
    assert len(frame) == 25


def test_led_parser_decodes_spec_frame_byte_by_byte() -> None:
    parser = LedFrameParser()
    got = []
    for b in LED_A023_8:
        got += parser.feed(bytes([b]))
    assert [(f.address, f.cmd, f.text) for f in got] == [(8, 0x31, "请A023号到8号窗口")]
    assert parser.stats.bad_frames == 0


def test_keypad_digits_and_beep_match_spec() -> None:
    assert digits_frame(8, "A023") == bytes.fromhex("FF 68 08 08 68 08 02 0A 0A 0A 00 02 03 2D 16")
    assert beep_frame(8) == bytes.fromhex("FF 68 02 02 68 08 03 0B 16")


def test_modbus_and_simple_boards_match_spec() -> None:
    assert encode_write_register(1, 231) == bytes.fromhex("01 06 00 00 00 E7 C9 80")
    assert encode_simple_number(5, 999) == bytes.fromhex("05 03 E7 EF")
    writes = ModbusParser().feed(bytes.fromhex("01 06 00 00 00 E7 C9 80"))
    assert [(w.unit, w.register, w.value) for w in writes] == [(1, 0, 231)]
    nums = SimpleNumberParser({5}).feed(bytes.fromhex("05 03 E7 EF"))
    assert [(n.board, n.value) for n in nums] == [(5, 999)]


def test_two_frames_in_one_read_and_garbage_between() -> None:
    parser = FF68Parser()
    data = b"\x00\x68\x99" + digits_frame(3, "7") + b"\x68\x05\x05\x68" + beep_frame(4)
    frames = parser.feed(data)
    assert [(f.address, f.cmd) for f in frames] == [(3, 2), (4, 3)]
    assert parser.stats.discarded_bytes > 0


def test_corrupted_checksum_counts_a_bad_frame() -> None:
    bad = bytearray(beep_frame(8))
    bad[-2] ^= 0xFF
    parser = FF68Parser()
    assert parser.feed(bytes(bad)) == []
    assert parser.stats.bad_frames == 1
    assert [f.cmd for f in parser.feed(beep_frame(8))] == [3]


def test_keypad_protocol_maps_keys_confirm_digits_and_ratings() -> None:
    pads = FF68Keypads(key_cmd=0x01)
    events = pads.feed(key_frame(8, 0x0C) + key_frame(8, 0x0F, digit=6) + rating_frame(9, 5))
    assert [e for e, _ in events] == [
        KeyPress(8, "call", 0x0C),
        KeyPress(8, "no-show", 0x0F, 6),
        RatingPress(9, 5),
    ]
    # The host acknowledges by echoing the frame.
    assert events[0][1] == key_frame(8, 0x0C)


def test_vendor_level_map_and_unknown_protocol() -> None:
    pads = keypad_protocol("ff68", levels={1: 5, 5: 1})
    (event, _), = pads.feed(rating_frame(2, 1))
    assert event == RatingPress(2, 5)
    with pytest.raises(KeyError):
        board_protocol("nope")


def test_board_protocols_by_name() -> None:
    assert board_protocol("open").encode(8, "请A023号到8号窗口", "A023") == LED_A023_8
    assert board_protocol("modbus").encode(1, "", "A231") == bytes.fromhex("01 06 00 00 00 E7 C9 80")
    assert board_protocol("simple").encode(5, "", "B999") == bytes.fromhex("05 03 E7 EF")
    plug = board_protocol("hardware.registry:OpenStrip", cmd=0x32)
    assert plug.encode(1, "x", None)[2] == 0x32
