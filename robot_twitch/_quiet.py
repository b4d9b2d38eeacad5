"""Silence the lines that Bullet's C code prints on import and on connect (no import-time prints)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def silenced_fds(*fds: int) -> Iterator[None]:
    """Redirect OS-level file descriptors (1 stdout, 2 stderr) to /dev/null for the block."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(fd) for fd in fds]
    try:
        with open(os.devnull, "w") as devnull:
            for fd in fds:
                os.dup2(devnull.fileno(), fd)
            yield
    finally:
        for fd, copy in zip(fds, saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)


def import_pybullet_quietly() -> None:
    """Import pybullet once without its 'pybullet build time' line on stderr."""
    if "pybullet" not in sys.modules:
        with silenced_fds(2):
            import pybullet  # noqa: F401
