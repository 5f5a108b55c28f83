"""fsck's walk over a store tree that may hold anything: directories opened by descriptor,
their entries listed, regular files read (a FIFO does not block the open, a symlink is not
followed: ``OSError``), modes and entries stat'ed without following links."""

from __future__ import annotations

import os
import stat

from fsstate.store.fsio.calls import _DIR_FLAGS, _PROBE_FLAGS, _read_all


def open_dir(path: str, *, dir_fd: int | None = None) -> int:
    """A descriptor of directory ``path``; ``OSError`` (ELOOP, ENOTDIR) when it is a symlink or
    not a directory."""
    return os.open(path, _DIR_FLAGS, dir_fd=dir_fd)


def entries(fd: int) -> list[os.DirEntry[str]]:
    """The entries of directory ``fd``, sorted by name (their ``stat`` never follows links
    when called with ``follow_symlinks=False``)."""
    with os.scandir(fd) as it:
        return sorted(it, key=lambda e: e.name)


def read_regular(name: str, dir_fd: int) -> bytes | None:
    """The bytes of regular file ``name`` in ``dir_fd``; ``None`` when absent; ``OSError`` when
    it is a symlink (ELOOP) or not a regular file (a FIFO does not block the open)."""
    try:
        fd = os.open(name, _PROBE_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise IsADirectoryError(name)
        return _read_all(fd)
    finally:
        os.close(fd)


def fd_mode(fd: int) -> int:
    """``st_mode`` of an open file or directory."""
    return os.fstat(fd).st_mode


def lstat(path: str) -> os.stat_result:
    """The entry ``path`` itself (a symlink is not followed); ``FileNotFoundError``."""
    return os.lstat(path)
