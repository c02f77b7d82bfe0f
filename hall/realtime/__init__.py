"""Realtime: the event bus between server processes and the websocket hub that fans events out (the websocket endpoint itself is hall.http.ws)."""
