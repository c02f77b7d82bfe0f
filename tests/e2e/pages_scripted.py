"""A page of ours in Chromium with no server: a scripted websocket, scripted HTTP, stubbed play().

``open_scripted`` serves one rendered template at ``http://hall.test``, the real static files,
and answers API requests from a dict of canned responses (recording every request), so a test
can deliver exactly the stream messages it wants.
"""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Browser, Page, Route

from displays.voice import ClipPack
from hall.http.pages import STATIC, render_page

ORIGIN = "http://hall.test"
WAV = ClipPack.default().render_call("A001", 1, repeat=1)  # the stubbed play() never plays it

FAKES = """
window.sockets = [];
class FakeSocket {
  constructor(url) {
    this.url = url; this.readyState = 0;
    sockets.push(this);
    setTimeout(() => { this.readyState = 1; this.onopen && this.onopen(); }, 0);
  }
  send() {}
  close() { this.readyState = 3; this.onclose && this.onclose(); }
  deliver(msg) { this.onmessage && this.onmessage({data: JSON.stringify(msg)}); }
}
FakeSocket.OPEN = 1;
window.WebSocket = FakeSocket;
window.played = [];
window.blockAutoplay = false;
HTMLMediaElement.prototype.play = function () {
  if (window.blockAutoplay) {
    return Promise.reject(new DOMException("blocked", "NotAllowedError"));
  }
  played.push(this.src);
  return Promise.resolve();
};
"""


class Scripted:
    """Canned answers by (method, path suffix) and the requests the page made."""

    def __init__(self, template: str, page: str, config: dict[str, Any], **extra: Any) -> None:
        self.html = render_page(template, page, config, **extra)
        self.answers: dict[tuple[str, str], tuple[int, Any]] = {}
        self.requests: list[tuple[str, str, Any]] = []

    def answer(self, method: str, suffix: str, status: int, body: Any) -> None:
        self.answers[(method, suffix)] = (status, body)

    def serve(self, route: Route) -> None:
        request = route.request
        path = request.url[len(ORIGIN):].split("?", 1)[0]
        if path.startswith("/static/"):
            file = STATIC / path[len("/static/"):]
            kind = "text/css" if file.suffix == ".css" else "application/javascript"
            route.fulfill(status=200, body=file.read_text(encoding="utf-8"), content_type=kind)
            return
        if path.endswith("/audio.wav"):
            route.fulfill(status=200, body=WAV, content_type="audio/wav")
            return
        if not path.startswith("/api/"):
            route.fulfill(status=200, body=self.html, content_type="text/html")
            return
        body = json.loads(request.post_data) if request.post_data else None
        self.requests.append((request.method, path, body))
        for (method, suffix), (status, answer) in self.answers.items():
            if method == request.method and path.endswith(suffix):
                route.fulfill(status=status, body=json.dumps(answer), content_type="application/json")
                return
        route.fulfill(status=200, body="{}", content_type="application/json")


def open_scripted(browser: Browser, scripted: Scripted, path: str, width: int, height: int) -> Page:
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.add_init_script(FAKES)
    page.route(f"{ORIGIN}/**", scripted.serve)
    page.goto(ORIGIN + path)
    page.wait_for_function("sockets.length === 1 && sockets[0].readyState === 1")
    return page


def deliver(page: Page, msg: dict[str, Any]) -> None:
    page.evaluate("(m) => sockets.at(-1).deliver(m)", msg)
