"""Smaller bridge duties: strip pages in turn, call audio played one at a time, device health."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from hardware.emulators import BusEmulator, LedBoard
from tests.hardware.fakeserver import FakeHall, FakeServer
from tests.hardware.harness import bridge_config, running_bridge, until

PLAYER = """
import sys, time
log = sys.argv[1]; wav = sys.argv[2]
data = open(wav, 'rb').read().decode()
open(log, 'a').write(f'start {data}\\n'); time.sleep(0.3); open(log, 'a').write(f'end {data}\\n')
"""


def test_narrow_strip_shows_pages_in_turn(tmp_path: Path) -> None:
    async def main() -> None:
        hall = FakeHall(next_number=23)
        hall.issue()
        server = FakeServer(hall)
        await server.start()
        leds = BusEmulator(leds=[LedBoard(8)], link=str(tmp_path / "ttyLED"))
        with leds:
            raw = bridge_config(tmp_path, server.url, [{"port": leds.path, "led": [{"address": 8, "window": 8, "width": 6}]}], page_s=0.2)
            async with running_bridge(raw) as bridge:
                await until(lambda: bridge.connected, what="connected")
                hall.call("8")
                # 请A023号到8号窗口 is 8.5 cells: two pages on a 6-cell strip, the number kept whole.
                await until(lambda: len({r.value for r in leds.received if "A023" in r.value or "窗口" in r.value}) >= 2, what="both pages")
                await until(lambda: sum(1 for r in leds.received if r.value == "请A023号") >= 2, what="pages cycle")
        pages = {r.value for r in leds.received} - {"欢迎光临"}
        assert pages == {"请A023号", "到8号窗口"}
        await server.stop()

    asyncio.run(main())


def test_call_audio_is_played_one_call_after_another(tmp_path: Path) -> None:
    log = tmp_path / "played.log"
    script = tmp_path / "player.py"
    script.write_text(PLAYER, encoding="utf-8")

    async def main() -> None:
        hall = FakeHall(windows=["1", "2"])
        hall.issue()
        hall.issue()
        server = FakeServer(hall)
        await server.start()
        raw = bridge_config(tmp_path, server.url, [], audio_player=[sys.executable, str(script), str(log)])
        async with running_bridge(raw) as bridge:
            await until(lambda: bridge.connected, what="connected")
            hall.call("1")
            hall.call("2")
            await until(lambda: log.exists() and log.read_text().count("end") == 2, what="both played")
        await server.stop()

    asyncio.run(main())
    assert log.read_text().splitlines() == ["start WAV1", "end WAV1", "start WAV2", "end WAV2"]


def test_heartbeat_reports_each_device_and_a_missing_port(tmp_path: Path) -> None:
    async def main() -> None:
        hall = FakeHall()
        server = FakeServer(hall)
        await server.start()
        leds = BusEmulator(leds=[LedBoard(8)], link=str(tmp_path / "ttyLED"))
        with leds:
            buses = [
                {"port": leds.path, "led": [{"address": 8, "window": 8}]},
                {"port": str(tmp_path / "nothing-here"), "pad": [{"address": 3, "window": 8}]},
            ]
            async with running_bridge(bridge_config(tmp_path, server.url, buses, heartbeat_s=0.2)) as bridge:
                await until(lambda: bridge.connected and len(hall.heartbeats) >= 2, what="heartbeats")
        beat = {d["id"]: d for d in hall.heartbeats[-1]}
        assert beat[f"led:{leds.path}#8"]["ok"] is True
        pad = beat[f"pad:{tmp_path / 'nothing-here'}#3"]
        assert pad["ok"] is False and "open failed" in pad["detail"]
        await server.stop()

    asyncio.run(main())


def test_serial_id_card_reader_number_reaches_kiosk_page(tmp_path: Path) -> None:
    import json

    import websockets

    async def main() -> None:
        hall = FakeHall()
        server = FakeServer(hall)
        await server.start()
        reader = BusEmulator(link=str(tmp_path / "ttyID"))
        with reader:
            raw = bridge_config(tmp_path, server.url, [{"port": reader.path, "idcard_kiosk": "kiosk-1"}], idcard_listen="127.0.0.1:0")
            async with running_bridge(raw) as bridge:
                assert bridge.idcards is not None
                await asyncio.wait_for(bridge.idcards.ready.wait(), 5)
                url = f"ws://127.0.0.1:{bridge.idcards.port}/?kiosk=kiosk-1"
                async with websockets.connect(url) as page, websockets.connect(url.replace("kiosk-1", "kiosk-2")) as other:
                    await until(lambda: bridge.buses[0].is_open, what="reader port open")
                    await asyncio.sleep(0.1)  # both pages registered
                    reader.write(b"123\r\n")  # not an ID number: dropped
                    reader.swipe_id("11010519491231002x")
                    message = json.loads(await asyncio.wait_for(page.recv(), 5))
                    assert message == {"type": "hall.idcard", "kiosk": "kiosk-1", "id_number": "11010519491231002X"}
                    with pytest.raises(TimeoutError):
                        await asyncio.wait_for(other.recv(), 0.3)
        await server.stop()

    asyncio.run(main())


def test_id_card_reader_without_line_end_still_delivers(tmp_path: Path) -> None:
    """A reader that sends the bare number (no CR LF), after noise without a line end: the quiet
    line ends the number, which reaches the kiosk page."""
    import json

    import websockets

    async def main() -> None:
        server = FakeServer(FakeHall())
        await server.start()
        reader = BusEmulator(link=str(tmp_path / "ttyID"))
        with reader:
            raw = bridge_config(tmp_path, server.url, [{"port": reader.path, "idcard_kiosk": "kiosk-1"}], idcard_listen="127.0.0.1:0")
            async with running_bridge(raw) as bridge:
                assert bridge.idcards is not None
                await asyncio.wait_for(bridge.idcards.ready.wait(), 5)
                async with websockets.connect(f"ws://127.0.0.1:{bridge.idcards.port}/?kiosk=kiosk-1") as page:
                    await until(lambda: bridge.buses[0].is_open, what="reader port open")
                    await asyncio.sleep(0.1)
                    reader.write(bytes(range(0x20, 0x30)) * 3 + b"\x02\x03")  # 50 noise bytes, no line end
                    reader.swipe_id("11010519491231002X", line_end=b"")
                    message = json.loads(await asyncio.wait_for(page.recv(), 5))
                    assert message["id_number"] == "11010519491231002X"
        await server.stop()

    asyncio.run(main())


def test_modbus_board_that_stops_answering_is_reported(tmp_path: Path) -> None:
    async def main() -> None:
        hall = FakeHall(windows=["3", "4"])
        hall.issue()
        server = FakeServer(hall)
        await server.start()
        leds = BusEmulator(leds=[LedBoard(3, "modbus"), LedBoard(4, "modbus")], link=str(tmp_path / "ttyNUM"))
        leds.silent.add(4)
        with leds:
            boards = [{"address": a, "window": a, "protocol": "modbus"} for a in (3, 4)]
            async with running_bridge(bridge_config(tmp_path, server.url, [{"port": leds.path, "led": boards}], heartbeat_s=30)) as bridge:

                def state() -> dict[int, bool]:
                    return {d["window"]: d["ok"] for d in hall.heartbeats[-1]} if hall.heartbeats else {}

                await until(lambda: state() == {3: True, 4: False}, what="board 4 reported silent")
                assert {d["window"]: d["detail"] for d in hall.heartbeats[-1]}[4] == "no answer"
                leds.silent.clear()
                hall.call("4")  # the next frame to board 4 is answered again
                await until(lambda: leds.leds[4].shown == "1", what="board 4 shows the call")
                await until(lambda: state() == {3: True, 4: True}, what="board 4 back")
                assert bridge.connected
        await server.stop()

    asyncio.run(main())


def test_rs485_to_ethernet_converter_over_socket_url(tmp_path: Path) -> None:
    from hardware.protocols.ledframe import LedFrameParser

    async def main() -> None:
        hall = FakeHall()
        server = FakeServer(hall)
        await server.start()
        parser = LedFrameParser()
        texts: list[str] = []

        async def converter(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while data := await reader.read(1024):
                texts.extend(f.text for f in parser.feed(data) if f.address == 8)
            writer.close()

        tcp = await asyncio.start_server(converter, "127.0.0.1", 0)
        port = tcp.sockets[0].getsockname()[1]
        buses = [{"port": f"socket://127.0.0.1:{port}", "led": [{"address": 8, "window": 8}]}]
        async with running_bridge(bridge_config(tmp_path, server.url, buses)) as bridge:
            await until(lambda: bridge.connected and "欢迎光临" in texts, what="frame over TCP")
            hall.issue()
            hall.call("8")
            await until(lambda: "请A001号到8号窗口" in texts, what="call over TCP")
        tcp.close()
        await tcp.wait_closed()
        await server.stop()

    asyncio.run(main())


def test_printer_paper_out_is_reported(tmp_path: Path) -> None:
    async def main() -> None:
        hall = FakeHall()
        server = FakeServer(hall)
        await server.start()
        printer = BusEmulator(printer=True, link=str(tmp_path / "ttyPRN"))
        printer.paper_out = True
        with printer:
            raw = bridge_config(tmp_path, server.url, [{"port": printer.path, "printer": [{"kiosk": "K1"}]}], heartbeat_s=0.2)
            async with running_bridge(raw):

                def report() -> dict[str, object]:
                    return next((d for d in hall.heartbeats[-1] if d["kind"] == "printer"), {}) if hall.heartbeats else {}

                await until(lambda: report().get("ok") is False, what="paper out reported")
                assert report()["detail"] == "paper out"
                printer.paper_out = False
                await until(lambda: report().get("ok") is True, what="paper back")
        await server.stop()

    asyncio.run(main())
