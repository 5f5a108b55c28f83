"""File mechanics of the store tree: the only module that renames, unlinks or syncs.

Every path is relative to the store directory and resolved beneath a descriptor of it without
following any symlink: in one ``openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`` call where the
kernel has it (Linux ≥ 5.6: a read then costs ≈6 µs instead of ≈14 µs), else component by
component with ``O_NOFOLLOW``. A symlink planted anywhere inside the tree is never followed out
of it (it reads as :class:`CorruptDocumentError` naming the path). Files are created ``0600``
and directories ``0700``.

Writes here are *not* durable on their own: the journal makes a commit durable with one
``fdatasync`` and a checkpoint makes the applied files durable with one :func:`sync_tree`
(DESIGN.md, commit protocol). A document is replaced through a temporary file in the same
directory and ``rename``, so ``cat`` and ``rsync`` never see half a document.
"""

from __future__ import annotations

import ctypes
import errno
import itertools
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from fsstate.errors import CorruptDocumentError
from fsstate.store.layout import is_temp_name, temp_name

__all__ = ["Tree", "fdatasync", "fsync_dir", "make_dirs", "publish_file"]

_READ_CHUNK = 64 << 10
FILE_MODE = 0o600
DIR_MODE = 0o700
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_temp_counter = itertools.count()

_syncfs: Any
try:
    _syncfs = ctypes.CDLL(None, use_errno=True).syncfs
except (OSError, AttributeError):  # not Linux: fall back to a global sync
    _syncfs = None


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


_SYS_OPENAT2 = 437  # the same number on every Linux architecture (new syscalls are unified)
_RESOLVE = 0x02 | 0x04 | 0x08  # RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH
_syscall: Any = None
if sys.platform == "linux":
    try:
        _syscall = ctypes.CDLL(None, use_errno=True).syscall
        _syscall.restype = ctypes.c_long
        _syscall.argtypes = [
            ctypes.c_long,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.POINTER(_OpenHow),
            ctypes.c_size_t,
        ]
    except (OSError, AttributeError):
        _syscall = None


def _openat2(dirfd: int, rel: str, flags: int, mode: int) -> int | None:
    """``openat2`` beneath ``dirfd`` through no symlink; ``None`` where the kernel lacks it
    (then the caller walks). Errors as :func:`os.open` raises them (ELOOP for a symlink,
    EXDEV for a path that leaves ``dirfd``)."""
    global _syscall
    if _syscall is None:
        return None
    how = _OpenHow(flags, mode, _RESOLVE)
    fd = int(_syscall(_SYS_OPENAT2, dirfd, rel.encode(), ctypes.byref(how), ctypes.sizeof(how)))
    if fd >= 0:
        return fd
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL):
        _syscall = None  # a kernel before 5.6, or one without these RESOLVE flags
        return None
    raise OSError(err, os.strerror(err), rel)


def fdatasync(fd: int) -> None:
    os.fdatasync(fd)


def make_dirs(path: str) -> None:
    """``os.makedirs(path)`` (mode 0700), then fsync the parent of every directory it made:
    a new store's directory must not vanish in a power loss after its first commit."""
    made = []
    head = os.path.abspath(path)
    while not os.path.lexists(head):
        made.append(head)
        head = os.path.dirname(head)
    os.makedirs(path, DIR_MODE, exist_ok=True)
    for directory in reversed(made):
        fsync_dir(os.path.dirname(directory))


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


