"""The bridge configuration (`bridge.toml`): server, ports, and which device serves which window.

See examples/bridge.toml. Windows are kept as strings (the number shown over the counter), so
"8" in the file and 8 from the server are the same window.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

__all__ = ["BridgeConfig", "BusConfig", "LedConfig", "PadConfig", "PrinterConfig", "ConfigError", "load_config", "parse_config"]


class ConfigError(ValueError):
    """A bad configuration value; str(e) names the field."""


@dataclass(frozen=True, slots=True)
class LedConfig:
    address: int
    window: str
    width: int = 16  # full-width cells
    protocol: str = "open"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PadConfig:
    """A keypad or a rating pad at a window."""

    address: int
    window: str


@dataclass(frozen=True, slots=True)
class PrinterConfig:
    kiosk: str  # the issuing device id in `ticket.issued` events
    paper: int = 80
    target: str | None = None  # file:/dev/usb/lp0, tcp://host:9100; None = on its bus


@dataclass(frozen=True, slots=True)
class BusConfig:
    port: str  # a path, /dev/serial/by-id/…, or socket://host:port
    baud: int = 9600
    leds: tuple[LedConfig, ...] = ()
    keypads: tuple[PadConfig, ...] = ()
    pads: tuple[PadConfig, ...] = ()
    printers: tuple[PrinterConfig, ...] = ()
    keypad_protocol: str = "ff68"
    keypad_options: dict[str, Any] = field(default_factory=dict)
    idcard_kiosk: str | None = None  # a serial ID-card reader on this port serves this kiosk


@dataclass(frozen=True, slots=True)
class BridgeConfig:
    server: str  # http(s)://host:port
    hall: str
    token: str
    buses: tuple[BusConfig, ...]
    printers: tuple[PrinterConfig, ...] = ()  # file or network printers, not on a bus
    outbox: str = "bridge-outbox.db"
    frame_gap: float = 0.01  # silence between frames on one bus (>= 3.5 characters at 9600 baud)
    reopen_every: float = 3.0
    heartbeat_every: float = 30.0
    call_ttl: float = 5.0  # a keypad action older than this is dropped, never replayed
    rating_ttl: float = 7 * 24 * 3600.0
    page_every: float = 3.0  # seconds per page on strips whose text needs several pages
    audio_player: tuple[str, ...] = ()  # e.g. ("aplay", "-q"): the wav path is appended
    backoff_max: float = 10.0
    hall_settings: dict[str, Any] = field(default_factory=dict)
    rating_channel: str = "keypad"  # "pad" for tablet pads that can ask for a reason
    public_url: str = ""
    idcard_listen: str = "127.0.0.1:8766"  # loopback websocket for kiosk pages (idcardhub.py)  # base of progress links printed as QR codes, when not `server`

    @property
    def ws_url(self) -> str:
        base = self.server.rstrip("/")
        scheme = "wss" if base.startswith("https") else "ws"
        return f"{scheme}{base[base.index(':'):]}/ws/halls/{quote(self.hall)}?token={quote(self.token, safe='')}"


def _req(d: dict[str, Any], key: str, where: str) -> Any:
    if key not in d:
        raise ConfigError(f"{where}.{key}: required")
    return d[key]


def _pads(items: list[dict[str, Any]], where: str) -> tuple[PadConfig, ...]:
    return tuple(PadConfig(int(_req(p, "address", where)), str(_req(p, "window", where))) for p in items)


def parse_config(raw: dict[str, Any], environ: dict[str, str] | None = None) -> BridgeConfig:
    """Build the configuration; raises ConfigError naming the bad field. The token may come
    from `server.token`, `server.token_file` or the HALL_BRIDGE_TOKEN environment variable."""
    env = os.environ if environ is None else environ
    server = raw.get("server", {})
    token = env.get("HALL_BRIDGE_TOKEN") or server.get("token")
    if not token and server.get("token_file"):
        with open(server["token_file"], encoding="utf-8") as fh:
            token = fh.read().strip()
    if not token:
        raise ConfigError("server.token: required (or token_file, or HALL_BRIDGE_TOKEN)")
    buses = []
    for i, b in enumerate(raw.get("bus", [])):
        where = f"bus[{i}]"
        leds = tuple(
            LedConfig(
                int(_req(led, "address", where + ".led")),
                str(_req(led, "window", where + ".led")),
                int(led.get("width", 16)),
                str(led.get("protocol", "open")),
                dict(led.get("options", {})),
            )
            for led in b.get("led", [])
        )
        printers = tuple(
            PrinterConfig(str(_req(p, "kiosk", where + ".printer")), int(p.get("paper", 80)))
            for p in b.get("printer", [])
        )
        buses.append(
            BusConfig(
                port=str(_req(b, "port", where)),
                baud=int(b.get("baud", 9600)),
                leds=leds,
                keypads=_pads(b.get("keypad", []), where + ".keypad"),
                pads=_pads(b.get("pad", []), where + ".pad"),
                printers=printers,
                keypad_protocol=str(b.get("keypad_protocol", "ff68")),
                keypad_options=dict(b.get("keypad_options", {})),
                idcard_kiosk=str(b["idcard_kiosk"]) if b.get("idcard_kiosk") else None,
            )
        )
    printers = tuple(
        PrinterConfig(str(_req(p, "kiosk", "printer")), int(p.get("paper", 80)), str(_req(p, "target", "printer")))
        for p in raw.get("printer", [])
    )
    for p in printers + tuple(p for b in buses for p in b.printers):
        if p.paper not in (58, 80):
            raise ConfigError(f"printer {p.kiosk}.paper: 58 or 80, got {p.paper}")
    opts = raw.get("bridge", {})
    return BridgeConfig(
        server=str(_req(server, "url", "server")),
        hall=str(_req(server, "hall", "server")),
        token=str(token),
        buses=tuple(buses),
        printers=printers,
        outbox=str(opts.get("outbox", "bridge-outbox.db")),
        frame_gap=float(opts.get("frame_gap_ms", 10)) / 1000,
        reopen_every=float(opts.get("reopen_s", 3)),
        heartbeat_every=float(opts.get("heartbeat_s", 30)),
        call_ttl=float(opts.get("call_ttl_s", 5)),
        rating_ttl=float(opts.get("rating_ttl_s", 7 * 24 * 3600)),
        page_every=float(opts.get("page_s", 3)),
        audio_player=tuple(opts.get("audio_player", ())),
        backoff_max=float(opts.get("backoff_max_s", 10)),
        hall_settings=dict(raw.get("texts", {})),
        public_url=str(server.get("public_url", "")),
        rating_channel=str(opts.get("rating_channel", "keypad")),
        idcard_listen=str(opts.get("idcard_listen", "127.0.0.1:8766")),
    )


def load_config(path: str, environ: dict[str, str] | None = None) -> BridgeConfig:
    with open(path, "rb") as fh:
        return parse_config(tomllib.load(fh), environ)
