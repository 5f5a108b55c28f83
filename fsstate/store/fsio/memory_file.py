"""An anonymous file in memory (``memfd_create``) that a forked child writes and its parent
maps: how a listing shared with children (``fsstate/state/fanout.py``) gets their results
back, without a pipe for either side to block on."""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

__all__ = ["MemoryFile"]


class MemoryFile:
    """``MemoryFile(name)``: a new empty file in memory, closed on ``exec``, inherited by a
    forked child (one file, one offset: the child writes, then the parent reads).
    :class:`OSError` where the kernel has no ``memfd_create``."""

    available = hasattr(os, "memfd_create")

    def __init__(self, name: str) -> None:
        self.fd = os.memfd_create(name, os.MFD_CLOEXEC)

    def writer(self) -> BinaryIO:
        """A buffered writer on the file, which leaves the descriptor open when closed."""
        return open(self.fd, "wb", closefd=False)

    @contextmanager
    def mapped(self) -> Iterator[bytes | mmap.mmap]:
        """What was written, mapped read-only for the ``with`` (``b""`` when nothing was)."""
        size = os.fstat(self.fd).st_size
        if size == 0:
            yield b""
            return
        with mmap.mmap(self.fd, size, prot=mmap.PROT_READ) as data:
            yield data

    def close(self) -> None:
        os.close(self.fd)
