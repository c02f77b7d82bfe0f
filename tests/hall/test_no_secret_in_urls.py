"""Issue 12 item 7 through the API: the pages' login is an HttpOnly session cookie with CSRF
protection on writes; the websocket takes the cookie or a first message; manager links carry
no token; the access log redacts tokens (a real uvicorn)."""

from __future__ import annotations

import io
import logging
import threading
import time

import httpx
import pytest
import uvicorn
from starlette.testclient import TestClient

from hall.app import create_app
from hall.security.logredact import redact
from hall.settings import load_settings

from .conftest import make_env

API = "/api/halls/tiny"


def _login(client: TestClient) -> httpx.Response:
    r = client.post("/api/auth/login", json={"username": "clerk", "password": "clerk-pass-1"})
    assert r.status_code == 200, r.text
    return r


def test_login_sets_an_httponly_strict_cookie_and_writes_need_the_csrf_header(hall):
    c = hall.client
    c.cookies.clear()
    r = _login(c)
    cookies = {h.split("=", 1)[0]: h for h in r.headers.get_list("set-cookie")}
    session = cookies["hall_session"].lower()
    assert "httponly" in session and "samesite=strict" in session and "path=/" in session
    assert "secure" not in session  # plain http here; see the TLS test below
    assert "httponly" not in cookies["hall_csrf"].lower()  # the page's script echoes this one
    # a read rides on the cookie alone
    assert c.get(f"{API}/tickets").status_code == 200
    # a write with the cookie but no CSRF header: refused, nothing changes
    refused = c.post(f"{API}/windows/1/sign-in", json={})
    assert refused.status_code == 403 and refused.json()["error"] == "csrf_failed"
    wrong = c.post(f"{API}/windows/1/sign-in", json={}, headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    assert [w["staff_name"] for w in c.get(f"{API}/snapshot").json()["windows"]] == [None, None, None]
    ok = c.post(f"{API}/windows/1/sign-in", json={}, headers={"X-CSRF-Token": c.cookies["hall_csrf"]})
    assert ok.status_code == 200, ok.text
    # logging out ends the token, not only the cookie
    token = c.cookies["hall_session"]
    out = c.post("/api/auth/logout", json={}, headers={"X-CSRF-Token": c.cookies["hall_csrf"]})
    assert out.status_code == 200
    c.cookies.clear()
    assert c.get(f"{API}/tickets", headers={"Authorization": f"Bearer {token}"}).status_code == 401  # the token is dead


def test_the_cookie_is_secure_over_tls(hall):
    r = hall.client.post("https://testserver/api/auth/login", json={"username": "clerk", "password": "clerk-pass-1"})
    assert r.status_code == 200
    assert all("secure" in h.lower() for h in r.headers.get_list("set-cookie"))


def test_the_websocket_takes_the_cookie_or_a_first_message(hall):
    c = hall.client
    c.cookies.clear()
    _login(c)
    with c.websocket_connect("/ws/halls/tiny?since=0", headers={"origin": "http://testserver"}) as ws:
        hall.issue("A")
        assert "device" in ws.receive_json()["data"]  # the staff audience
    # another site's page opening a socket: the browser sends the cookie, it does not count
    with c.websocket_connect("/ws/halls/tiny?since=1", headers={"origin": "http://evil.example"}) as ws:
        hall.issue("A")
        assert "device" not in ws.receive_json()["data"]
    c.cookies.clear()
    with c.websocket_connect("/ws/halls/tiny?since=2&auth=message") as ws:
        ws.send_json({"type": "auth", "token": hall.tokens["bridge"]})
        hall.issue("A")
        assert "device" in ws.receive_json()["data"]


def test_manager_pages_carry_no_token_and_old_links_move_it_to_the_cookie(hall):
    c = hall.client
    c.cookies.clear()
    r = c.get(f"/ops/tiny/cases?token={hall.tokens['admin']}&all=1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ops/tiny/cases?all=1"
    assert any(h.startswith("hall_session=") for h in r.headers.get_list("set-cookie"))
    page = c.get("/ops/tiny/cases?all=1")
    assert page.status_code == 200 and "差评整改" in page.text
    assert "token=" not in page.text and hall.tokens["admin"] not in page.text
    stats = c.get("/ops/tiny/stats")
    assert stats.status_code == 200 and "token=" not in stats.text and hall.tokens["admin"] not in stats.text


def test_redact_blanks_every_token_parameter():
    assert redact("GET /kiosk/tiny?token=abc123&x=1 HTTP/1.1") == "GET /kiosk/tiny?token=***&x=1 HTTP/1.1"
    assert redact("/ws/halls/tiny?since=3&token=T0k3n") == "/ws/halls/tiny?since=3&token=***"
    assert redact("/api/progress/AbCdEfGhIjKlMnOpQrStUvWx") == "/api/progress/***"
    assert redact("/snapshot?TOKEN=zz") == "/snapshot?TOKEN=***"


@pytest.fixture
def access_log(database_url, tmp_path, layout_file):
    """A real uvicorn serving the app, its access log captured."""
    app = create_app(load_settings(make_env(database_url, tmp_path, layout_file)), poll_interval=0.2)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=True, lifespan="on")
    server = uvicorn.Server(config)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", out
    finally:
        server.should_exit = True
        thread.join(10)
        access.removeHandler(handler)


def test_the_access_log_holds_no_token(access_log):
    base, out = access_log
    secret = "Sup3rSecretDeviceToken-0123456789"
    httpx.get(f"{base}/kiosk/tiny?token={secret}")
    httpx.get(f"{base}{API}/snapshot?token={secret}&x=1")
    httpx.get(f"{base}/t/{secret}")
    time.sleep(0.2)
    log = out.getvalue()
    assert "/kiosk/tiny?token=***" in log and "snapshot?token=***&x=1" in log
    assert secret not in log
