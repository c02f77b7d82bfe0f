"""uvicorn's websocket protocol plus one ASGI extension, `hall.fanout`: a synchronous writer of
ready-made frames, so that the hub can hand one event to 1,000 screens without a task, a queue
put and an awaited ASGI send per screen (~35–42 µs each, issue 14).

ASGI lets a server offer extra abilities in `scope["extensions"]`; `hall serve` (and the
benchmarks) run uvicorn with `--ws hall.http.wsfanout:FanoutProtocol`. Under any other server or
protocol the extension is absent and hall.http.ws sends through ASGI as before.

The frames are whole websocket frames (server frames are never masked; per-message deflate is
off on this server), written to the same transport the protocol writes its own frames to, whole
too, so they never interleave inside a frame.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

__all__ = ["FanoutProtocol", "FrameWriter", "EXTENSION", "PROTOCOL"]

EXTENSION = "hall.fanout"
PROTOCOL = "hall.http.wsfanout:FanoutProtocol"  # uvicorn's `ws` option


class FrameWriter:
    """Writes frames straight to one connection's transport (see the module docstring)."""

    __slots__ = ("_proto",)

    def __init__(self, proto: WebSocketsSansIOProtocol) -> None:
        self._proto = proto

    def write(self, frame: bytes) -> bool:
        """Write `frame` now; False when the connection is closing or gone (nothing written)."""
        p = self._proto
        t = p.transport
        if p.close_sent or p.conn.state is not State.OPEN or t is None or t.is_closing():
            return False
        t.write(frame)
        return True

    def buffered(self) -> int:
        """Bytes written but not yet taken by the kernel: a client that does not read grows it."""
        t = self._proto.transport
        return t.get_write_buffer_size() if t is not None else 0


class FanoutProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O websockets protocol with the `hall.fanout` scope extension."""

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # absent when the handshake was refused
        if scope is not None:
            scope["extensions"][EXTENSION] = {"writer": FrameWriter(self)}
