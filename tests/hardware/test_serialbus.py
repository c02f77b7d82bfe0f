"""One bus: state frames replace unsent ones, frames keep their order, a late port is opened."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hardware.config import BusConfig
from hardware.emulators import BusEmulator, LedBoard
from hardware.protocols.ledframe import encode_led
from hardware.serialbus import SerialBus
from tests.hardware.harness import until


def test_frames_queued_while_port_missing_are_coalesced_per_key(tmp_path: Path) -> None:
    link = str(tmp_path / "ttyLATE")

    async def main() -> list[tuple[int, str]]:
        opened: list[int] = []
        bus = SerialBus(BusConfig(port=link), gap=0.0, reopen_every=0.1, on_open=lambda b: opened.append(b.opens))
        task = asyncio.create_task(bus.run())
        bus.send(encode_led(1, "旧的"), key=("led", 1))
        bus.send(encode_led(2, "二号"), key=("led", 2))
        bus.send(encode_led(1, "新的"), key=("led", 1))  # replaces 旧的, keeps its place
        await asyncio.sleep(0.3)
        assert not bus.is_open and "open failed" in bus.last_error
        with BusEmulator(leds=[LedBoard(1), LedBoard(2)], link=link) as emu:
            await until(lambda: len(emu.received) == 2, what="frames after the port appeared")
            bus.close()
            await asyncio.wait_for(task, 5)
        assert opened == [1]
        return [(r.address, r.value) for r in emu.received]

    assert asyncio.run(main()) == [(1, "新的"), (2, "二号")]
