"""Configuration parsing and the `hall emulate` / `hall bridge` command line."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial

from hardware.config import ConfigError, load_config, parse_config
from hardware.protocols.ledframe import encode_led

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bridge.toml"


def test_example_config_loads() -> None:
    cfg = load_config(str(EXAMPLE), {"HALL_BRIDGE_TOKEN": "t/k n"})
    assert cfg.ws_url == "ws://127.0.0.1:8000/ws/halls/county?token=t%2Fk%20n"
    assert [b.port for b in cfg.buses][1] == "socket://192.168.1.50:4001"
    assert cfg.buses[0].leds[2].protocol == "modbus"
    assert {p.kiosk: p.paper for p in cfg.printers} == {"kiosk-2": 58, "kiosk-3": 80}
    assert cfg.frame_gap == pytest.approx(0.01)


def test_config_errors_name_the_field() -> None:
    with pytest.raises(ConfigError, match="server.token"):
        parse_config({"server": {"url": "http://x", "hall": "h"}}, environ={})
    with pytest.raises(ConfigError, match=r"bus\[0\].port"):
        parse_config({"server": {"url": "http://x", "hall": "h", "token": "t"}, "bus": [{}]}, environ={})
    with pytest.raises(ConfigError, match="paper"):
        parse_config({"server": {"url": "http://x", "hall": "h", "token": "t"}, "printer": [{"kiosk": "k", "target": "f", "paper": 60}]}, environ={})


def test_hall_emulate_led_shows_frames(tmp_path: Path) -> None:
    link = tmp_path / "ttyLED"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hall.cli", "emulate", "led", "--link", str(link), "--address", "8"],
        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while not link.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        with serial.Serial(str(link), 9600) as port:
            port.write(encode_led(8, "请A023号到8号窗口"))
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(2)]
        assert "led 8: 请A023号到8号窗口" in lines[1]
    finally:
        proc.terminate()
        proc.wait(5)
        if proc.stdout is not None:
            proc.stdout.close()


def test_hall_bridge_rejects_bad_config(tmp_path: Path) -> None:
    bad = tmp_path / "bridge.toml"
    bad.write_text('[server]\nurl = "http://x"\n', encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "hall.cli", "bridge", "--config", str(bad)], capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin"})
    assert out.returncode == 2
    assert "server.hall" in out.stderr or "server.token" in out.stderr


def test_hall_bridge_runs_paints_boards_and_stops_on_sigterm(tmp_path: Path) -> None:
    import signal

    from hardware.emulators import BusEmulator, LedBoard

    with BusEmulator(leds=[LedBoard(8)], link=str(tmp_path / "ttyLED")) as leds:
        cfg = tmp_path / "bridge.toml"
        cfg.write_text(
            '[server]\nurl = "http://127.0.0.1:9"\nhall = "h1"\ntoken = "t"\n'
            f'[bridge]\noutbox = "{tmp_path / "outbox.db"}"\n'
            f'[[bus]]\nport = "{leds.path}"\nled = [{{ address = 8, window = 8 }}]\n',
            encoding="utf-8",
        )
        proc = subprocess.Popen([sys.executable, "-m", "hall.cli", "bridge", "--config", str(cfg)], stderr=subprocess.DEVNULL)
        try:
            # No server yet: a board that comes up still gets the idle text.
            assert leds.wait_for(lambda r: any(x.value == "欢迎光临" for x in r), timeout=15)
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(15) == 0
