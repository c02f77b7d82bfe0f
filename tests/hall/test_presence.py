"""Device presence is kept as state and read by one function, honouring the hall's
`device_offline_seconds`: the manager view, the alerts, the silence watch and the heartbeat agree."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hall.core.presence import mark_silent
from hall.core.queries import device_presence
from hall.core.registry import HallRegistry
from hall.operations.config import OpsConfig
from hall.operations.live.store import hall_view
from hall.store.models import Device, DevicePresence

API = "/api/halls/tiny"


def _offline(hall: Any) -> set[str]:
    r = hall.client.get(f"{API}/live-summary", headers=hall.headers("admin"))
    assert r.status_code == 200, r.text
    return {d["kind"] for d in r.json()["devices_offline"]}


def _alerted(hall: Any, info: Any, now: float) -> list[str]:
    cfg = OpsConfig.build(info.layout, info.settings)
    with hall.db.read() as conn:
        return list(hall_view(conn, info.id, now, info.layout, cfg.device_offline_seconds).offline_devices)


def test_a_bridge_is_offline_after_the_halls_30_seconds_not_90(hall) -> None:
    r = hall.client.put(f"{API}/ops/settings", json={"device_offline_seconds": 30}, headers=hall.headers("admin"))
    assert r.status_code == 200, r.text
    with hall.db.read() as conn:
        bridge = conn.execute(select(Device.code).where(Device.kind == "bridge")).scalar_one()
    beat = {"devices": [{"id": "led-1", "kind": "led", "window": 1, "ok": True}]}
    assert hall.post(f"{API}/devices/heartbeat", "bridge", beat).status_code == 200
    info = HallRegistry(hall.db).get("tiny")
    start = hall.clock.now()

    hall.clock.set(start + 29)
    assert "bridge" not in _offline(hall) and "led" not in _offline(hall)
    assert bridge not in _alerted(hall, info, start + 29)
    assert mark_silent(hall.db, info, start + 29) == []

    hall.clock.set(start + 31)
    assert {"bridge", "led"} <= _offline(hall)  # silent for more than the hall's 30 s
    assert {bridge, "led-1"} <= set(_alerted(hall, info, start + 31))
    envs = mark_silent(hall.db, info, start + 31)
    assert sorted(e["data"]["id"] for e in envs) == sorted([bridge, "led-1"])
    assert all(e["data"]["online"] is False for e in envs)
    assert mark_silent(hall.db, info, start + 40) == []  # said once

    # It speaks again: online at once, with one event for the bridge and one for the strip.
    r = hall.post(f"{API}/devices/heartbeat", "bridge", beat)
    assert r.json()["changed"] == 2
    assert not {"bridge", "led"} & _offline(hall)


def test_a_bridge_forgets_a_device_it_no_longer_drives_and_pages_report_themselves(hall) -> None:
    two = {"devices": [{"id": "led-1", "kind": "led", "window": 1, "ok": True},
                       {"id": "led-2", "kind": "led", "window": 2, "ok": False, "detail": "no answer"}]}
    assert hall.post(f"{API}/devices/heartbeat", "bridge", two).status_code == 200
    info = HallRegistry(hall.db).get("tiny")
    with hall.db.read() as conn:
        seen = {p.code: p for p in device_presence(conn, info.id, hall.clock.now(), 90.0)}
    assert seen["led-2"].online is False and seen["led-2"].detail == "no answer" and seen["led-1"].online
    one = {"devices": two["devices"][:1]}
    assert hall.post(f"{API}/devices/heartbeat", "bridge", one).status_code == 200
    # A kiosk page reports with an id of its own making: it is recorded as the kiosk itself.
    page = {"devices": [{"id": "kiosk-1a2b3c4d", "kind": "kiosk", "ok": True}]}
    assert hall.post(f"{API}/devices/heartbeat", "kiosk", page).status_code == 200
    with hall.db.read() as conn:
        codes = set(conn.execute(select(DevicePresence.code)).scalars())
        kiosk = conn.execute(select(Device.code).where(Device.kind == "kiosk")).scalar_one()
        now = {p.code: p for p in device_presence(conn, info.id, hall.clock.now(), 90.0)}
    assert "led-2" not in codes and "kiosk-1a2b3c4d" not in codes and kiosk in codes
    assert now[kiosk].online and now[kiosk].kind == "kiosk"
    # Registered devices that never reported are offline (the screen and pad of the fixture).
    assert {p.kind for p in now.values() if not p.online} == {"screen", "pad"}
