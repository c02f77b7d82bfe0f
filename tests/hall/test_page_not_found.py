"""A mistyped hall in a page's address is a clear page (404, 未找到该大厅), not a page shell that
retries a connection forever; the API keeps answering codes."""

from __future__ import annotations

import pytest

PAGES = ["/kiosk/{h}", "/screen/{h}", "/screen/{h}/windows/1", "/pad/{h}/windows/1", "/book/{h}",
         "/ops/{h}/cases", "/ops/{h}/stats", "/ops/{h}/live", "/manage/{h}"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_page_route_of_an_unknown_hall_is_a_404_page_in_chinese(hall) -> None:
    for pattern in PAGES:
        r = hall.client.get(pattern.format(h="tinny"))
        assert r.status_code == 404, pattern
        assert r.headers["content-type"].startswith("text/html"), pattern
        assert "未找到该大厅" in r.text and "tinny" in r.text, pattern
        # No live client: nothing on the page tries to reach a hall that is not there.
        assert "js/live.js" not in r.text and "网络连接中断" not in r.text, pattern
        ok = hall.client.get(pattern.format(h="tiny"))
        assert ok.status_code == 200, pattern
    api = hall.client.get("/api/halls/tinny/snapshot")
    assert api.status_code == 404 and api.json()["error"] == "unknown_hall"
