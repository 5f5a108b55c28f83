"""Descriptors of the control files — the journal and generation (opened through
:meth:`Tree.open_control <fsstate.store.fsio.tree.Tree.open_control>`) and the lock file
(``lock.py`` flocks the descriptor) — and what the system says about a store: whether its
mount is read-only, which boot this is."""

from __future__ import annotations

import functools
import os

from fsstate.store.fsio.calls import _CONTROL_FLAGS, _READ_FLAGS, FILE_MODE

_BOOT_ID = "/proc/sys/kernel/random/boot_id"


def open_control(path: str, *, dir_fd: int | None = None, read_only: bool = False) -> int:
    """A descriptor of control file ``path``: read-write, created 0600 when absent, never
    through a symlink (``OSError``: ELOOP). ``read_only`` (a store on a read-only mount):
    opened for reading and never created; ``flock`` works on such a descriptor too."""
    flags = _READ_FLAGS if read_only else _CONTROL_FLAGS
    return os.open(path, flags, FILE_MODE, dir_fd=dir_fd)


def close(fd: int) -> None:
    os.close(fd)


def pread(fd: int, size: int, offset: int) -> bytes:
    """Up to ``size`` bytes at ``offset`` (fewer at the end of the file)."""
    return os.pread(fd, size, offset)


def pwrite_all(fd: int, data: bytes, offset: int) -> None:
    """Write all of ``data`` at ``offset`` (not durable: see :func:`fdatasync`)."""
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def fdatasync(fd: int) -> None:
    os.fdatasync(fd)


def file_size(fd: int) -> int:
    return os.fstat(fd).st_size


def truncate(fd: int, size: int) -> None:
    """Cut (or extend with a hole) the open file ``fd`` to ``size`` bytes."""
    os.ftruncate(fd, size)


def identity(fd: int) -> tuple[int, int]:
    """``(device, inode)`` of an open file: it changes in a copy of the tree."""
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


@functools.cache
def boot_id() -> str:
    """The kernel's ID of this boot, ``"unknown-boot"`` where there is none. Read once per
    process: a process does not outlive its boot."""
    try:
        with open(_BOOT_ID, encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return "unknown-boot"


def read_only_mount(path: str) -> bool:
    """Whether the file system holding ``path`` is mounted read-only (``ST_RDONLY``)."""
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
