"""Every file-system call of fsstate: the only module that opens, reads, writes, renames,
unlinks, makes or removes directories, changes modes, stats or syncs a file.

What it owns, by caller:

* the store tree (:class:`Tree`, used by ``storage`` and ``journal``): documents and indexes read
  and written by relative path beneath one descriptor of ``<static_dir>/fsstate``;
* the control files' descriptors: the journal and generation (:meth:`Tree.open_control`,
  :func:`pread`, :func:`pwrite_all`, :func:`fdatasync`, :func:`file_size`, :func:`identity`,
  :func:`boot_id`) and the lock file (:func:`open_control`; ``lock.py`` flocks the descriptor);
* fsck's walk (:func:`open_dir`, :func:`entries`, :func:`read_regular`, :func:`fd_mode`,
  :func:`lstat`) and repair's primitives for entries :class:`Tree` refuses to touch — symlinks,
  devices, FIFOs, misnamed files (:func:`parent_at`, :func:`lstat_at`, :func:`unlink_at`,
  :func:`rmdir_at`, :func:`move_aside`, :func:`chmod_at`, :func:`create_at`);
* what the package writes outside a store: a snapshot's copy (:func:`make_dir`,
  :func:`copy_tree`, :func:`rename`, :func:`remove_tree`, :func:`fsync_dir`), new parent
  directories (:func:`make_dirs`), an exported file (:func:`new_temp_file`, :func:`write_file`,
  :func:`publish_file`, :func:`remove_if_present`), and ``tmp_dir`` with its refresh marker
  (:class:`PrivateDir`: reached through no symlink another user could plant, private to the
  user, or :class:`UnsafeDirError`).

Not here: the foreign databases of ``fsstate.podman`` — a Podman ``db.sql`` or ``bolt_state.db``
read by path through ``sqlite3`` or the Bolt reader, and the SQLite file the exporter fills
through ``sqlite3`` — which are those libraries' files, not the store's (the Bolt file the
exporter builds is written here: :func:`write_file`); the bundled JSON schemas, read as package
data; and the CLI's standard streams and its choice of a default ``tmp_dir``.

Every descriptor is opened with one of the flag sets of the table below; none follows a symlink.
Every path in the store is relative to the store directory and resolved beneath a descriptor of
it without following any symlink: in one ``openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`` call
where the kernel has it (Linux ≥ 5.6: a read then costs ≈6 µs instead of ≈14 µs), else component
by component with ``O_NOFOLLOW``. A symlink planted anywhere inside the tree is never followed out
of it (it reads as :class:`CorruptDocumentError` naming the path). Files are created ``0600`` and
directories ``0700``.

Writes to the tree are *not* durable on their own: the journal makes a commit durable with one
``fdatasync`` and a checkpoint makes the applied files durable with one :meth:`Tree.sync_tree`
(DESIGN.md, commit protocol). A document is replaced through a temporary file in the same
directory and ``rename``, so ``cat`` and ``rsync`` never see half a document.
"""

from __future__ import annotations

import ctypes
import errno
import itertools
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from fsstate.errors import CorruptDocumentError
from fsstate.store.layout import is_temp_name, temp_name

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "Copied",
    "PrivateDir",
    "Staged",
    "Tree",
    "UnsafeDirError",
    "boot_id",
    "chmod_at",
    "close",
    "copy_tree",
    "create_at",
    "entries",
    "exists",
    "fd_mode",
    "fdatasync",
    "file_size",
    "fsync_dir",
    "identity",
    "is_dir",
    "lstat",
    "lstat_at",
    "make_dir",
    "make_dirs",
    "move_aside",
    "new_temp_file",
    "open_control",
    "open_dir",
    "parent_at",
    "pread",
    "publish_file",
    "pwrite_all",
    "read_only_mount",
    "read_regular",
    "remove_if_present",
    "remove_tree",
    "rename",
    "resolve_if_exists",
    "rmdir_at",
    "truncate",
    "unlink_at",
    "write_file",
]

