"""The one table of open flags and modes, and the primitive calls the other ``fsio`` modules
share: ``openat2`` beneath a directory through no symlink, reading a whole file, writing all
of a buffer, and the counter of temporary names.

Every descriptor ``fsio`` opens is opened with one of the flag sets below; none follows a
symlink. ``openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`` is Linux ≥ 5.6 (a read then costs
≈6 µs instead of ≈14 µs); where it is missing, :func:`_openat2` says so once and the caller
walks component by component with ``O_NOFOLLOW``.
"""

from __future__ import annotations

import ctypes
import errno
import itertools
import os
import sys
from typing import Any

# -- the one table of open flags and modes ---------------------------------------------------

_NO_LINKS = os.O_NOFOLLOW | os.O_CLOEXEC
#: A directory: to walk beneath, list or fsync.
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | _NO_LINKS
#: A file fsstate itself made and keeps open or syncs (a control file, a temporary file).
_READ_FLAGS = os.O_RDONLY | _NO_LINKS
#: A file that may be anything someone planted (a document or index entry read by path,
#: fsck's walk, a snapshot's source): a FIFO must not block the open; read, it is empty.
_PROBE_FLAGS = os.O_RDONLY | os.O_NONBLOCK | _NO_LINKS
#: A new file, which must not exist yet (a temporary file, a marker, a copy, FORMAT on repair).
_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NO_LINKS
#: A file written whole, over what was there (an exported database's temporary file).
_REWRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NO_LINKS
#: A control file kept open while the store is (journal, generation, lock), created on first use.
_CONTROL_FLAGS = os.O_RDWR | os.O_CREAT | _NO_LINKS
#: A name only, to stat or chmod the entry itself (whatever it is) without opening it.
_PATH_FLAGS = os.O_PATH | _NO_LINKS
#: The mode of every file and directory fsstate creates.
FILE_MODE = 0o600
DIR_MODE = 0o700

_READ_CHUNK = 64 << 10
_temp_counter = itertools.count()


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


_SYS_OPENAT2 = 437  # the same number on every Linux architecture (new syscalls are unified)
_RESOLVE = 0x02 | 0x04 | 0x08  # RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH
#: Through no symlink, but anywhere: an absolute path outside the store (the tmp dir).
_RESOLVE_ANYWHERE = 0x02 | 0x04
_syscall: Any = None
if sys.platform == "linux":
    try:
        _syscall = ctypes.CDLL(None, use_errno=True).syscall
        _syscall.restype = ctypes.c_long
        # The struct goes by address (c_void_p): converting a pointer argument costs more
        # than the system call (6.1 → 4.0 µs for an open and close).
        _syscall.argtypes = [
            ctypes.c_long,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_void_p,
            ctypes.c_size_t,
        ]
    except (OSError, AttributeError):
        _syscall = None
_HOW_SIZE = ctypes.sizeof(_OpenHow)
#: ``(flags, mode, resolve)`` → the ``open_how`` struct for them and its address: a few,
#: made once.
_hows: dict[tuple[int, int, int], tuple[_OpenHow, int]] = {}


def _how(flags: int, mode: int, resolve: int) -> int:
    made = _hows.get((flags, mode, resolve))
    if made is None:
        how = _OpenHow(flags, mode, resolve)
        made = _hows[flags, mode, resolve] = (how, ctypes.addressof(how))
    return made[1]


def _openat2(dirfd: int, rel: str, flags: int, mode: int, resolve: int = _RESOLVE) -> int | None:
    """``openat2`` beneath ``dirfd`` through no symlink (``resolve``: the ``RESOLVE_*``
    flags; :data:`_RESOLVE_ANYWHERE` for an absolute path, ``dirfd`` then unused); ``None``
    where the kernel lacks it (then the caller walks). Errors as :func:`os.open` raises them
    (ELOOP for a symlink, EXDEV for a path that leaves ``dirfd``)."""
    global _syscall
    if _syscall is None:
        return None
    fd = int(_syscall(_SYS_OPENAT2, dirfd, rel.encode(), _how(flags, mode, resolve), _HOW_SIZE))
    if fd >= 0:
        return fd
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL):
        _syscall = None  # a kernel before 5.6, or one without these RESOLVE flags
        return None
    raise OSError(err, os.strerror(err), rel)


def _read_all(fd: int) -> bytes:
    """The rest of a regular file: one ``read`` for a document of up to 64 KiB (a short read
    of a regular file is its end), without allocating a large buffer per call."""
    chunk = os.read(fd, _READ_CHUNK)
    if len(chunk) < _READ_CHUNK:
        return chunk
    chunks = [chunk]
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
