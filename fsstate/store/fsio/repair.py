"""Repair's primitives for the entries :class:`~fsstate.store.fsio.tree.Tree` refuses to touch
— symlinks, devices, FIFOs, misnamed files — by path beneath a directory descriptor, walked
with ``O_NOFOLLOW``: stat, unlink, rmdir, move aside to ``quarantine/``, chmod, and a new
durable file (FORMAT)."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from fsstate.store.fsio.calls import (
    _DIR_FLAGS,
    _NEW_FLAGS,
    _PATH_FLAGS,
    DIR_MODE,
    FILE_MODE,
    _write_all,
)
from fsstate.store.fsio.tree import _delete_below


@contextmanager
def parent_at(fd: int, rel: str, *, create: bool = False) -> Iterator[tuple[int, str]]:
    """(descriptor of the parent directory of ``rel`` beneath directory ``fd``, last
    component), walked with ``O_NOFOLLOW`` and created 0700 when ``create``; ``OSError`` when
    a component is missing or is not a real directory."""
    *dirs, name = rel.split("/")
    opened: list[int] = []
    try:
        for part in dirs:
            if create:
                with suppress(FileExistsError):
                    os.mkdir(part, DIR_MODE, dir_fd=opened[-1] if opened else fd)
            opened.append(os.open(part, _DIR_FLAGS, dir_fd=opened[-1] if opened else fd))
        yield (opened[-1] if opened else fd), name
    finally:
        for d in opened:
            os.close(d)


def lstat_at(dir_fd: int, name: str) -> os.stat_result | None:
    """Entry ``name`` of ``dir_fd`` itself, ``None`` when absent."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def unlink_at(fd: int, rel: str) -> None:
    """Remove the non-directory ``rel`` beneath ``fd``, whatever it is (a symlink itself)."""
    with parent_at(fd, rel) as (dfd, name):
        os.unlink(name, dir_fd=dfd)


def delete_tree_at(fd: int, rel: str) -> None:
    """Remove directory ``rel`` beneath ``fd`` with everything below it (the trash), following
    no symlink."""
    with parent_at(fd, rel) as (dfd, name):
        _delete_below(dfd, name)


def rmdir_at(fd: int, rel: str) -> None:
    """Remove the empty directory ``rel`` beneath ``fd``."""
    with parent_at(fd, rel) as (dfd, name):
        os.rmdir(name, dir_fd=dfd)


def move_aside(fd: int, rel: str, dest: str) -> str:
    """Rename ``rel`` beneath ``fd`` — whatever it is — to ``dest`` (its parents created 0700),
    or to ``dest.1``, ``dest.2`` … when that is taken; return the path used. Not durable."""
    with parent_at(fd, rel) as (sfd, name), parent_at(fd, dest, create=True) as (dfd, base):
        target, n = base, 0
        while lstat_at(dfd, target) is not None:
            n += 1
            target = f"{base}.{n}"
        os.rename(name, target, src_dir_fd=sfd, dst_dir_fd=dfd)
    return dest.rsplit("/", 1)[0] + "/" + target if "/" in dest else target


def chmod_at(fd: int, rel: str) -> int:
    """Set 0600 on file or 0700 on directory ``rel`` beneath ``fd`` (``""``: ``fd`` itself)
    without following a symlink: through an ``O_PATH`` descriptor and its ``/proc/self/fd``
    link, as glibc's fchmodat does. Returns the mode set; ``OSError`` (ELOOP) for anything
    else."""
    if rel == "":
        os.fchmod(fd, DIR_MODE)
        return DIR_MODE
    with parent_at(fd, rel) as (dfd, name):
        pfd = os.open(name, _PATH_FLAGS, dir_fd=dfd)
        try:
            kind = os.fstat(pfd).st_mode
            if not (stat.S_ISREG(kind) or stat.S_ISDIR(kind)):
                raise OSError(errno.ELOOP, "not a regular file or directory")
            mode = DIR_MODE if stat.S_ISDIR(kind) else FILE_MODE
            os.chmod(f"/proc/self/fd/{pfd}", mode)
        finally:
            os.close(pfd)
    return mode


def create_at(fd: int, rel: str, data: bytes) -> None:
    """A new durable file ``rel`` beneath ``fd`` (repair's FORMAT): write, fsync, fsync the
    directory. ``FileExistsError`` when something is there."""
    with parent_at(fd, rel) as (dfd, name):
        out = os.open(name, _NEW_FLAGS, FILE_MODE, dir_fd=dfd)
        try:
            _write_all(out, data)
            os.fsync(out)
        finally:
            os.close(out)
        os.fsync(dfd)