def fsync_dir(path: str) -> None:
    """Make the entries of directory ``path`` (new, renamed, removed names) durable."""
    fd = os.open(path, _DIR_FLAGS)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_file(tmp: str, path: str, *, overwrite: bool) -> None:
    """Make the finished file ``tmp`` durable and give it the name ``path`` (same directory),
    durably. Without ``overwrite`` an existing ``path`` is never replaced:
    :class:`FileExistsError`, even if the name appears meanwhile (``link(2)``)."""
    fd = os.open(tmp, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    if overwrite:
        os.replace(tmp, path)
    else:
        try:
            os.link(tmp, path)
            os.unlink(tmp)
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links: check, then rename
            if os.path.lexists(path):
                raise FileExistsError(path) from None
            os.replace(tmp, path)
    fsync_dir(os.path.dirname(os.path.abspath(path)))


class Tree:
    """The store directory, opened once; all I/O on it goes through relative paths."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.fd = os.open(root, _DIR_FLAGS)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def abspath(self, rel: str) -> str:
        return os.path.join(self.root, rel)

    # -- walking -------------------------------------------------------------------------

    @contextmanager
    def _parent(self, rel: str, *, create: bool) -> Iterator[tuple[int, str] | None]:
        """Yield (descriptor of the parent directory, last component), or ``None`` when a
        parent directory is missing and ``create`` is false."""
        parts = self._parts(rel)
        if len(parts) == 1:
            yield self.fd, rel
            return
        try:
            fd = self._open(rel.rpartition("/")[0], _DIR_FLAGS)
        except FileNotFoundError:
            if not create:
                yield None
                return
            fd = -1  # some parent is missing: walk and create
        if fd >= 0:
            try:
                yield fd, parts[-1]
            finally:
                os.close(fd)
            return
        fd = self.fd
        opened: list[int] = []
        try:
            for part in parts[:-1]:
                try:
                    fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        yield None
                        return
                    with suppress(FileExistsError):
                        os.mkdir(part, DIR_MODE, dir_fd=fd)
                    fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    raise self._hostile(rel, exc) from None
                opened.append(fd)
            yield fd, parts[-1]
        finally:
            for d in opened:
                os.close(d)

    def _parts(self, rel: str) -> list[str]:
        parts = rel.split("/")
        if any(part in ("", ".", "..") for part in parts):
            path = self.abspath(rel)
            raise CorruptDocumentError(f"{path}: a path component leaves the store", path=path)
        return parts

    def _open(self, rel: str, flags: int) -> int:
        """Open ``rel`` beneath the store through no symlink. :class:`FileNotFoundError` when
        it (or a parent) is absent; :class:`CorruptDocumentError` for a symlink or a wrong
        type on the way."""
        self._parts(rel)
        try:
            fd = _openat2(self.fd, rel, flags, 0)
            if fd is not None:
                return fd
            parts = rel.split("/")
            dfd, opened = self.fd, []
            try:
                for part in parts[:-1]:
                    dfd = os.open(part, _DIR_FLAGS, dir_fd=dfd)
                    opened.append(dfd)
                return os.open(parts[-1], flags, dir_fd=dfd)
            finally:
                for d in opened:
                    os.close(d)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise self._hostile(rel, exc) from None

    def _hostile(self, rel: str, exc: OSError) -> CorruptDocumentError:
        path = self.abspath(rel)
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EISDIR, errno.EXDEV):
            return CorruptDocumentError(
                f"{path}: not a regular file or directory (symlink or wrong type; run fsck)",
                path=path,
            )
        return CorruptDocumentError(f"{path}: {exc.strerror}", path=path)

    # -- reads ---------------------------------------------------------------------------

    def read(self, rel: str) -> bytes | None:
        """The bytes of file ``rel``, or ``None`` when it does not exist."""
        try:
            fd = self._open(rel, _READ_FLAGS)
        except FileNotFoundError:
            return None
        try:
            return _read_all(fd)
        except OSError as exc:
            raise self._hostile(rel, exc) from None
        finally:
            os.close(fd)

    def exists(self, rel: str) -> bool:
        """Whether ``rel`` exists (a symlink there counts: it is found, never followed)."""
        try:
            os.close(self._open(rel, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC))
        except FileNotFoundError:
            return False
        return True

    def listdir(self, rel: str) -> list[str]:
        """Names in directory ``rel`` (``""`` for the root), temporary files excluded;
        ``[]`` when it does not exist."""
        with self._dir(rel) as fd:
            names = [] if fd is None else os.listdir(fd)
        return [n for n in names if not is_temp_name(n)]

    # -- writes (not durable until the next sync_tree) ----------------------------------

    def put(self, rel: str, data: bytes) -> None:
        """Make file ``rel`` hold ``data``, creating parent directories. Non-empty data goes
        through a temporary file and ``rename`` (atomic for readers); an empty marker file
        is created in place."""
        with self._parent(rel, create=True) as parent:
            assert parent is not None
            dfd, name = parent
            if not data:
                try:
                    fd = os.open(name, _NEW_FLAGS, FILE_MODE, dir_fd=dfd)
                except FileExistsError:
                    st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
                    if st.st_size == 0 and stat.S_ISREG(st.st_mode):
                        return
                    self._write_via_temp(dfd, name, data)
                    return
                os.close(fd)
                return
            self._write_via_temp(dfd, name, data)

    def _write_via_temp(self, dfd: int, name: str, data: bytes) -> None:
        tmp = temp_name(os.getpid(), next(_temp_counter))
        fd = os.open(tmp, _NEW_FLAGS, FILE_MODE, dir_fd=dfd)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except BaseException:
            os.close(fd)
            os.unlink(tmp, dir_fd=dfd)
            raise
        os.close(fd)
        os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)

    def delete(self, rel: str) -> None:
        """Remove file ``rel``; a missing file is not an error (replay is idempotent)."""
        with self._parent(rel, create=False) as parent:
            if parent is None:
                return
            dfd, name = parent
            with suppress(FileNotFoundError):
                os.unlink(name, dir_fd=dfd)

    def rmdir(self, rel: str) -> None:
        """Remove directory ``rel`` if it exists and is empty (a leftover entry is fsck's)."""
        with self._parent(rel, create=False) as parent:
            if parent is None:
                return
            dfd, name = parent
            try:
                os.rmdir(name, dir_fd=dfd)
            except OSError as exc:
                if exc.errno not in (errno.ENOENT, errno.ENOTEMPTY):
                    raise

    def remove_temp_files(self, rel: str = "", depth: int = 3) -> int:
        """Delete stray temporary files left by crashed writers, ``depth`` levels down."""
        removed = 0
        with self._dir(rel) as fd:
            if fd is None:
                return 0
            for entry in os.scandir(fd):
                if is_temp_name(entry.name) and entry.is_file(follow_symlinks=False):
                    os.unlink(entry.name, dir_fd=fd)
                    removed += 1
                elif depth > 0 and entry.is_dir(follow_symlinks=False):
                    sub = f"{rel}/{entry.name}" if rel else entry.name
                    removed += self.remove_temp_files(sub, depth - 1)
        return removed

    @contextmanager
    def _dir(self, rel: str) -> Iterator[int | None]:
        """A descriptor of directory ``rel`` (``""``: the store itself), ``None`` if absent."""
        if rel == "":
            yield self.fd
            return
        try:
            fd = self._open(rel, _DIR_FLAGS)
        except FileNotFoundError:
            yield None
            return
        try:
            yield fd
        finally:
            os.close(fd)

    # -- durability ----------------------------------------------------------------------

    def sync_tree(self) -> None:
        """Make every write to the file system holding the tree durable (``syncfs``).

        Raises :class:`OSError` when ``syncfs`` fails (EIO: some writes may never reach the
        disk), so a checkpoint never drops journal records it could not make redundant;
        ``sync()``, which reports nothing, is only the fallback where there is no syncfs."""
        if _syncfs is not None:
            if _syncfs(self.fd) == 0:
                return
            err = ctypes.get_errno()
            if err != errno.ENOSYS:
                raise OSError(err, f"syncfs: {os.strerror(err)}", self.root)
        os.sync()

    def fsync_path(self, rel: str) -> None:
        """fsync one file or directory (and, for a new file, its parent)."""
        with self._dir(rel) if rel == "" else self._parent(rel, create=False) as parent:
            if parent is None:
                return
            if isinstance(parent, int):
                os.fsync(parent)
                return
            dfd, name = parent
            fd = os.open(name, _READ_FLAGS, dir_fd=dfd)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.fsync(dfd)
