"""Every refusal the staff console and the manager pages can meet has words in the catalogue
(issue 13, item 3): the codes are read from the code that raises them, so a new refusal without
words fails here rather than on a clerk's screen in English."""

from __future__ import annotations

import re
from pathlib import Path

from displays.messages import has, say

ROOT = Path(__file__).resolve().parents[2]
# Where the console's and the manager pages' refusals are raised.
SOURCES = [
    "hall/core/calling.py", "hall/core/actions.py", "hall/core/tickets.py", "hall/http/writes.py",
    "hall/security/auth.py", "hall/operations/web.py", "hall/operations/cases", "hall/operations/live",
    "hall/operations/stats", "hall/operations/city", "hall/operations/ratings/qr_api.py",
    "hall/operations/replication", "hall/core/visits.py",
]
_RAISED = re.compile(r'(?:conflict\(|ApiError\(\d+, |CaseError\(|AppealError\()\s*"([a-z_]+)"')


def _raised_codes() -> set[str]:
    codes: set[str] = set()
    for source in SOURCES:
        path = ROOT / source
        for file in [path] if path.is_file() else sorted(path.rglob("*.py")):
            codes |= set(_RAISED.findall(file.read_text(encoding="utf-8")))
    # Raised through queueing.window_actions.refusal rather than spelled at the raise.
    from queueing.tickets import TicketStatus
    from queueing.window_actions import WindowAction, refusal

    for action in WindowAction:
        for status in (None, *TicketStatus):
            for paused in (False, True):
                code = refusal(action, status, paused=paused)
                if code:
                    codes.add(code)
    return codes


def test_every_refusal_of_the_console_and_manager_pages_has_chinese_words():
    codes = _raised_codes()
    assert {"window_busy", "illegal_move", "window_paused", "illegal_step"} <= codes
    missing = sorted(c for c in codes if not has(c))
    assert not missing, f"no words for {missing}"
    for code in codes:
        assert re.search(r"[\u4e00-\u9fff]", say(code)), code
        assert not re.search(r"[A-Za-z]{3,}", re.sub(r"\{\w+\}", "", say(code))), (code, say(code))
