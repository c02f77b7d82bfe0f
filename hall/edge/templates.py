"""The one template environment of the server-rendered pages (displays/templates), with
versioned static URLs."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import jinja2
from starlette.responses import HTMLResponse

import displays
from displays.messages import catalogue, say

__all__ = ["Templates", "TEMPLATES", "STATIC"]

_DISPLAYS = Path(displays.__file__).resolve().parent
TEMPLATES = _DISPLAYS / "templates"
STATIC = _DISPLAYS / "static"


class Templates:
    """jinja2 over displays/templates (autoescaped, strict) and static-file versions; one per app."""

    def __init__(self) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
        )
        self.env.globals["static"] = self.static_url
        # Every word a page shows comes from the one catalogue: `say()` in templates, and the
        # catalogue itself for the pages' scripts (Hall.say / Ops.say turn API codes into words).
        self.messages = dict(catalogue())
        self.env.globals["say"] = say
        self.env.globals["messages"] = self.messages
        self._versions: dict[str, str] = {}

    def static_url(self, path: str) -> str:
        """``/static/PATH?v=HASH``: a kiosk never runs yesterday's script after an upgrade."""
        version = self._versions.get(path)
        if version is None:
            file = STATIC / path
            digest = hashlib.sha256(file.read_bytes()).hexdigest()[:10] if file.is_file() else "0"
            version = self._versions.setdefault(path, digest)
        return f"/static/{path}?v={version}"

    def html(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)

    def response(self, template: str, *, headers: dict[str, str] | None = None, status: int = 200,
                 **context: Any) -> HTMLResponse:
        return HTMLResponse(self.html(template, **context), status_code=status,
                            headers=headers or {"Cache-Control": "no-cache"})