# -- the one table of open flags and modes ---------------------------------------------------

_NO_LINKS = os.O_NOFOLLOW | os.O_CLOEXEC
#: A directory: to walk beneath, list or fsync.
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | _NO_LINKS
#: A file of the store to read (a document, an index entry, a finished temporary file).
_READ_FLAGS = os.O_RDONLY | _NO_LINKS
#: A file that may be anything someone planted (fsck's walk, a snapshot's source): a FIFO
#: must not block the open.
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
_COPY_CHUNK = 1 << 20
_BOOT_ID = "/proc/sys/kernel/random/boot_id"
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


def read_only_mount(path: str) -> bool:
    """Whether the file system holding ``path`` is mounted read-only (``ST_RDONLY``)."""
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)


def make_dirs(path: str, *, durable: bool = True) -> None:
    """``os.makedirs(path)`` (mode 0700); when ``durable``, then fsync the parent of every
    directory it made: a new store's directory must not vanish in a power loss after its first
    commit. (``tmp_dir`` is a tmpfs that a reboot empties anyway: not durable.)"""
    made = []
    head = os.path.abspath(path)
    while not os.path.lexists(head):
        made.append(head)
        head = os.path.dirname(head)
    os.makedirs(path, DIR_MODE, exist_ok=True)
    if durable:
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
    fd = os.open(tmp, _READ_FLAGS)
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
            os.close(self._open(rel, _PATH_FLAGS))
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

    def stage(self, ops: Sequence[tuple[str, str] | tuple[str, str, bytes]]) -> Staged:
        """Stage a commit's operations (``("put", path, bytes)``, ``("del", path)``,
        ``("rmdir", path)``) ahead of its commit point: every put's data goes into a
        temporary file at the top of the store. That is the data space a commit needs, so a
        full disk (ENOSPC, EDQUOT) or a failing one mostly stops here: what was made is
        removed and the error raised. See :class:`Staged`."""
        staged = Staged(self, ops)
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

    def _rename_temp(self, rel: str, temp: str, made: list[str]) -> None:
        """Give the staged temporary file ``temp`` (at the top of the store) the name
        ``rel``, making its directory when missing (each one made is appended to ``made``)."""
        with self._parent(rel, create=True, made=made) as parent:
            assert parent is not None
            os.replace(temp, parent[1], src_dir_fd=self.fd, dst_dir_fd=parent[0])

    def _keep(self, rel: str, *, link: bool) -> str | None:
        """Keep the file at ``rel`` under a new temporary name at the top of the store — a
        hard link (``link``) or by renaming it there — and return that name; ``None`` when
        there is no file. A commit undone later renames it back, needing no free space."""
        kept = temp_name(os.getpid(), next(_temp_counter))
        with self._parent(rel, create=False) as parent:
            if parent is None:
                return None
            try:
                if link:
                    os.link(
                        parent[1],
                        kept,
                        src_dir_fd=parent[0],
                        dst_dir_fd=self.fd,
                        follow_symlinks=False,
                    )
                else:
                    os.rename(parent[1], kept, src_dir_fd=parent[0], dst_dir_fd=self.fd)
            except FileNotFoundError:
                return None
        return kept

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


