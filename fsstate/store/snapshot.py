"""A consistent backup of a store: ``snapshot(static_dir, dest)``.

Holding the store lock, the journal is checkpointed — every committed change is then in the
tree and the journal is empty — and the tree is copied file by file into
``dest/.fsstate.partial``. The lock is released (the copy is complete; only its durability is
left), the copy is made durable with one ``syncfs``, and ``.fsstate.partial`` is renamed to
``dest/fsstate``: ``dest`` is a static dir that ``FileState(dest, tmp)`` opens as it is, and a
``dest/fsstate`` that exists is a complete snapshot.

The source is read with ``O_NOFOLLOW`` descriptors like every other access: a symlink, device
or FIFO planted in the tree is not copied (the result lists it; ``fsck`` reports it), and
stray temporary files are left behind.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass, field

from fsstate.store import layout as L
from fsstate.store.fsio import Tree, fsync_dir, make_dirs
from fsstate.store.lock import DEFAULT_TIMEOUT
from fsstate.store.storage import FileStorage

__all__ = ["Snapshot", "snapshot"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_PARTIAL = f".{L.STORE_DIR}.partial"


@dataclass
class Snapshot:
    """What :func:`snapshot` copied: the new static dir, counts, and the relative paths of
    entries it refused to copy (symlinks, devices, FIFOs)."""

    dest: str
    files: int = 0
    bytes: int = 0
    skipped: list[str] = field(default_factory=list)


def snapshot(
    static_dir: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    lock_timeout: float = DEFAULT_TIMEOUT,
) -> Snapshot:
    """Copy the store under ``static_dir`` to the new directory ``dest`` (module docstring);
    missing parent directories of ``dest`` are created.

    Raises :class:`FileExistsError` when ``dest`` exists, :class:`~fsstate.errors.
    CorruptDocumentError` when the source store cannot be opened (run fsck),
    :class:`~fsstate.errors.LockTimeoutError`, or :class:`OSError`; on error nothing is left
    at ``dest``."""
    dest = os.path.abspath(os.fspath(dest))
    storage = FileStorage(os.fspath(static_dir), lock_timeout=lock_timeout)
    try:
        make_dirs(os.path.dirname(dest))  # a backup path like /backup/2026-11-29/fsstate-a
        os.mkdir(dest, 0o700)
    except BaseException:
        storage.close()
        raise
    result = Snapshot(dest)
    partial = os.path.join(dest, _PARTIAL)
    try:
        os.mkdir(partial, 0o700)
        out = os.open(partial, _DIR_FLAGS)
        try:
            with storage.locked():
                storage.checkpoint()
                _copy_dir(storage.tree.fd, out, "", result)
        finally:
            os.close(out)
        copy = Tree(partial)
        copy.sync_tree()
        copy.close()
        os.rename(partial, os.path.join(dest, L.STORE_DIR))
        fsync_dir(dest)
        fsync_dir(os.path.dirname(dest))
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    finally:
        storage.close()
    return result


def _copy_dir(src: int, dst: int, rel: str, result: Snapshot) -> None:
    with os.scandir(src) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        path = f"{rel}/{entry.name}" if rel else entry.name
        mode = entry.stat(follow_symlinks=False).st_mode
        if stat.S_ISDIR(mode):
            os.mkdir(entry.name, 0o700, dir_fd=dst)
            sub_src = os.open(entry.name, _DIR_FLAGS, dir_fd=src)
            try:
                sub_dst = os.open(entry.name, _DIR_FLAGS, dir_fd=dst)
                try:
                    _copy_dir(sub_src, sub_dst, path, result)
                finally:
                    os.close(sub_dst)
            finally:
                os.close(sub_src)
        elif stat.S_ISREG(mode) and not L.is_temp_name(entry.name):
            result.bytes += _copy_file(src, dst, entry.name)
            result.files += 1
        elif not stat.S_ISREG(mode):
            result.skipped.append(path)


def _copy_file(src: int, dst: int, name: str) -> int:
    fin = os.open(name, _READ_FLAGS, dir_fd=src)
    try:
        fout = os.open(name, _NEW_FLAGS, 0o600, dir_fd=dst)
        try:
            copied = 0
            while chunk := os.read(fin, 1 << 20):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fout, view) :]
                copied += len(chunk)
            return copied
        finally:
            os.close(fout)
    finally:
        os.close(fin)
