"""The store tree: :class:`Tree`, one descriptor of ``<static_dir>/fsstate`` beneath which
``storage`` and ``journal`` read, list, write and delete documents and indexes by relative
path, and make them durable.

Every path is resolved beneath the tree's descriptor without following any symlink (one
``openat2`` call, else a walk with ``O_NOFOLLOW``: :mod:`~fsstate.store.fsio.calls`); a symlink
or a wrong type on the way reads as :class:`CorruptDocumentError` naming the path. A document
is replaced through a temporary file in the same directory and ``rename``, so ``cat`` and
``rsync`` never see half a document. Writes are *not* durable on their own: the journal makes a
commit durable with one ``fdatasync`` and a checkpoint makes the applied files durable with one
:meth:`Tree.sync_tree` (DESIGN.md, commit protocol). A commit's writes are staged and installed
by :class:`~fsstate.store.fsio.staged.Staged`.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from fsstate.errors import CorruptDocumentError, PermissionDeniedError
from fsstate.store.fsio.calls import (
    _DIR_FLAGS,
    _NEW_FLAGS,
    _PATH_FLAGS,
    _PROBE_FLAGS,
    _READ_FLAGS,
    DIR_MODE,
    FILE_MODE,
    _openat2,
    _read_all,
    _temp_counter,
    _write_all,
)
from fsstate.store.fsio.control import open_control
from fsstate.store.fsio.staged import Staged
from fsstate.store.layout import TRASH, is_temp_name, temp_name

#: An open that fails with one of these is the user's lack of a right, not a damaged file.
_NO_PERMISSION = frozenset((errno.EACCES, errno.EPERM, errno.EROFS))

_syncfs: Any
try:
    _syncfs = ctypes.CDLL(None, use_errno=True).syncfs
except (OSError, AttributeError):  # not Linux: fall back to a global sync
    _syncfs = None


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

    def open_control(self, name: str, *, read_only: bool = False) -> int:
        """A descriptor of control file ``name`` (journal, generation) in the store directory:
        read-write, created 0600 when absent, never through a symlink (``OSError``); see
        :func:`open_control` for ``read_only``."""
        return open_control(name, dir_fd=self.fd, read_only=read_only)

    # -- walking -------------------------------------------------------------------------

    @contextmanager
    def _parent(
        self, rel: str, *, create: bool, made: list[str] | None = None
    ) -> Iterator[tuple[int, str] | None]:
        """Yield (descriptor of the parent directory, last component), or ``None`` when a
        parent directory is missing and ``create`` is false; each directory this makes is
        appended to ``made``."""
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
            for depth, part in enumerate(parts[:-1]):
                try:
                    fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        yield None
                        return
                    with suppress(FileExistsError):
                        os.mkdir(part, DIR_MODE, dir_fd=fd)
                        if made is not None:
                            made.append("/".join(parts[: depth + 1]))
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
        if "" in parts or "." in parts or ".." in parts:
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

    def _hostile(self, rel: str, exc: OSError) -> CorruptDocumentError | PermissionDeniedError:
        path = self.abspath(rel)
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EISDIR, errno.EXDEV):
            return CorruptDocumentError(
                f"{path}: not a regular file or directory (symlink or wrong type; run fsck)",
                path=path,
            )
        if exc.errno in _NO_PERMISSION:  # the user's lack of a right, not a damaged file
            return PermissionDeniedError(f"{path}: cannot open ({exc.strerror})", path=path)
        return CorruptDocumentError(f"{path}: {exc.strerror}", path=path)

    # -- reads ---------------------------------------------------------------------------

    def read(self, rel: str) -> bytes | None:
        """The bytes of file ``rel``, or ``None`` when it does not exist (a FIFO planted
        there reads as empty, at once)."""
        try:
            fd = self._open(rel, _PROBE_FLAGS)
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
            if "/" in rel:
                os.close(self._open(rel, _PATH_FLAGS))
            else:  # nothing on the way to follow: one lstat (a cold open asks for three)
                self._parts(rel)
                os.stat(rel, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise self._hostile(rel, exc) from None
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
        tmp = self._write_temp(dfd, data)
        os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)

    @staticmethod
    def _write_temp(dfd: int, data: bytes) -> str:
        """A new temporary file in directory ``dfd`` holding ``data``: its name. Nothing is
        left behind when writing fails (ENOSPC, EDQUOT, EIO)."""
        tmp = temp_name(os.getpid(), next(_temp_counter))
        fd = os.open(tmp, _NEW_FLAGS, FILE_MODE, dir_fd=dfd)
        try:
            _write_all(fd, data)
        except BaseException:
            os.close(fd)
            os.unlink(tmp, dir_fd=dfd)
            raise
        os.close(fd)
        return tmp

    def stage(
        self, ops: Sequence[tuple[str, str] | tuple[str, str, bytes]], keep_in: str | None = None
    ) -> Staged:
        """Stage a commit's operations (``("put", path, bytes)``, ``("del", path)``,
        ``("rmdir", path)``, ``("move", path, destination)``) ahead of its commit point: every
        put's data goes into a temporary file at the top of the store. That is the data space
        a commit needs, so a full disk (ENOSPC, EDQUOT) or a failing one mostly stops here:
        what was made is removed and the error raised. See :class:`Staged` (and its
        ``keep_in``)."""
        staged = Staged(self, ops, keep_in)
        try:
            for op in ops:
                self._parts(op[1])
                # At the top of the store: staging makes no directory, and a writer killed
                # while staging leaves its files in one place for the next lock holder to
                # sweep (storage.FileStorage._recover).
                temp = self._write_temp(self.fd, op[2]) if op[0] == "put" else None  # type: ignore[misc]
                staged.temps.append(temp)
        except BaseException:
            staged.discard()
            raise
        return staged

    def make_dir(self, rel: str) -> None:
        """Make directory ``rel`` and its parents (present already: nothing to do)."""
        with self._parent(f"{rel}/-", create=True):  # "-": a last component, never made
            pass

    def delete(self, rel: str) -> None:
        """Remove file ``rel``; a missing file is not an error (replay is idempotent)."""
        with self._parent(rel, create=False) as parent:
            if parent is None:
                return
            dfd, name = parent
            with suppress(FileNotFoundError):
                os.unlink(name, dir_fd=dfd)

    def rmdir(self, rel: str) -> bool:
        """Remove directory ``rel`` if it exists and is empty (a leftover entry is fsck's);
        whether it was removed."""
        with self._parent(rel, create=False) as parent:
            if parent is None:
                return False
            dfd, name = parent
            try:
                os.rmdir(name, dir_fd=dfd)
            except OSError as exc:
                if exc.errno not in (errno.ENOENT, errno.ENOTEMPTY):
                    raise
                return False
            return True

    def remove_temp_files(self, rel: str = "", depth: int = 3) -> int:
        """Delete stray temporary files left by crashed writers, ``depth`` levels down (not in
        the trash, which is deleted whole: :meth:`delete_tree`)."""
        removed = 0
        with self._dir(rel) as fd:
            if fd is None:
                return 0
            for entry in os.scandir(fd):
                if is_temp_name(entry.name) and entry.is_file(follow_symlinks=False):
                    os.unlink(entry.name, dir_fd=fd)
                    removed += 1
                elif rel == "" and entry.name == TRASH:
                    continue
                elif depth > 0 and entry.is_dir(follow_symlinks=False):
                    sub = f"{rel}/{entry.name}" if rel else entry.name
                    removed += self.remove_temp_files(sub, depth - 1)
        return removed

    def delete_tree(self, rel: str) -> int:
        """Delete directory ``rel`` and everything below it (the trash: ``storage``), through
        descriptors, following no symlink (one is unlinked, not followed). An entry another
        process deleted first is fine. Returns how many entries were deleted."""
        with self._parent(rel, create=False) as parent:
            if parent is None:
                return 0
            return _delete_below(parent[0], parent[1])

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


def _delete_below(dfd: int, name: str) -> int:
    """Delete directory ``name`` in ``dfd`` with everything below it; 0 when it is gone."""
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=dfd)
    except FileNotFoundError:
        return 0
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
        with suppress(FileNotFoundError):  # not a directory: the entry itself goes
            os.unlink(name, dir_fd=dfd)
        return 1
    deleted = 0
    try:
        with os.scandir(fd) as it:
            below = [(e.name, e.is_dir(follow_symlinks=False)) for e in it]
        for child, is_dir in below:
            if is_dir:
                deleted += _delete_below(fd, child)
            else:
                with suppress(FileNotFoundError):
                    os.unlink(child, dir_fd=fd)
                    deleted += 1
    finally:
        os.close(fd)
    with suppress(FileNotFoundError):
        os.rmdir(name, dir_fd=dfd)
    return deleted + 1