class Staged:
    """A commit staged by :meth:`Tree.stage`: ``temps`` (per operation, the temporary file at
    the top of the store holding a put's data, else ``None``).

    :meth:`install` applies the operations with renames, links, unlinks, rmdirs and the
    ``mkdir`` of a missing parent directory — no file data — and keeps every file it replaces
    or deletes under a temporary name at the top of the store until :meth:`finish`. Should a
    step fail (ENOSPC for a directory's new block, EIO), :meth:`undo` renames those files
    back and removes what was made, which needs no free space; then the tree is as before.
    """

    def __init__(self, tree: Tree, ops: Sequence[tuple[str, str] | tuple[str, str, bytes]]) -> None:
        self.tree = tree
        self.ops = ops
        self.temps: list[str | None] = []
        #: Directories made by install, in order.
        self.made: list[str] = []
        #: What install did, in order: (path, the temporary name its old file is kept under,
        #: or None when it had none; "put" or "del").
        self.done: list[tuple[str, str | None, str]] = []
        self.removed: list[str] = []

    def install(self) -> None:
        """Apply the operations: puts and deletes in order — a put's temporary file renamed
        over its target (its directory made when missing; an old file kept by a hard link),
        a delete a rename of the file aside (a missing file is fine) — then the rmdirs, each
        only of a directory left empty (as it would have been, in order)."""
        tree = self.tree
        for i, op in enumerate(self.ops):
            kind, rel = op[0], op[1]
            if kind == "put":
                temp = self.temps[i]
                assert temp is not None
                kept = tree._keep(rel, link=True)
                self.done.append((rel, kept, "put"))
                tree._rename_temp(rel, temp, self.made)
                self.temps[i] = None
            elif kind == "del":
                kept = tree._keep(rel, link=False)
                if kept is not None:
                    self.done.append((rel, kept, "del"))
        for op in self.ops:
            if op[0] == "rmdir" and tree.rmdir(op[1]):
                self.removed.append(op[1])

    def finish(self) -> None:
        """Drop the old files install kept (best effort: one left is swept by recovery)."""
        for _rel, kept, _kind in self.done:
            if kept is not None:
                with suppress(OSError):
                    os.unlink(kept, dir_fd=self.tree.fd)
        self.done.clear()

    def undo(self) -> None:
        """Put the tree back as it was before :meth:`install`: directories it removed made
        again, each file renamed back from where it was kept (a new one unlinked), the
        temporary files and the directories made removed. Raises when that fails too."""
        tree = self.tree
        try:
            for rel in reversed(self.removed):
                tree.make_dir(rel)
            self.removed.clear()
            while self.done:
                rel, kept, kind = self.done[-1]
                with tree._parent(rel, create=False) as parent:
                    if parent is not None and kept is not None:
                        os.replace(kept, parent[1], src_dir_fd=tree.fd, dst_dir_fd=parent[0])
                        with suppress(FileNotFoundError):  # still there when it named the
                            os.unlink(kept, dir_fd=tree.fd)  # very file: rename did nothing
                    elif parent is not None and kind == "put":
                        with suppress(FileNotFoundError):
                            os.unlink(parent[1], dir_fd=parent[0])
                self.done.pop()
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the temporary files not installed and the directories made (when empty).
        Best effort: a file left behind is swept by the next recovery or fsck."""
        for i, temp in enumerate(self.temps):
            if temp is not None:
                with suppress(OSError):
                    os.unlink(temp, dir_fd=self.tree.fd)
                self.temps[i] = None
        for rel in reversed(self.made):
            with suppress(OSError):
                self.tree.rmdir(rel)
        self.made.clear()


# -- descriptors of the control files (journal, generation, lock) -------------------------------


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


def boot_id() -> str:
    """The kernel's ID of this boot, ``"unknown-boot"`` where there is none."""
    try:
        with open(_BOOT_ID, encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return "unknown-boot"


# -- fsck's walk ----------------------------------------------------------------------------------


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


# -- repair's primitives: entries Tree refuses (symlinks, devices, FIFOs, misnamed files) ------


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


# -- outside a store: snapshots, exports, tmp_dir --------------------------------------------------


def make_dir(path: str) -> None:
    """A new directory, 0700 (``FileExistsError`` when there is one). Not durable."""
    os.mkdir(path, DIR_MODE)


def rename(src: str, dst: str) -> None:
    """Rename ``src`` to ``dst`` (replacing a file or an empty directory). Not durable."""
    os.rename(src, dst)


def remove_tree(path: str) -> None:
    """Remove ``path`` and everything below it, as far as possible (cleaning up a failure)."""
    shutil.rmtree(path, ignore_errors=True)


@dataclass
class Copied:
    """What :func:`copy_tree` copied: regular files, their bytes, and the relative paths of the
    entries it refused (symlinks, devices, FIFOs, sockets)."""

    files: int = 0
    bytes: int = 0
    skipped: list[str] = field(default_factory=list)


def copy_tree(src: int, dst: str) -> Copied:
    """Copy the tree below directory ``src`` into the existing, empty directory ``dst``:
    directories 0700, regular files 0600, nothing followed; temporary files are left behind
    and anything else is listed in :attr:`Copied.skipped`. Not durable (sync the copy)."""
    copied = Copied()
    out = os.open(dst, _DIR_FLAGS)
    try:
        _copy_dir(src, out, "", copied)
    finally:
        os.close(out)
    return copied


def _copy_dir(src: int, dst: int, rel: str, copied: Copied) -> None:
    for entry in entries(src):
        path = f"{rel}/{entry.name}" if rel else entry.name
        mode = entry.stat(follow_symlinks=False).st_mode
        if stat.S_ISDIR(mode):
            os.mkdir(entry.name, DIR_MODE, dir_fd=dst)
            sub_src = os.open(entry.name, _DIR_FLAGS, dir_fd=src)
            try:
                sub_dst = os.open(entry.name, _DIR_FLAGS, dir_fd=dst)
                try:
                    _copy_dir(sub_src, sub_dst, path, copied)
                finally:
                    os.close(sub_dst)
            finally:
                os.close(sub_src)
        elif stat.S_ISREG(mode) and not is_temp_name(entry.name):
            copied.bytes += _copy_file(src, dst, entry.name)
            copied.files += 1
        elif not stat.S_ISREG(mode):
            copied.skipped.append(path)


def _copy_file(src: int, dst: int, name: str) -> int:
    fin = os.open(name, _PROBE_FLAGS, dir_fd=src)
    try:
        fout = os.open(name, _NEW_FLAGS, FILE_MODE, dir_fd=dst)
        try:
            size = 0
            while chunk := os.read(fin, _COPY_CHUNK):
                _write_all(fout, chunk)
                size += len(chunk)
            return size
        finally:
            os.close(fout)
    finally:
        os.close(fin)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def exists(path: str) -> bool:
    """Whether there is an entry at ``path`` (a symlink counts, followed or not)."""
    return os.path.lexists(path)


def is_dir(path: str) -> bool:
    return os.path.isdir(path)


def new_temp_file(directory: str, prefix: str, suffix: str) -> str:
    """The path of a new, empty 0600 file in ``directory`` with a unique name."""
    fd, path = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
    os.close(fd)
    return path


def write_file(path: str, data: bytes, *, replace: bool = False) -> None:
    """Write all of ``data`` to file ``path`` (0600) and fsync it: a new file only
    (``FileExistsError`` if there is one) unless ``replace``. Its name is not made durable:
    publish it with :func:`publish_file` (an exported Bolt database)."""
    fd = os.open(path, _REWRITE_FLAGS if replace else _NEW_FLAGS, FILE_MODE)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_if_present(path: str) -> None:
    """Remove file ``path`` if there is one (a leftover of a failed export)."""
    if os.path.lexists(path):
        os.unlink(path)


def resolve_if_exists(path: str) -> str:
    """``path`` (outside the store: a runtime directory being compared) with its symlinks
    resolved, or cleaned as it is when it does not exist (Podman's ``evalSymlinksIfExists``,
    ``libpod/util.go``)."""
    try:
        return os.path.realpath(path, strict=True)
    except FileNotFoundError:
        return os.path.normpath(path)


# -- the tmp dir: private files outside the store ------------------------------------------------

_MAX_SYMLINKS = 40  # as the kernel's path walk (MAXSYMLINKS)


class UnsafeDirError(PermissionError):
    """A directory fsstate would write in outside its store is not private to this user."""


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
            st = os.fstat(fd)
            if st.st_uid != os.geteuid():
                raise self._refuse(f"it belongs to uid {st.st_uid}, not to uid {os.geteuid()}")
            if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                raise self._refuse(f"other users can write in it (mode {st.st_mode & 0o7777:o})")
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
