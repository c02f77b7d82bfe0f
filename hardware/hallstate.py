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
    state: str = "closed"  # closed | idle | called | serving | paused (docs/REDUCER.md)
    current_id: Any = None
    current_number: str | None = None
    current_status: str | None = None  # called | serving
    staff_name: str | None = None
    pause_reason: str | None = None
    name: str = ""
    serves: list[str] = field(default_factory=list)
    last_finished_id: Any = None
    last_finished_number: str | None = None
    held: list[Any] = field(default_factory=list)  # tickets suspended here (seen since connecting)

    def hold(self, ticket: dict[str, Any] | None) -> None:
        """Hold `ticket` ({id, number, status}) as the current one, or none."""
        ticket = ticket or {}
        self.current_id, self.current_number = ticket.get("id"), ticket.get("number")
        self.current_status = ticket.get("status") if ticket else None

    def rest_state(self) -> str:
        """Holding nothing and not paused: open while a clerk is signed in, else closed."""
        return "idle" if self.staff_name else "closed"

    def working_state(self) -> str:
        """The state of this window when not paused, from the ticket it holds."""
        if self.current_number is None:
            return self.rest_state()
        return "serving" if self.current_status == "serving" else "called"

    def release(self, ticket_id: Any) -> bool:
        """Let go of `ticket_id` if it is the current one; a paused window stays paused."""
        if self.current_id is None or ticket_id != self.current_id:
            return False
        self.hold(None)
        if self.state != "paused":
            self.state = self.rest_state()
        return True


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
            view.state = str(w.get("state") or "closed")
            view.name = str(w.get("name") or "")
            view.serves = sorted(str(c) for c in w.get("categories") or [])
            view.staff_name = w.get("staff_name")
            view.pause_reason = w.get("pause_reason")
            current = w.get("current")
            view.hold(current if current else None)
            finished = w.get("last_finished")
            if finished:
                view.last_finished_id, view.last_finished_number = finished.get("id"), finished.get("number")

    def apply(self, event: dict[str, Any]) -> tuple[str | None, bool]:
        """Apply one envelope (docs/REDUCER.md's rules). Returns (window changed or None, gap)
        where `gap` is True when the sequence skipped: the caller then fetches a fresh snapshot."""
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
            return self._apply_window(kind, data), gap
        if not kind.startswith("ticket.") or data.get("window") is None:
            return None, gap
        view = self.window(data["window"])
        if kind in ("ticket.called", "ticket.recalled"):
            view.hold({"id": data.get("id"), "number": data.get("number"), "status": "called"})
            if view.state != "paused":
                view.state = "called"
            return view.number, gap
        if kind == "ticket.started":
            if view.current_id is not None and data.get("id") == view.current_id:
                view.current_status = "serving"
                if view.state != "paused":
                    view.state = "serving"
            return None, gap
        if kind == "ticket.finished":
            view.last_finished_id, view.last_finished_number = data.get("id"), data.get("number")
        if kind == "ticket.suspended" and data.get("id") not in view.held:
            view.held.append(data.get("id"))
        elif kind in ("ticket.resumed", "ticket.cancelled", "ticket.closed") and data.get("id") in view.held:
            view.held.remove(data.get("id"))
        if kind in _ENDS_CURRENT and view.release(data.get("id")):
            return view.number, gap
        return None, gap

    def _apply_window(self, kind: str, data: dict[str, Any]) -> str:
        view = self.window(data["window"])
        if kind == "window.paused":
            view.state, view.pause_reason = "paused", str(data.get("reason") or "")
        elif kind == "window.resumed":
            view.state, view.pause_reason = view.working_state(), None
        elif kind == "window.signed_out":
            view.state, view.staff_name, view.pause_reason = "closed", None, None
            view.hold(None)
        elif kind == "window.signed_in":
            view.staff_name = data.get("staff_name")
            view.hold(data.get("current"))
            paused = bool(data.get("paused"))
            view.state = "paused" if paused else view.working_state()
            view.pause_reason = str(data.get("pause_reason") or "") if paused else None
        elif kind == "window.retargeted":
            view.serves = sorted(str(c) for c in data.get("serves") or [])
            if data.get("name"):
                view.name = str(data["name"])
        return view.number
