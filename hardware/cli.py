"""Subcommands of `hall` owned by this package (see hall/cli.py): `emulate` and `bridge`.

`hall emulate led|keypad|pad|printer --link /tmp/ttyLED0` creates a pseudo-terminal (the link
is what the bridge configuration names as the port), shows what the host sends, and for keypads
and pads reads presses from standard input.
"""

from __future__ import annotations

import argparse
import sys
import time

__all__ = ["register"]

_KEYS = {"c": ("call", 0x0C, None), "r": ("recall", 0x0D, None), "n": ("no-show", 0x0F, 6), "p": ("pause", 0x12, None)}


def register(sub: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to the `hall` parser."""
    emulate = sub.add_parser("emulate", help="emulate a serial device on a pseudo-terminal")
    emulate.add_argument("device", choices=["led", "keypad", "pad", "printer"])
    emulate.add_argument("--link", required=True, help="stable path for the pty, e.g. /tmp/ttyLED0")
    emulate.add_argument("--address", type=int, action="append", help="device address (repeatable; default 1)")
    emulate.add_argument("--protocol", default="open", choices=["open", "modbus", "simple"], help="LED protocol")
    emulate.add_argument("--baud", type=int, default=None, help="pace bytes like a real line at this rate")
    emulate.add_argument("--paper-out", action="store_true", help="printer answers the status query with paper out")
    emulate.set_defaults(func=_emulate)

    bridge = sub.add_parser("bridge", help="link serial devices to the hall server")
    bridge.add_argument("--config", required=True, help="bridge.toml (see examples/bridge.toml)")
    bridge.add_argument("-v", "--verbose", action="store_true")
    bridge.set_defaults(func=_bridge)


def _emulate(args: argparse.Namespace) -> int:
    from hardware.emulators import BusEmulator, LedBoard, Received

    addresses = args.address or [1]

    def show(r: Received) -> None:
        stamp = time.strftime("%H:%M:%S")
        if r.kind == "printer":
            print(f"{stamp} ---- ticket ----\n{r.value}\n{stamp} ---- cut ----", flush=True)
        else:
            print(f"{stamp} {r.kind} {r.address}: {r.value}", flush=True)

    bus = BusEmulator(
        leds=[LedBoard(a, args.protocol) for a in addresses] if args.device == "led" else (),
        keypads=addresses if args.device in ("keypad", "pad") else (),
        printer=args.device == "printer",
        link=args.link,
        baud=args.baud,
        on_receive=show,
    )
    bus.paper_out = args.paper_out
    print(f"{args.device} emulator on {bus.path} -> {bus.port.slave_path}; Ctrl-C or EOF to quit", flush=True)
    if args.device == "keypad":
        print("keys: c=call next, r=recall, n=no-show, p=pause; prefix an address as '8c'", flush=True)
    elif args.device == "pad":
        print("type a level 1..5 (5 = 非常满意); prefix an address as '8:5'", flush=True)
    with bus:
        try:
            if args.device in ("keypad", "pad"):
                for line in sys.stdin:
                    _press(bus, args.device, line.strip(), addresses[0])
            else:
                while True:
                    time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


def _press(bus: object, device: str, text: str, default_address: int) -> None:
    from hardware.emulators import BusEmulator

    assert isinstance(bus, BusEmulator)
    if not text:
        return
    address = default_address
    if device == "pad":
        head, _, level = text.rpartition(":")
        if head.isdigit():
            address = int(head)
        if level.isdigit() and 1 <= int(level) <= 5:
            bus.rate(address, int(level))
        else:
            print("level must be 1..5", flush=True)
        return
    digits = "".join(c for c in text if c.isdigit())
    if digits:
        address = int(digits)
    key = _KEYS.get(text[-1])
    if key is None:
        print(f"unknown key {text[-1]!r}", flush=True)
        return
    _name, code, digit = key
    if digit is not None:
        bus.press(address, code, digit)
    else:
        bus.press(address, code)


def _bridge(args: argparse.Namespace) -> int:
    import asyncio
    import logging
    import signal

    from hardware.bridge import Bridge
    from hardware.config import ConfigError, load_config

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(args.config)
    except (OSError, ConfigError) as exc:
        print(f"bridge: {exc}", file=sys.stderr)
        return 2

    async def main() -> None:
        bridge = Bridge(config)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, bridge.stop)
        await bridge.run()

    asyncio.run(main())
    return 0
