"""Issue 6's proof against the real server: emulators on ptys, the bridge, hall.app on uvicorn."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from hardware.emulators import BusEmulator, LedBoard
from tests.hardware.harness import running_bridge, until
from tests.hardware.realserver import RealServer

LED_A023_8 = bytes.fromhex("02 08 31 11 00 c7 eb 41 30 32 33 ba c5 b5 bd 38 ba c5 b4 b0 bf da 56 b5 03")
CALL, START, FINISH = 0x0C, 0x0E, 0x10
OUTAGE = float(os.environ.get("HALL_TEST_BRIDGE_OUTAGE_S", "30"))


def config(tmp_path: Path, server: RealServer, buses: list[dict], **bridge: object) -> dict:
    opts = {"outbox": str(tmp_path / "outbox.db"), "frame_gap_ms": 5, "reopen_s": 0.3, "backoff_max_s": 1}
    opts |= bridge
    return {"server": {"url": server.url, "hall": "e2e", "token": server.tokens["bridge"]}, "bridge": opts, "bus": buses}


def window_buses(tmp_path: Path, windows: list[int]) -> tuple[BusEmulator, BusEmulator, list[dict]]:
    leds = BusEmulator(leds=[LedBoard(w) for w in windows], link=str(tmp_path / "ttyLED"))
    pads = BusEmulator(keypads=windows, link=str(tmp_path / "ttyKP"))
    buses = [
        {"port": leds.path, "led": [{"address": w, "window": w, "width": 16} for w in windows]},
        {"port": pads.path, "keypad": [{"address": w, "window": w} for w in windows], "pad": [{"address": w, "window": w} for w in windows]},
    ]
    return leds, pads, buses


async def rated(server: RealServer) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for e in await server.events():
        if e["type"] == "ticket.rated":
            out.setdefault(e["data"]["id"], []).append(e["data"]["level"])
    return out


def test_keypad_call_to_led_frame_and_pad_rating(tmp_path: Path) -> None:
    async def main() -> None:
        server = RealServer(tmp_path)
        await server.start()
        for _ in range(22):  # today's A001..A022 are gone, so the next ticket is A023
            t = await server.post("/api/halls/e2e/tickets", json={"category": "A", "channel": "kiosk"})
            await server.post(f"/api/halls/e2e/tickets/{t['id']}/cancel")
        a023 = await server.post("/api/halls/e2e/tickets", json={"category": "A", "channel": "kiosk"})
        assert a023["number"] == "A023"
        leds, pads, buses = window_buses(tmp_path, [8])
        with leds, pads:
            async with running_bridge(config(tmp_path, server, buses)) as bridge:
                await until(lambda: bridge.connected, what="bridge connected")
                pads.press(8, CALL)
                await until(lambda: any(r.raw == LED_A023_8 for r in leds.received), what="byte-exact LED frame at address 8")
                await until(lambda: pads.keypads[8].shown == "023", what="keypad shows the number")
                pads.press(8, START)
                pads.press(8, FINISH)
                await until(lambda: bridge.state.windows["8"].last_finished_id == a023["id"], what="finish seen")
                pads.rate(8, 5)
                await until(lambda: len(bridge.outbox) == 0 and bridge.state.seq >= 0, what="outbox drained")

                async def has_rating() -> bool:
                    return a023["id"] in await rated(server)

                for _ in range(100):
                    if await has_rating():
                        break
                    await asyncio.sleep(0.05)
                assert (await rated(server)) == {a023["id"]: [5]}
                assert bridge.outbox.refused() == []
        await server.stop()

    asyncio.run(main())


def test_kiosk_ticket_printed_with_number_ahead_and_qr(tmp_path: Path) -> None:
    async def main() -> None:
        server = RealServer(tmp_path)
        await server.start()
        printer = BusEmulator(printer=True, link=str(tmp_path / "ttyPRN"))
        with printer:
            raw = config(tmp_path, server, [{"port": printer.path, "printer": [{"kiosk": "kiosk-1", "paper": 80}]}])
            async with running_bridge(raw) as bridge:
                await until(lambda: bridge.connected, what="connected")
                await server.post("/api/halls/e2e/tickets", json={"category": "A", "channel": "kiosk"})  # the bridge's own
                ticket = await server.post("/api/halls/e2e/tickets", "kiosk", {"category": "A", "channel": "kiosk"})
                await until(lambda: printer.tickets(), what="printed ticket")
                await asyncio.sleep(0.3)
        (printed,) = printer.tickets()
        assert ticket["number"] in printed.lines
        assert f"前面还有 {ticket['ahead']} 人" in printed.lines and ticket["ahead"] == 1
        assert printed.qr == [server.url + ticket["progress_url"]]
        await server.stop()

    asyncio.run(main())


def test_pty_recreated_under_same_path_recovers_without_restart(tmp_path: Path) -> None:
    async def main() -> None:
        server = RealServer(tmp_path)
        await server.start()
        t = await server.post("/api/halls/e2e/tickets", json={"category": "A", "channel": "kiosk"})
        leds, pads, buses = window_buses(tmp_path, [8])
        with leds, pads:
            async with running_bridge(config(tmp_path, server, buses)) as bridge:
                await until(lambda: bridge.connected and leds.leds[8].shown == "未开放", what="painted")  # nobody staffs 8
                leds.unplug()
                await until(lambda: not bridge.buses[0].is_open, what="loss noticed")
                await server.post("/api/halls/e2e/windows/8/call")
                await until(lambda: bridge.state.windows["8"].current_number == t["number"], what="call seen")
                leds.replug()
                await until(lambda: leds.leds[8].shown == f"请{t['number']}号到8号窗口", what="repainted after replug")
                assert bridge.buses[0].opens == 2
        await server.stop()

    asyncio.run(main())


@pytest.mark.slow
def test_server_down_while_pads_send_50_ratings_stores_exactly_50(tmp_path: Path) -> None:
    windows = list(range(1, 51))

    async def main() -> None:
        server = RealServer(tmp_path, windows=50)
        await server.start()
        ids = {}
        for w in windows:
            t = await server.post("/api/halls/e2e/tickets", json={"category": "A", "channel": "kiosk"})
            called = await server.post(f"/api/halls/e2e/windows/{w}/call")
            assert called["ticket"]["id"] == t["id"]
            await server.post(f"/api/halls/e2e/windows/{w}/start")
            await server.post(f"/api/halls/e2e/windows/{w}/finish")
            ids[w] = t["id"]
        pads = BusEmulator(keypads=windows, link=str(tmp_path / "ttyPAD"))
        with pads:
            raw = config(tmp_path, server, [{"port": pads.path, "pad": [{"address": w, "window": w} for w in windows]}])
            async with running_bridge(raw) as bridge:
                await until(lambda: bridge.connected, what="connected")
                await until(lambda: all(bridge.state.windows[str(w)].last_finished_id == ids[w] for w in windows), what="snapshot")
                await server.stop()
                await until(lambda: not bridge.connected, what="outage noticed")
                for w in windows:
                    pads.rate(w, 1 + w % 5)
                    await asyncio.sleep(OUTAGE / 60)  # presses spread over the outage
                await until(lambda: len(bridge.outbox) == 50, what="50 ratings kept")
                await asyncio.sleep(max(0.0, OUTAGE - OUTAGE * 50 / 60))
                await server.start()
                await until(lambda: bridge.connected and len(bridge.outbox) == 0, timeout=30, what="outbox delivered")
                got = await rated(server)
        assert got == {ids[w]: [1 + w % 5] for w in windows}  # exactly 50, none twice
        await server.stop()

    asyncio.run(main())


def test_call_next_while_server_down_beeps_and_calls_nobody(tmp_path: Path) -> None:
    async def main() -> None:
        server = RealServer(tmp_path)
        await server.start()
        t = await server.post("/api/halls/e2e/tickets", json={"category": "A", "channel": "kiosk"})
        leds, pads, buses = window_buses(tmp_path, [8])
        with leds, pads:
            async with running_bridge(config(tmp_path, server, buses)) as bridge:
                await until(lambda: bridge.connected, what="connected")
                await server.stop()
                await until(lambda: not bridge.connected, timeout=15, what="outage noticed")
                pads.press(8, CALL)
                await until(lambda: pads.keypads[8].shown == "网络中断" and pads.keypads[8].beeps == 1, timeout=1, what="网络中断")
                await server.start()
                await until(lambda: bridge.connected, timeout=15, what="back")
                await asyncio.sleep(0.5)
                assert not [e for e in await server.events() if e["type"] == "ticket.called"]
                assert bridge.state.windows["8"].current_id is None and t["status"] == "waiting"
        await server.stop()

    asyncio.run(main())
