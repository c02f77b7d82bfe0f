"""`WS /ws/halls/{hall}?since=SEQ&token=T`: the live event stream of one hall.

The token comes from the pages' session cookie (same-origin handshakes only), or as the first
message, `{"type": "auth", "token": T}`, within 10 seconds — in a hall whose screens need a
token (layout `[server] public_snapshot = false`) or when the client connects with
`auth=message`; `?token=` still works and the access log redacts it.
On connect the server sends the events after `since` (or a `snapshot` when there is no `since`
or it is more than HALL_RESUME_LIMIT events back), then live envelopes in seq order. Without a
token the stream is the public one. Close codes: 4401 token needed, 4403 not allowed, 4404
unknown hall, 4422 `since` is not a seq (a whole number within 64 bits), 1013 the client fell
behind (its queue filled, or more than HALL_WS_QUEUE KiB waited unsent on its connection):
reconnect with `since`; 1003 a binary frame (messages are JSON text), 1007 a message that is not
a small JSON object, 1009 a message over 4 KB, 1011 the server could not send (logged):
reconnect with `since`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

import anyio
import msgspec
from starlette.websockets import WebSocket, WebSocketDisconnect

from hall.core.events import public_data, wire_json
from hall.core.snapshot import read_snapshot
from hall.edge.body import too_deep
from hall.edge.params import query_int
from hall.errors import ApiError
from hall.fields import MAX_DEPTH
from hall.http.wsfanout import EXTENSION
from hall.realtime.hub import Client, read_events
from hall.security.auth import require
from hall.state import hall_of, principal_of, state_of

__all__ = ["hall_stream", "MAX_MESSAGE"]

log = logging.getLogger(__name__)
MAX_MESSAGE = 4096  # a client only ever sends ping and auth
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

# HALL_WS_QUEUE counts messages; a frame sink counts bytes. Live envelopes are ~300–600 bytes.
_BYTES_PER_MESSAGE = 1024


async def hall_stream(websocket: WebSocket) -> None:
    st = state_of(websocket)
    code = websocket.path_params["hall"]
    try:
        hall = await hall_of(websocket, code)
        principal = await principal_of(websocket)
        if principal is not None:
            require(principal, "read_screen", hall.id)
        elif websocket.query_params.get("token"):
            raise ApiError(401, "unauthorized", "unknown token")
    except ApiError as e:
        await websocket.close(code=4000 + e.status, reason=e.code)
        return
    try:
        since: int | None = query_int(websocket, "since", -1)
    except ApiError as e:
        await websocket.close(code=4000 + e.status, reason="since must be a seq")
        return
    if since == -1:
        since = None
    await websocket.accept()
    if principal is None and (not hall.public_snapshot or websocket.query_params.get("auth") == "message"):
        # A hall whose screens need a token, or a client that says `auth=message`: the token
        # comes as the first message, {"type": "auth", "token": T}, so it stays out of URLs
        # (and so out of access logs). The pages' login rides in the session cookie instead.
        principal = await _first_message_auth(websocket, hall)
        if principal is None:
            return
    audience = "staff" if principal is not None else "public"

    sender: asyncio.Task[None] | None = None

    def overflow() -> None:
        st.metrics.ws_dropped.inc()
        if sender is not None and not sender.done():
            sender.cancel()

    # The queue only in the client (no local name): a direct client lets go of it (hub.go_direct).
    client = Client(code, audience, asyncio.Queue(maxsize=st.settings.ws_queue), overflow)
    st.hub.add(client)  # first: live events queue up while we catch up below
    try:
        last = await _catch_up(websocket, st, hall, since, audience)
        fanout = (websocket.scope.get("extensions") or {}).get(EXTENSION)
        if fanout is not None:
            # Live frames go straight to the connection from now on (hall.http.wsfanout): an
            # idle screen holds no sender task, queue or future. Dropped for falling behind, it
            # gets a short-lived task that sends the 1013 close through ASGI.
            client.go_direct(fanout["writer"], st.settings.ws_queue * _BYTES_PER_MESSAGE, last)
            sender = None
            client.on_overflow = lambda: _close_slow(st, websocket)
        else:
            sender = asyncio.create_task(_send_loop(websocket, client, last))
        while True:
            msg, close = _intake(await websocket.receive())
            if close is not None:
                await websocket.close(code=close[0], reason=close[1])
                break
            if isinstance(msg, dict) and msg.get("type") == "ping":
                client.offer(None, '{"type": "pong"}')
            if sender is not None and sender.done():
                break
    except WebSocketDisconnect:
        pass
    finally:
        st.hub.remove(client)
        if sender is not None and not sender.done():
            sender.cancel()


_closing: set[asyncio.Task[None]] = set()  # held until done (the loop keeps only weak references)


def _close_slow(st: Any, websocket: WebSocket) -> None:
    """A direct client fell behind: count it and close it (1013) so that it resumes with since."""
    st.metrics.ws_dropped.inc()

    async def close() -> None:
        try:
            await websocket.close(code=1013, reason="too slow; resume with since")
        except Exception:  # noqa: BLE001 - already gone
            pass

    task = asyncio.get_running_loop().create_task(close())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


def _intake(message: Any) -> tuple[Any, tuple[int, str] | None]:
    """A received frame: its JSON message, or the close code and reason it earns."""
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    if text is None:
        return None, (1003, "binary frames are not accepted; send JSON text")
    if len(text) > MAX_MESSAGE:
        return None, (1009, f"a message is at most {MAX_MESSAGE} characters")
    try:
        msg = msgspec.json.decode(text)
    except (msgspec.DecodeError, RecursionError):
        return None, (1007, "a message is a JSON object")
    if not isinstance(msg, dict) or _depth(msg) > MAX_DEPTH:
        return None, (1007, "a message is a small JSON object")
    return msg, None


def _depth(value: Any, depth: int = 0) -> int:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list) and value:
        return max(_depth(v, depth + 1) for v in value)
    return depth


async def _first_message_auth(websocket: WebSocket, hall: Any) -> Any:
    from hall.security.auth import resolve_token

    st = state_of(websocket)
    try:
        text = await asyncio.wait_for(websocket.receive_text(), 10)
        # a deep message is no auth message; refused before json recurses to its limit
        msg = None if too_deep(text.encode("utf-8", "surrogatepass")) else json.loads(text)
        token = msg.get("token") if isinstance(msg, dict) and msg.get("type") == "auth" else None
    except (TimeoutError, ValueError, WebSocketDisconnect, KeyError, RecursionError):
        token = None
    principal = None
    if isinstance(token, str) and token:

        def lookup() -> Any:
            with st.db.read() as c:
                return resolve_token(c, token)

        principal = await anyio.to_thread.run_sync(lookup)
    try:
        if principal is None:
            raise ApiError(401, "unauthorized", "token needed")
        require(principal, "read_screen", hall.id)
    except ApiError as e:
        await websocket.close(code=4000 + e.status, reason=e.code)
        return None
    return principal


async def _catch_up(websocket: WebSocket, st: Any, hall: Any, since: int | None, audience: str) -> int:
    limit = st.settings.resume_limit
    if since is not None and since >= 0:
        events = await anyio.to_thread.run_sync(lambda: read_events(st.db, hall, since, None, limit + 1))
        counter = st.hub.last_seq(hall.code)
        ahead_of_table = counter is not None and since > counter and not events
        if len(events) <= limit and not ahead_of_table:
            for env in events:
                data = env["data"] if audience == "staff" else public_data(env["type"], env["data"])
                await websocket.send_text(wire_json(env | {"data": data}))
            return events[-1]["seq"] if events else since

    def snap() -> dict[str, Any]:
        with st.db.read() as conn:
            return read_snapshot(conn, hall)

    data = await anyio.to_thread.run_sync(snap)
    await websocket.send_text(wire_json({"type": "snapshot", "seq": data["seq"], "data": data}))
    return int(data["seq"])


async def _send_loop(websocket: WebSocket, client: Client, last: int) -> None:
    try:
        while True:
            seq, text = await client.queue.get()
            if seq is not None:
                if seq <= last:
                    continue
                last = seq
            await websocket.send_text(_sendable(text))
    except asyncio.CancelledError:
        if client.dropped:
            # Dropped for falling behind: close so that the client reconnects and resumes.
            try:
                await websocket.close(code=1013, reason="too slow; resume with since")
            except Exception:  # noqa: BLE001 - already gone
                pass
        raise
    except Exception:  # noqa: BLE001 - logged, and the client told to resume
        # Never silent: the client gets a close code it acts on (reconnect with since) and the
        # receive loop ends the session.
        log.exception("websocket send to a %s client of %s failed", client.audience, client.hall)
        try:
            await websocket.close(code=1011, reason="send failed; resume with since")
        except Exception:  # noqa: BLE001 - already gone
            pass


def _sendable(text: str) -> str:
    # Text from the hub is wire_json's; a lone surrogate from anywhere else becomes U+FFFD
    # instead of an exception that would end this client's stream.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub("\ufffd", text)
    return text
