"""A consistent backup of a store: ``snapshot(static_dir, dest)``.

Holding the store lock, the journal is checkpointed — every committed change is then in the
tree and the journal is empty — and the tree is copied file by file into
``dest/.fsstate.partial``. The lock is released (the copy is complete; only its durability is
left), the copy is made durable with one ``syncfs``, and ``.fsstate.partial`` is renamed to
``dest/fsstate``: ``dest`` is a static dir that ``FileState(dest, tmp)`` opens as it is, and a
``dest/fsstate`` that exists is a complete snapshot.

The source is read with ``O_NOFOLLOW`` descriptors like every other access: a symlink, device
or FIFO planted in the tree is not copied (the result lists it; ``fsck`` reports it), and
stray temporary files and the trash (``trash/``: what commits set aside, being deleted) are left
behind.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from fsstate.store import fsio
from fsstate.store import layout as L
from fsstate.store.lock import DEFAULT_TIMEOUT
from fsstate.store.storage import FileStorage

__all__ = ["Snapshot", "snapshot"]

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
    progress: Callable[[str, int, int], None] | None = None,
) -> Snapshot:
    """Copy the store under ``static_dir`` to the new directory ``dest`` (module docstring);
    missing parent directories of ``dest`` are created.

    Raises :class:`~fsstate.errors.NoSuchStoreError` when there is no store (none is
    created), :class:`FileExistsError` when ``dest`` exists, :class:`~fsstate.errors.
    CorruptDocumentError` when the source store cannot be opened (run fsck),
    :class:`~fsstate.errors.LockTimeoutError`, or :class:`OSError`; on error nothing is left
    at ``dest``. ``progress``, when given, is told ``("snapshot", step, 3)`` as each step
    begins and ends (checkpoint, copy, sync: the copy is one step; the file count is not known
    before it)."""
    tell = progress or (lambda what, done, total: None)
    dest = os.path.abspath(os.fspath(dest))
    storage = FileStorage(os.fspath(static_dir), lock_timeout=lock_timeout, create=False)
    try:
        fsio.make_dirs(os.path.dirname(dest))  # a backup path like /backup/2026-11-29/fsstate-a
        fsio.make_dir(dest)
    except BaseException:
        storage.close()
        raise
    result = Snapshot(dest)
    partial = os.path.join(dest, _PARTIAL)
    try:
        fsio.make_dir(partial)
        tell("snapshot", 0, 3)
        with storage.locked():
            storage.checkpoint()
            tell("snapshot", 1, 3)
            copied = fsio.copy_tree(storage.tree.fd, partial, leave=frozenset([L.TRASH]))
        tell("snapshot", 2, 3)
        result.files, result.bytes, result.skipped = copied.files, copied.bytes, copied.skipped
        copy = fsio.Tree(partial)
        copy.sync_tree()
        copy.close()
        fsio.rename(partial, os.path.join(dest, L.STORE_DIR))
        fsio.fsync_dir(dest)
        fsio.fsync_dir(os.path.dirname(dest))
        tell("snapshot", 3, 3)
    except BaseException:
        fsio.remove_tree(dest)
        raise
    finally:
        storage.close()
    return result
