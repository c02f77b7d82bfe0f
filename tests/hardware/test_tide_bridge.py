"""A 潮汐 change reaches the bridge as an event: the real server on uvicorn, the bridge
connected over its websocket, a manager opening a spare window (hall.operations.live)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hall.security import auth
from hall.security.accounts import add_user
from hall.store.database import Database
from tests.hardware.harness import running_bridge, until
from tests.hardware.realserver import RealServer
from tests.hardware.test_e2e_server import config, window_buses


def test_a_tide_change_reaches_the_bridge_as_an_event(tmp_path: Path) -> None:
    async def main() -> None:
        server = RealServer(tmp_path)
        await server.start()
        db = Database(server.db_url)
        with db.write() as conn:
            user = add_user(conn, "boss", "boss-pass-1", role="manager", name="王主任", halls=["e2e"])
            server.tokens["manager"] = auth.issue_token(conn, user_id=user, hours=1)
        db.dispose()
        leds, pads, buses = window_buses(tmp_path, [8])
        with leds, pads:
            async with running_bridge(config(tmp_path, server, buses)) as bridge:
                await until(lambda: bridge.connected, what="bridge connected")
                assert "9" not in bridge.state.windows
                applied: list[str] = []
                apply = bridge.state.apply

                def spy(env: dict) -> tuple:
                    applied.append(str(env.get("type")))
                    return apply(env)

                bridge.state.apply = spy  # type: ignore[method-assign]
                out = await server.post("/api/halls/e2e/ops/windows/9/skills", "manager", {"categories": ["A"], "name": "潮汐窗口"})
                await until(lambda: "9" in bridge.state.windows, what="the spare window reaches the bridge")
                view = bridge.state.windows["9"]
                assert (view.serves, view.name, view.state) == (["A"], "潮汐窗口", "closed")
                assert "window.retargeted" in applied and bridge.state.seq >= out["seq"]  # by the event itself
        await server.stop()

    asyncio.run(main())
