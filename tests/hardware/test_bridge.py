"""The bridge against the fake server (tests/hardware/fakeserver.py) and pty emulators."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hardware.bridge import NETWORK_DOWN_TEXT, NO_ONE_WAITING_TEXT
from hardware.emulators import BusEmulator, LedBoard
from tests.hardware.fakeserver import FakeHall, FakeServer
from tests.hardware.harness import bridge_config, running_bridge, until

LED_A023_8 = bytes.fromhex("02 08 31 11 00 c7 eb 41 30 32 33 ba c5 b5 bd 38 ba c5 b4 b0 bf da 56 b5 03")
CALL, RECALL = 0x0C, 0x0D


def window_buses(tmp_path: Path, windows: list[int]) -> tuple[BusEmulator, BusEmulator, list[dict]]:
    leds = BusEmulator(leds=[LedBoard(w) for w in windows], link=str(tmp_path / "ttyLED"))
    pads = BusEmulator(keypads=windows, link=str(tmp_path / "ttyKP"))
    cfg = [
        {"port": leds.path, "led": [{"address": w, "window": w, "width": 16} for w in windows]},
        {"port": pads.path, "keypad": [{"address": w, "window": w} for w in windows], "pad": [{"address": w, "window": w} for w in windows]},
    ]
    return leds, pads, cfg


def test_keypad_call_next_paints_led_byte_exact_and_pad_rates_finished_ticket(tmp_path: Path) -> None:
    async def main() -> None:
        hall = FakeHall(next_number=23)
        hall.issue()
        hall.issue()
        server = FakeServer(hall)
        await server.start()
        leds, pads, buses = window_buses(tmp_path, [8])
        with leds, pads:
            async with running_bridge(bridge_config(tmp_path, server.url, buses)) as bridge:
                await until(lambda: bridge.connected, what="bridge connected")
                await until(lambda: leds.leds[8].shown == "欢迎光临", what="idle text painted from the snapshot")
                pads.press(8, CALL)
                await until(lambda: any(r.raw == LED_A023_8 for r in leds.received), what="LED frame for A023")
                await until(lambda: pads.keypads[8].shown == "023", what="keypad digits")
                pads.press(8, CALL)  # finishes A023, calls A024
                await until(lambda: leds.leds[8].shown == "请A024号到8号窗口", what="second call")
                pads.rate(8, 5)
                await until(lambda: hall.ratings, what="rating stored")
                assert hall.ratings == {1: 5}  # A023: the ticket window 8 had just finished
                assert hall.calls == 2
                pads.press(8, CALL)  # nobody left: the keypad says so instead of failing silently
                await until(lambda: pads.keypads[8].shown == NO_ONE_WAITING_TEXT, what="无人等候")
                assert pads.keypads[8].beeps == 1
        await server.stop()

    asyncio.run(main())


def test_call_next_while_server_down_beeps_and_is_never_replayed(tmp_path: Path) -> None:
    async def main() -> None:
        hall = FakeHall()
        hall.issue()
        server = FakeServer(hall)
        await server.start()
        leds, pads, buses = window_buses(tmp_path, [8])
        with leds, pads:
            async with running_bridge(bridge_config(tmp_path, server.url, buses)) as bridge:
                await until(lambda: bridge.connected, what="connected")
                await server.stop()
                await until(lambda: not bridge.connected, what="disconnect noticed")
                pads.press(8, CALL)
                await until(lambda: pads.keypads[8].beeps == 1, timeout=1, what="beep")
                await until(lambda: pads.keypads[8].shown == NETWORK_DOWN_TEXT, timeout=1, what="网络中断")
                await server.start()
                await until(lambda: bridge.connected, what="reconnected")
                await asyncio.sleep(0.5)
                assert hall.calls == 0
                assert len(bridge.outbox) == 0
        await server.stop()

    asyncio.run(main())


def test_ratings_during_outage_are_stored_exactly_once(tmp_path: Path) -> None:
    windows = list(range(1, 11))

    async def main() -> None:
        hall = FakeHall(windows=[str(w) for w in windows])
        for w in windows:
            hall.issue()
            hall.call(str(w))
            hall.finish_current(str(w))
        server = FakeServer(hall)
        await server.start()
        leds, pads, buses = window_buses(tmp_path, windows)
        with leds, pads:
            async with running_bridge(bridge_config(tmp_path, server.url, buses)) as bridge:
                await until(lambda: bridge.connected, what="connected")
                await server.stop()
                await until(lambda: not bridge.connected, what="disconnect noticed")
                for w in windows:
                    pads.rate(w, 1 + w % 5)
                await until(lambda: len(bridge.outbox) == len(windows), what="ratings in the outbox")
                hall.lose_answers = 3  # the first answers after restart get lost: retries must not double
                await server.start()
                await until(lambda: len(hall.ratings) == len(windows) and len(bridge.outbox) == 0, timeout=10, what="all ratings")
                assert hall.ratings == {w: 1 + w % 5 for w in windows}  # ticket w was finished at window w
                assert hall.rating_posts >= len(windows) + 3
                assert bridge.outbox.refused() == []
        await server.stop()

    asyncio.run(main())


def test_4xx_is_final_and_not_retried(tmp_path: Path) -> None:
    async def main() -> None:
        hall = FakeHall()
        hall.issue()
        hall.call("8")
        hall.finish_current("8")
        server = FakeServer(hall)
        await server.start()
        leds, pads, buses = window_buses(tmp_path, [8])
        with leds, pads:
            async with running_bridge(bridge_config(tmp_path, server.url, buses)) as bridge:
                await until(lambda: bridge.connected, what="connected")
                pads.rate(8, 4)
                await until(lambda: hall.ratings == {1: 4}, what="first rating")
                pads.rate(8, 1)  # 一次一评: the server refuses a second rating
                await until(lambda: bridge.outbox.refused(), what="refusal logged")
                await asyncio.sleep(0.5)
                assert hall.rating_posts == 2
                assert hall.ratings == {1: 4}
                assert bridge.outbox.refused()[0][2] == 409
        await server.stop()

    asyncio.run(main())


def test_pty_recreated_under_same_path_is_recovered(tmp_path: Path) -> None:
    async def main() -> None:
        hall = FakeHall()
        hall.issue()
        server = FakeServer(hall)
        await server.start()
        leds, pads, buses = window_buses(tmp_path, [8])
        with leds, pads:
            async with running_bridge(bridge_config(tmp_path, server.url, buses, heartbeat_s=0.2)) as bridge:
                await until(lambda: bridge.connected and leds.leds[8].shown == "欢迎光临", what="painted")
                led_bus = bridge.buses[0]
                leds.unplug()
                await until(lambda: not led_bus.is_open, what="port loss noticed")
                await until(lambda: any(not d["ok"] for beat in hall.heartbeats for d in beat if d["kind"] == "led"), what="device reported down")
                hall.call("8")  # happens while the board is unreachable
                leds.replug()
                await until(lambda: leds.leds[8].shown == "请A001号到8号窗口", timeout=5, what="repaint after reopen")
                assert led_bus.opens == 2
        await server.stop()

    asyncio.run(main())


def test_kiosk_ticket_printed_from_issued_event(tmp_path: Path) -> None:
    async def main() -> None:
        hall = FakeHall()
        server = FakeServer(hall)
        await server.start()
        printer = BusEmulator(printer=True, link=str(tmp_path / "ttyPRN"))
        with printer:
            raw = bridge_config(tmp_path, server.url, [{"port": printer.path, "printer": [{"kiosk": "K1", "paper": 58}]}])
            async with running_bridge(raw) as bridge:
                await until(lambda: bridge.connected, what="connected")
                hall.issue()
                hall.issue(device="K2")  # another kiosk's ticket: not ours to print
                hall.issue(device="K1")
                await until(lambda: printer.tickets(), what="ticket printed")
                await asyncio.sleep(0.2)
        (ticket,) = printer.tickets()
        assert "A003" in ticket.lines
        assert "前面还有 2 人" in ticket.lines
        assert ticket.qr == ["http://hall.test/p/tok3"]
        assert "测试区政务服务中心" in ticket.text
        await server.stop()

    asyncio.run(main())


def test_call_next_when_server_vanished_unnoticed_beeps_at_once(tmp_path: Path) -> None:
    async def main() -> None:
        hall = FakeHall()
        hall.issue()
        server = FakeServer(hall)
        await server.start()
        leds, pads, buses = window_buses(tmp_path, [8])
        with leds, pads:
            async with running_bridge(bridge_config(tmp_path, server.url, buses)) as bridge:
                await until(lambda: bridge.connected, what="connected")
                await server.stop()
                bridge.connected = True  # as if the websocket had not noticed yet
                pads.press(8, CALL)
                await until(lambda: pads.keypads[8].shown == NETWORK_DOWN_TEXT, timeout=2, what="网络中断")
                assert len(bridge.outbox) == 0
                assert bridge.outbox.refused()[0][1] == "keypad"
        await server.stop()

    asyncio.run(main())


def test_call_whose_answer_is_lost_is_retried_with_its_key_and_done_once(tmp_path: Path) -> None:
    async def main() -> None:
        hall = FakeHall()
        hall.issue()
        hall.issue()
        server = FakeServer(hall)
        await server.start()
        leds, pads, buses = window_buses(tmp_path, [8])
        with leds, pads:
            async with running_bridge(bridge_config(tmp_path, server.url, buses)) as bridge:
                await until(lambda: bridge.connected, what="connected")
                hall.lose_answers = 1  # the server calls A001, the answer never arrives
                pads.press(8, CALL)
                await until(lambda: len(bridge.outbox) == 0 and hall.lose_answers == 0, what="retried")
                await until(lambda: leds.leds[8].shown == "请A001号到8号窗口", what="A001 shown")
                await asyncio.sleep(0.3)
                assert hall.calls == 1  # the retry got the stored answer, not a second call
                assert len(hall.idempotent) == 1
        await server.stop()

    asyncio.run(main())


def test_keypad_hold_and_call_back_the_held_ticket(tmp_path: Path) -> None:
    confirm = 0x0F

    async def main() -> None:
        hall = FakeHall()
        hall.issue()
        hall.issue()
        server = FakeServer(hall)
        await server.start()
        leds, pads, buses = window_buses(tmp_path, [8])
        with leds, pads:
            async with running_bridge(bridge_config(tmp_path, server.url, buses)) as bridge:
                await until(lambda: bridge.connected, what="connected")
                pads.press(8, confirm, digit=3)  # nothing held yet
                await until(lambda: pads.keypads[8].shown == "无挂起号", what="nothing held")
                pads.press(8, CALL)
                await until(lambda: bridge.state.windows["8"].current_id == 1, what="A001 called")
                pads.press(8, confirm, digit=0)  # hold A001
                await until(lambda: hall.tickets[1].status == "suspended", what="A001 held")
                await until(lambda: bridge.state.windows["8"].held == [1], what="held seen")
                pads.press(8, confirm, digit=3)  # call it back
                await until(lambda: hall.tickets[1].status == "waiting" and hall.waiting[0] == 1, what="A001 back in line first")
                await until(lambda: bridge.state.windows["8"].held == [], what="resume seen")
        await server.stop()

    asyncio.run(main())
