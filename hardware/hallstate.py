"""What the bridge knows of the hall, kept from the snapshot and the event stream.

Server-to-bridge messages set state; `HallState.apply` returns which windows changed so the
bridge repaints only their boards, and the snapshot after a reconnect replaces everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["WindowView", "HallState"]

_ENDS_CURRENT = {
    "ticket.finished",
    "ticket.no_show",
    "ticket.cancelled",
    "ticket.transferred",
    "ticket.suspended",
    "ticket.closed",
}


@dataclass
class WindowView:
    number: str
    api_number: Any  # the window as the server spells it (int or str), for request bodies
    state: str = "idle"  # idle | called | serving | paused | closed
    current_id: Any = None
    current_number: str | None = None
    last_finished_id: Any = None
    last_finished_number: str | None = None
    held: list[Any] = field(default_factory=list)  # tickets suspended here (seen since connecting)


@dataclass
class HallState:
    seq: int = -1
    hall_name: str = ""
    categories: dict[str, str] = field(default_factory=dict)  # code -> name
    windows: dict[str, WindowView] = field(default_factory=dict)

    def window(self, number: Any) -> WindowView:
        key = str(number)
        if key not in self.windows:
            self.windows[key] = WindowView(key, number)
        return self.windows[key]

    def load_snapshot(self, seq: int, snap: dict[str, Any]) -> None:
        self.seq = seq
        hall = snap.get("hall") or {}
        self.hall_name = str(hall.get("name") or hall.get("code") or "")
        self.categories = {str(c["code"]): str(c.get("name", c["code"])) for c in snap.get("categories", [])}
        # The snapshot lists no suspended tickets: keep what we saw before the reconnect.
        held = {number: view.held for number, view in self.windows.items()}
        self.windows = {}
        for w in snap.get("windows", []):
            view = self.window(w["number"])
            view.held = held.get(view.number, [])
            view.state = str(w.get("state") or "idle")
            current = w.get("current")
            if current and view.state in ("called", "serving"):
                view.current_id, view.current_number = current.get("id"), current.get("number")
            finished = w.get("last_finished")
            if finished:
                view.last_finished_id, view.last_finished_number = finished.get("id"), finished.get("number")

    def apply(self, event: dict[str, Any]) -> tuple[str | None, bool]:
        """Apply one envelope. Returns (window changed or None, gap) where `gap` is True when
        the sequence skipped: the caller then fetches a fresh snapshot."""
        seq = event.get("seq")
        gap = False
        if isinstance(seq, int):
            if self.seq >= 0 and seq <= self.seq:
                return None, False  # already seen (replay after resync)
            gap = self.seq >= 0 and seq != self.seq + 1
            self.seq = seq
        kind = event.get("type", "")
        data = event.get("data") or {}
        if kind.startswith("window."):
            if "window" not in data:
                return None, gap
            view = self.window(data["window"])
            if kind == "window.paused":
                view.state = "paused"
            elif kind == "window.resumed":
                view.state = "called" if view.current_number else "idle"
            elif kind == "window.signed_out":
                view.state, view.current_id, view.current_number = "closed", None, None
            elif kind == "window.signed_in":
                view.state = "called" if view.current_number else "idle"
            return view.number, gap
        if not kind.startswith("ticket.") or data.get("window") is None:
            return None, gap
        view = self.window(data["window"])
        if kind in ("ticket.called", "ticket.recalled"):
            view.state = "called"
            view.current_id, view.current_number = data.get("id"), data.get("number")
            return view.number, gap
        if kind == "ticket.started":
            view.state = "serving"
            return None, gap
        if kind == "ticket.finished":
            view.last_finished_id, view.last_finished_number = data.get("id"), data.get("number")
        if kind == "ticket.suspended" and data.get("id") not in view.held:
            view.held.append(data.get("id"))
        elif kind in ("ticket.resumed", "ticket.cancelled", "ticket.closed") and data.get("id") in view.held:
            view.held.remove(data.get("id"))
        if kind in _ENDS_CURRENT and view.current_id is not None and data.get("id") == view.current_id:
            view.current_id = view.current_number = None
            if view.state in ("called", "serving"):
                view.state = "idle"
            return view.number, gap
        return None, gap
