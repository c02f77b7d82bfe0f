"""False frames of the simple numeric board protocol (`ID HI LO SUM`) in uniform noise.

Feeds the same seeded random bytes to `SimpleNumberParser` with 1 and with 8 expected boards,
once as the board's parser is (values up to 9999, what the bridge sends) and once accepting any
16-bit value (the parser before the value check), and counts the frames it takes: every one is
false. Prints JSON with the rate per million bytes and the expected rate from the arithmetic
in hardware/protocols/simple.py.

    .venv/bin/python benchmarks/simple_false_frames.py [--megabytes 4]
"""

from __future__ import annotations

import argparse
import json
import random

from hardware.protocols.simple import SimpleNumberParser


def false_frames(data: bytes, boards: set[int], max_value: int) -> int:
    parser = SimpleNumberParser(boards, max_value=max_value)
    n = 0
    for i in range(0, len(data), 4096):  # serial reads come in chunks
        n += len(parser.feed(data[i:i + 4096]))
    return n + len(parser.idle())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--megabytes", type=float, default=4.0)
    args = ap.parse_args()
    size = int(args.megabytes * 1_000_000)
    data = random.Random(11643).randbytes(size)
    out: dict[str, object] = {"noise_bytes": size}
    for k in (1, 8):
        boards = set(range(1, k + 1))
        for label, max_value in (("value_check", 9999), ("any_value", 0xFFFF)):
            got = false_frames(data, boards, max_value)
            expected = k / 256 / 256 * (max_value + 1) / 65536 * 1e6
            out[f"boards_{k}_{label}"] = {
                "false_frames": got,
                "per_million_bytes": round(got / size * 1e6, 2),
                "expected_per_million": round(expected, 2),
            }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
