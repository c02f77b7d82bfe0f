"""Voice announcements of calls, built from a committed clip pack (no speech engine at run time).

``call_clips(number, window)`` gives the clip names of one announcement and
``ClipPack.default().render_call(number, window)`` joins them into one WAV. ``python -m
displays.voice.generate`` (``make clips``) regenerates the pack with Debian's espeak-ng.
"""

from __future__ import annotations

from displays.voice.render import ClipPack, ClipPackError
from displays.voice.speech import CLIP_NAMES, call_clips, number_clips, window_clips

__all__ = ["CLIP_NAMES", "ClipPack", "ClipPackError", "call_clips", "number_clips", "window_clips"]
