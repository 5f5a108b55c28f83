"""The tmp dir: :class:`PrivateDir`, a directory outside the store that only this user can
write in, reached through no symlink another user could plant, and the files in it (the
refresh marker ``alive``) read and replaced through its descriptor; :class:`UnsafeDirError`
otherwise."""

from __future__ import annotations

import errno
import os
import stat
from contextlib import suppress

from fsstate.store.fsio.calls import (
    _DIR_FLAGS,
    _NEW_FLAGS,
    _PROBE_FLAGS,
    _RESOLVE_ANYWHERE,
    DIR_MODE,
    FILE_MODE,
    _openat2,
    _read_all,
    _temp_counter,
)
from fsstate.store.layout import temp_name

_MAX_SYMLINKS = 40  # as the kernel's path walk (MAXSYMLINKS)


class UnsafeDirError(PermissionError):
    """A directory fsstate would write in outside its store is not private to this user."""


def _open_directly(path: str) -> int | None:
    """Absolute ``path`` opened as a directory in one ``openat2`` when no symlink is on the
    way and every component exists (the common case: what the walk would reach, for one
    system call instead of one per component); ``None`` otherwise, and the caller walks."""
    try:
        return _openat2(-100, path, _DIR_FLAGS, 0, _RESOLVE_ANYWHERE)  # -100: AT_FDCWD
    except OSError:
        return None


def _trusted(st: os.stat_result) -> bool:
    """A directory only root or this user can change: a symlink in it may be followed."""
    return st.st_uid in (0, os.geteuid()) and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


class PrivateDir:
    """A directory outside the store that only this user can write in (the tmp dir).

    Opening walks ``path`` from ``/`` one component at a time without following a symlink,
    except one that sits in a directory only root or this user can change (``/var/run`` →
    ``/run``); missing components are created ``0700``. The directory itself must be a real
    directory owned by this user and writable by no one else, so another user cannot plant a
    name in it; :class:`UnsafeDirError` (naming the path and why) otherwise, before anything
    is written. Files in it are then read and replaced through its descriptor, never followed.
    ``with PrivateDir(path) as d:``.
    """

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        self.fd = self._walk()

    def __enter__(self) -> PrivateDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def _refuse(self, why: str) -> UnsafeDirError:
        return UnsafeDirError(errno.EPERM, f"{why}; refusing to write there", self.path)

    def _walk(self) -> int:
        fd = _open_directly(self.path)
        if fd is None:
            fd = self._walk_components()
        try:
            st = os.fstat(fd)
            if st.st_uid != os.geteuid():
                raise self._refuse(f"it belongs to uid {st.st_uid}, not to uid {os.geteuid()}")
            if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                raise self._refuse(f"other users can write in it (mode {st.st_mode & 0o7777:o})")
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _walk_components(self) -> int:
        """The directory, reached one component at a time (class docstring)."""
        parts = [p for p in self.path.split("/") if p]
        fd = os.open("/", _DIR_FLAGS)
        links = 0
        try:
            while parts:
                part = parts.pop(0)
                try:
                    try:
                        nfd = os.open(part, _DIR_FLAGS, dir_fd=fd)
                    except FileNotFoundError:
                        with suppress(FileExistsError):
                            os.mkdir(part, DIR_MODE, dir_fd=fd)
                        nfd = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                        raise
                    st = os.stat(part, dir_fd=fd, follow_symlinks=False)
                    if not stat.S_ISLNK(st.st_mode):
                        raise self._refuse(f"{part!r} on the way is not a directory") from None
                    if not parts:
                        raise self._refuse("it is a symlink") from None
                    if not _trusted(os.fstat(fd)) or (links := links + 1) > _MAX_SYMLINKS:
                        raise self._refuse(
                            f"the symlink {part!r} on the way is in a directory other users "
                            "can change"
                        ) from None
                    target = os.readlink(part, dir_fd=fd)
                    parts[:0] = [p for p in target.split("/") if p]
                    if target.startswith("/"):
                        os.close(fd)
                        fd = os.open("/", _DIR_FLAGS)
                    continue
                os.close(fd)
                fd = nfd
        except BaseException:
            os.close(fd)
            raise
        return fd

    def read(self, name: str) -> bytes | None:
        """The bytes of regular file ``name``, ``None`` if absent; :class:`UnsafeDirError`
        for anything else there (a symlink, a FIFO)."""
        try:
            fd = os.open(name, _PROBE_FLAGS, dir_fd=self.fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise self._refuse(f"{name!r} in it is a symlink") from None
            raise
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise self._refuse(f"{name!r} in it is not a regular file")
            return _read_all(fd)
        finally:
            os.close(fd)

    def replace(self, name: str, data: bytes) -> None:
        """Make file ``name`` hold ``data``, atomically for readers (a new file renamed over
        it; a symlink planted there is replaced, never followed). Not fsynced: the tmp dir
        is volatile by design."""
        tmp = temp_name(os.getpid(), next(_temp_counter))
        fd = os.open(tmp, _NEW_FLAGS, FILE_MODE, dir_fd=self.fd)
        try:
            os.write(fd, data)  # a few bytes: one write
        finally:
            os.close(fd)
        os.replace(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
