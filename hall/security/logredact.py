"""Tokens never reach the access log: a logging filter that blanks every `token` query parameter.

Devices that cannot send a header still put `?token=` in a URL (a kiosk set up once, an
`<audio src>`), and uvicorn's access logger writes the full path of every request. The filter
rewrites the record's arguments before any handler formats them, so every handler, file or
journal, gets `token=***`.
"""

from __future__ import annotations

import logging
import re

__all__ = ["RedactTokens", "redact", "install"]

_TOKEN = re.compile(r"([?&](?:token|progress_token)=)[^&#\s\"]*", re.IGNORECASE)
_PROGRESS = re.compile(r"(/(?:t|progress|api/progress)/)[A-Za-z0-9_\-]{16,}")
ACCESS_LOGGERS = ("uvicorn.access", "hypercorn.access", "gunicorn.access")


def redact(text: str) -> str:
    """`text` with the values of token parameters (and progress tokens in paths) replaced by ***."""
    return _PROGRESS.sub(r"\1***", _TOKEN.sub(r"\1***", text))


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install(*names: str) -> None:
    """Add the filter to the access loggers (once each)."""
    for name in names or ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


