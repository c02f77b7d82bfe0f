"""Pseudo-terminal pairs that stand in for serial devices in tests and demos.

The emulator owns the master side (raw); pyserial opens the slave path as if it were
`/dev/ttyUSB0`. An optional symlink gives the port a stable name, so a test can close the pty
("unplug the cable") and create a new one under the same path ("plug it back in").
"""

from __future__ import annotations

import os
import tty

__all__ = ["PtyPort"]


class PtyPort:
    """One pty pair. `path` is what a client opens: the symlink when given, else /dev/pts/N."""

    def __init__(self, link: str | None = None) -> None:
        self.link = link
        self.master = -1
        self._slave = -1
        self.slave_path = ""
        self.open()

    @property
    def path(self) -> str:
        return self.link or self.slave_path

    @property
    def is_open(self) -> bool:
        return self.master >= 0

    def open(self) -> None:
        """Create the pair (again) and point the link at the new slave."""
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        self.master, self._slave = master, slave
        self.slave_path = os.ttyname(slave)
        if self.link:
            tmp = f"{self.link}.{os.getpid()}.tmp"
            os.symlink(self.slave_path, tmp)
            os.replace(tmp, self.link)  # atomic: a client never sees the link missing

    def close(self) -> None:
        """Close both ends: a client reading the slave gets an error, as when a USB adapter is
        pulled. The link stays (dangling) until `open` repoints it."""
        for fd in (self.master, self._slave):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.master = self._slave = -1

    def remove_link(self) -> None:
        if self.link:
            try:
                os.unlink(self.link)
            except FileNotFoundError:
                pass
