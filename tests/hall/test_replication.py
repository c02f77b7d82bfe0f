"""A hall keeps working when its link to the city is down (two real servers: the site on SQLite,
the city on PostgreSQL, a TCP proxy between them): traffic on the site while the link is cut, the
site SIGKILLed mid-replication and restarted, the link restored — the city then holds exactly the
site's tickets, events (same seq), ratings and cases; a 潮汐 change made at the city is applied
by the site; a write the site alone may make is refused at the city."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import select

from hall.core.halls import import_layout
from hall.operations.replication.store import set_authority
from hall.security.accounts import add_device, add_user
from hall.store.database import Database
from hall.store.migrate import upgrade
from hall.store.models import EventRow, Rating, TicketRow
from hall.store.operation_models import CaseRow
from queueing.layout import parse_layout

from .procs import Server
from .tcpproxy import Proxy

CODE = "site1"
API = f"/api/halls/{CODE}"


def site_layout() -> dict[str, Any]:
    return {
        "hall": {"code": CODE, "name": "某某街道便民服务中心", "timezone": "Asia/Shanghai", "kind": "township"},
        "zones": [{"code": "z", "name": "综合"}],
        "categories": [{"code": "A", "name": "综合业务", "zone": "z", "service_minutes": 10},
                       {"code": "B", "name": "社保", "zone": "z", "service_minutes": 10}],
        "windows": [{"number": n, "name": f"{n}号窗口", "kind": "comprehensive", "serves": ["A", "B"]} for n in (1, 2, 3)],
    }


def _prepare(url: str, *, city: bool) -> tuple[Database, dict[str, str]]:
    db = Database(url)
    upgrade(db)
    tokens: dict[str, str] = {}
    with db.write() as conn:
        hall_id = import_layout(conn, parse_layout(site_layout()), matters=[], now=time.time())
        if city:
            tokens["site"] = add_device(conn, "site", CODE)[1]
            add_user(conn, "cityboss", "city-pass-1", role="city")
            set_authority(conn, hall_id, "site", "test", time.time())
        else:
            tokens["kiosk"] = add_device(conn, "kiosk", CODE)[1]
            tokens["pad1"] = add_device(conn, "pad", CODE, window=1)[1]
            add_user(conn, "clerk", "clerk-pass-1", role="staff", halls=[CODE])
    return db, tokens


def _login(base: str, user: str, password: str) -> str:
    r = httpx.post(f"{base}/api/auth/login", json={"username": user, "password": password}, timeout=10)
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


class Traffic:
    def __init__(self, base: str, tokens: dict[str, str]) -> None:
        self.c = httpx.Client(base_url=base, timeout=15)
        self.kiosk = {"Authorization": f"Bearer {tokens['kiosk']}"}
        self.pad = {"Authorization": f"Bearer {tokens['pad1']}"}
        self.clerk = {"Authorization": f"Bearer {_login(base, 'clerk', 'clerk-pass-1')}"}

    def issue(self, n: int) -> None:
        for i in range(n):
            r = self.c.post(f"{API}/tickets", json={"category": "AB"[i % 2], "channel": "kiosk"}, headers=self.kiosk)
            assert r.status_code == 201, r.text

    def serve(self, n: int, rate: int | None = None) -> None:
        for _ in range(n):
            r = self.c.post(f"{API}/windows/1/call", headers=self.clerk)
            assert r.status_code == 200 and r.json()["ticket"], r.text
            tid = r.json()["ticket"]["id"]
            assert self.c.post(f"{API}/windows/1/start", headers=self.clerk).status_code == 200
            assert self.c.post(f"{API}/windows/1/finish", headers=self.clerk).status_code == 200
            if rate is not None:
                body: dict[str, Any] = {"level": rate, "channel": "pad"}
                if rate <= 2:
                    body["reasons"] = ["等候时间太长"]
                r = self.c.post(f"{API}/tickets/{tid}/rating", json=body, headers=self.pad)
                assert r.status_code == 201, r.text


def _facts(db: Database) -> dict[str, Any]:
    with db.read() as conn:
        hall = conn.execute(select(TicketRow.hall_id)).scalar()
        tickets = conn.execute(select(TicketRow.day, TicketRow.number, TicketRow.status, TicketRow.category,
                                      TicketRow.issued_at, TicketRow.finished_at, TicketRow.window)
                               .where(TicketRow.hall_id == hall)).all()
        number = dict(conn.execute(select(TicketRow.id, TicketRow.number)).all())
        events = conn.execute(select(EventRow.seq, EventRow.type, EventRow.at, EventRow.ticket_id)
                              .where(EventRow.hall_id == hall)).all()
        ratings = conn.execute(select(Rating.ticket_id, Rating.level, Rating.channel, Rating.reasons)).all()
        cases = conn.execute(select(CaseRow.ticket_id, CaseRow.status, CaseRow.level, CaseRow.reason)).all()
    return {
        "tickets": Counter(tuple(t) for t in tickets),
        "events": Counter((e.seq, e.type, e.at, number.get(e.ticket_id)) for e in events),
        "ratings": Counter((number[r.ticket_id], r.level, r.channel, tuple(r.reasons)) for r in ratings),
        "cases": Counter((number[c.ticket_id], c.status, c.level, c.reason) for c in cases),
    }


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.2)


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _city_page(page: Page, base: str) -> None:
    page.goto(f"{base}/city")
    page.fill("#g-user", "cityboss")
    page.fill("#g-pass", "city-pass-1")
    page.click("#g-login-form button[type=submit]")
    expect(page.locator(f"#c-halls-body tr[data-hall={CODE}]")).to_have_count(1)


def _rate_by_window_code(page: Page, site: str, clerk: dict[str, str]) -> None:
    """一窗口一码 in the browser: the visit just finished at window 2 is rated once; the same code
    again is refused."""
    visit = httpx.post(f"{site}{API}/windows/2/visit", json={"category": "A"}, headers=clerk, timeout=10)
    assert visit.status_code == 201, visit.text
    assert httpx.post(f"{site}{API}/windows/2/finish", headers=clerk, timeout=10).status_code == 200
    code = httpx.get(f"{site}{API}/windows/2/rating-code", headers=clerk, timeout=10).json()["visit"]["code"]
    for attempt in range(2):
        page.goto(f"{site}/r/{CODE}/2")
        page.fill("#q-code", code)
        page.click(".m-lv[data-level='4']")
        page.click("#q-submit")
        note = page.locator("#q-note")
        if attempt == 0:
            expect(note).to_have_text("评价已提交，感谢您的支持！")
        else:
            expect(note).to_contain_text("评价码不正确，或该次服务已评价")


def test_site_cut_off_and_killed_converges_with_the_city(
    pg_database_url: str, tmp_path: Path, chromium_path: str, screenshot_dir: str | None,
) -> None:
    city_db, city_tokens = _prepare(pg_database_url, city=True)
    site_url = f"sqlite:///{tmp_path / 'site.db'}"
    site_db, site_tokens = _prepare(site_url, city=False)
    common = {"HALL_SECRET_KEY": "repl-test", "HALL_CLOSE_DAY_AT": "", "HALL_OPS_INTERVAL": "0.3", "HALL_REDIS_URL": "",
              "HALL_ISSUE_RATE": "100000"}
    city = Server({**common, "HALL_DATABASE_URL": pg_database_url, "HALL_DATA_DIR": str(tmp_path / "city")},
                  tmp_path / "city.log").start()
    proxy = Proxy(("127.0.0.1", city.port)).start()
    site_env = {**common, "HALL_DATABASE_URL": site_url, "HALL_DATA_DIR": str(tmp_path / "site"),
                "HALL_CITY_URL": f"http://127.0.0.1:{proxy.port}", "HALL_CITY_TOKEN": city_tokens["site"],
                "HALL_REPLICATION_INTERVAL": "0.2", "HALL_REPLICATION_BATCH": "10"}
    site = Server(site_env, tmp_path / "site.log").start()
    boss = {"Authorization": f"Bearer {_login(city.url, 'cityboss', 'city-pass-1')}"}

    def status() -> dict[str, Any]:
        return httpx.get(f"{city.url}/api/replication/{CODE}", headers=boss, timeout=10).json()

    def site_seq() -> int:
        with site_db.read() as conn:
            return int(conn.execute(select(EventRow.seq).order_by(EventRow.seq.desc()).limit(1)).scalar() or 0)

    def converged() -> bool:
        return status().get("acked_seq") == site_seq() and _facts(site_db) == _facts(city_db)

    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:
        traffic = Traffic(site.url, site_tokens)
        traffic.issue(6)
        traffic.serve(2, rate=5)
        traffic.serve(1, rate=1)  # a 差评: the site opens its case
        _wait(converged, 30, "the city catches up with the site")
        assert sum(_facts(city_db)["cases"].values()) == 1
        _city_page(page, city.url)
        sync = page.locator(f"#c-halls-body tr[data-hall={CODE}] .c-sync")
        expect(sync).to_have_attribute("data-sync", "ok")

        # The link goes silent (a township line that drops every byte): the site keeps issuing,
        # calling and rating.
        proxy.blackhole()
        cut_at = time.monotonic()
        before = status()["acked_seq"]
        traffic.issue(24)
        traffic.serve(5, rate=4)
        traffic.serve(1, rate=2)
        assert status()["acked_seq"] == before < site_seq()
        # The city view says the site is cut off (it refreshes every 10 s; the link counts as
        # down after 15 s of silence).
        # (A reload instead of waiting for the page's next 10-s refresh.)
        time.sleep(max(0.0, 16 - (time.monotonic() - cut_at)))
        page.reload()
        expect(sync).to_have_attribute("data-sync", "down", timeout=40_000)
        expect(sync).to_contain_text("站点连接中断")
        if screenshot_dir:
            page.screenshot(path=str(Path(screenshot_dir) / "city-view-site-cut-off.png"), full_page=True)
        # The link comes back and the site dies mid-replication (batches of 10 events: some have
        # arrived, not all); restarted, it resumes from what the city acknowledged.
        proxy.restore()
        _wait(lambda: status()["acked_seq"] > before, 20, "replication resumes")
        site.kill()
        assert status()["acked_seq"] < site_seq()
        traffic.c.close()
        site.start()
        traffic = Traffic(site.url, site_tokens)
        traffic.issue(3)
        _wait(converged, 40, "the city converges after the cut and the kill")
        page.reload()
        expect(sync).to_have_attribute("data-sync", "ok", timeout=25_000)
        facts = _facts(city_db)
        assert sum(facts["tickets"].values()) == 33 and sum(facts["ratings"].values()) == 9
        assert sum(facts["cases"].values()) == 2
        assert max(c for c in facts["events"].values()) == 1  # no event twice

        # 潮汐 at the city travels to the site; an issue at the city for the site's hall is refused.
        r = httpx.post(f"{city.url}{API}/ops/windows/3/skills", json={"categories": ["B"]}, headers=boss, timeout=10)
        assert r.status_code == 202, r.text
        refused = httpx.post(f"{city.url}{API}/tickets", json={"category": "A"}, headers=boss, timeout=10)
        assert refused.status_code == 409 and refused.json()["error"] == "hall_replica"

        def window3_serves_b() -> bool:
            snap = httpx.get(f"{site.url}{API}/snapshot", timeout=10).json()
            w3 = next(w for w in snap["windows"] if w["number"] == 3)
            return list(w3.get("categories") or w3.get("serves") or []) == ["B"]

        _wait(window3_serves_b, 20, "the site applies the city's 潮汐 change")
        _wait(lambda: status()["pending"] == 0, 20, "the site reports the change applied")
        _rate_by_window_code(page, site.url, traffic.clerk)
        traffic.c.close()
    finally:
        browser.close()
        pw.stop()
        site.stop()
        proxy.close()
        city.stop()
        site_db.dispose()
        city_db.dispose()
