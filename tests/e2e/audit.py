"""Checks every browser test of a page can run on what the page shows now.

- `axe_problems(page)`: the serious and critical violations axe-core (through
  axe-playwright-python, the engine shipped inside the package, nothing downloaded) finds.
- `latin_problems(page)`: visible words in Latin letters that are not ticket numbers, codes or
  units — untranslated text a person in the hall would read (English errors, raw JSON, keys).
  An element marked `translate="no"` holds a code as typed (a hall code in an address) and is
  skipped.
- `screenshot(page, name)`: the page as a png in $HALL_SCREENSHOT_DIR, when that is set.
- `audit(page, name)`: all three; fails the test naming what was found.

Shared by the public pages' tests and the staff and manager pages' tests: extend the allowed
words here, in one place, when a page legitimately shows a new unit or code.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

__all__ = ["axe_problems", "latin_problems", "screenshot", "audit", "SIZES", "ALLOWED_WORDS"]

# Each device's screen, as the issue lists them.
SIZES: dict[str, dict[str, int]] = {
    "kiosk": {"width": 1080, "height": 1920},
    "screen": {"width": 1920, "height": 1080},
    "window": {"width": 1280, "height": 720},
    "console": {"width": 1366, "height": 768},
    "pad": {"width": 1024, "height": 600},
    "phone": {"width": 390, "height": 844},
    "manager": {"width": 1920, "height": 1080},
}

# Units and the few abbreviations Chinese halls print as they are.
ALLOWED_WORDS = frozenset({
    "min", "km", "kg", "cm", "mm", "px", "KB", "MB", "GB", "ID", "QR", "LED", "CSV", "XLSX", "PDF",
    "Excel", "A4", "VIP", "IC", "WiFi", "Wi-Fi", "APP", "App", "EMS",
})
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*")
# A ticket number (A001, YB012, VA1000), a code with digits (K7M2P9QX, 4A2B), or one or two
# capitals (a category letter, a keypad key).
_CODE = re.compile(r"^(?:[A-Z]{1,3}\d{1,5}|(?=[A-Z0-9-]*\d)[A-Z0-9-]{2,24}|[A-Z]{1,2})$")

_VISIBLE_TEXT = """
() => {
  const out = [];
  const seen = (el) => {
    const s = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    return s.visibility !== 'hidden' && s.display !== 'none' && r.width > 0 && r.height > 0;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest('script, style, noscript, #page-config, [aria-hidden=true], [translate=no]')) continue;
    const text = n.textContent.trim();
    if (text && seen(el)) out.push(text);
  }
  for (const el of document.querySelectorAll('[placeholder], [title], [aria-label], img[alt], input[type=button], input[type=submit]')) {
    if (!seen(el)) continue;
    for (const a of ['placeholder', 'title', 'aria-label', 'alt', 'value']) {
      if (a === 'value' && el.tagName !== 'INPUT') continue;
      const v = el.getAttribute(a);
      if (v && v.trim()) out.push(v.trim());
    }
  }
  if (document.title) out.push(document.title);
  return out;
}
"""


@lru_cache(maxsize=1)
def _axe() -> Axe:
    return Axe()


def axe_problems(page: Page, impacts: Iterable[str] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core's violations of these impacts: [{id, impact, help, targets}] (empty: none)."""
    wanted = set(impacts)
    results = _axe().run(page)
    out = []
    for v in results.response.get("violations", []):
        if v.get("impact") in wanted:
            targets = [" ".join(map(str, n.get("target", []))) for n in v.get("nodes", [])][:5]
            out.append({"id": v["id"], "impact": v["impact"], "help": v.get("help", ""), "targets": targets})
    return out


def latin_words(texts: Iterable[str], allowed: Iterable[str] = ()) -> list[str]:
    """The words of `texts` in Latin letters that are no ticket number, code or unit."""
    extra = set(allowed)
    bad = []
    for text in texts:
        for word in _WORD.findall(text):
            if word in ALLOWED_WORDS or word in extra or _CODE.match(word):
                continue
            bad.append(f"{word!r} in {text[:80]!r}")
    return bad


def latin_problems(page: Page, allowed: Iterable[str] = ()) -> list[str]:
    """Untranslated Latin words among what `page` shows now (text, placeholders, labels, title)."""
    return latin_words(page.evaluate(_VISIBLE_TEXT), allowed)


def screenshot(page: Page, name: str) -> Path | None:
    """Write `name`.png into $HALL_SCREENSHOT_DIR (None when it is not set)."""
    folder = os.environ.get("HALL_SCREENSHOT_DIR")
    if not folder:
        return None
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=False)
    return path


def audit(page: Page, name: str, allowed: Iterable[str] = (), axe: bool = True) -> None:
    """Screenshot, Latin scan and axe-core on what `page` shows now; asserts both are clean."""
    screenshot(page, name)
    latin = latin_problems(page, allowed)
    assert not latin, f"{name}: untranslated text: {latin[:10]}"
    if axe:
        problems = axe_problems(page)
        assert not problems, f"{name}: axe-core serious/critical violations: {problems}"
