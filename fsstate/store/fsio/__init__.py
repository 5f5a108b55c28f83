"""Every file-system call of fsstate: the only package that opens, reads, writes, renames,
unlinks, makes or removes directories, changes modes, stats or syncs a file
(``tests/test_owners.py`` holds every other module to that).

Its modules, by concern (every name is re-exported here: ``fsio.X``):

* :mod:`~fsstate.store.fsio.calls` — the one table of open flags and modes (:data:`FILE_MODE`,
  :data:`DIR_MODE`) and the primitive calls the others share (``openat2``, whole reads and
  writes);
* :mod:`~fsstate.store.fsio.tree` — the store tree (:class:`Tree`, used by ``storage`` and
  ``journal``): documents and indexes read, listed and written by relative path beneath one
  descriptor of ``<static_dir>/fsstate``, and made durable;
* :mod:`~fsstate.store.fsio.staged` — a commit's writes staged before its commit point and
  installed or undone after it (:class:`Staged`, made by :meth:`Tree.stage`);
* :mod:`~fsstate.store.fsio.control` — the control files' descriptors: the journal and
  generation (:meth:`Tree.open_control`, :func:`pread`, :func:`pwrite_all`, :func:`fdatasync`,
  :func:`file_size`, :func:`truncate`, :func:`identity`) and the lock file
  (:func:`open_control`; ``lock.py`` flocks the descriptor); :func:`boot_id`,
  :func:`read_only_mount`;
* :mod:`~fsstate.store.fsio.walk` — fsck's walk (:func:`open_dir`, :func:`entries`,
  :func:`read_regular`, :func:`fd_mode`, :func:`lstat`);
* :mod:`~fsstate.store.fsio.repair` — repair's primitives for entries :class:`Tree` refuses to
  touch — symlinks, devices, FIFOs, misnamed files (:func:`parent_at`, :func:`lstat_at`,
  :func:`unlink_at`, :func:`rmdir_at`, :func:`move_aside`, :func:`chmod_at`,
  :func:`create_at`), and the trash (:func:`delete_tree_at`);
* :mod:`~fsstate.store.fsio.tree_copy` — a snapshot's copy of the tree (:func:`copy_tree`,
  :class:`Copied`);
* :mod:`~fsstate.store.fsio.outside` — what the package writes outside a store by path: new
  parent directories (:func:`make_dirs`), a snapshot's directories (:func:`make_dir`,
  :func:`rename`, :func:`remove_tree`, :func:`fsync_dir`), an exported file
  (:func:`new_temp_file`, :func:`write_file`, :func:`publish_file`,
  :func:`remove_if_present`), the copy ``fsstate edit`` hands an editor (:func:`read_file`),
  and checks on such paths (:func:`exists`, :func:`is_dir`,
  :func:`resolve_if_exists`);
* :mod:`~fsstate.store.fsio.memory_file` — a file in memory a forked child writes its part
  of a shared listing to (:class:`MemoryFile`);
* :mod:`~fsstate.store.fsio.private_dir` — ``tmp_dir`` with its refresh marker
  (:class:`PrivateDir`: reached through no symlink another user could plant, private to the
  user, or :class:`UnsafeDirError`).

Not here: the foreign databases of ``fsstate.podman`` — a Podman ``db.sql`` or ``bolt_state.db``
read by path through ``sqlite3`` or the Bolt reader, and the SQLite file the exporter fills
through ``sqlite3`` — which are those libraries' files, not the store's (the Bolt file the
exporter builds is written here: :func:`write_file`); the bundled JSON schemas, read as package
data; and the CLI's standard streams and its choice of a default ``tmp_dir``.

Every descriptor is opened with one of the flag sets of the table in ``calls``; none follows a
symlink. Every path in the store is relative to the store directory and resolved beneath a
descriptor of it without following any symlink: in one ``openat2(RESOLVE_BENEATH |
RESOLVE_NO_SYMLINKS)`` call where the kernel has it (Linux ≥ 5.6: a read then costs ≈6 µs
instead of ≈14 µs), else component by component with ``O_NOFOLLOW``. A symlink planted anywhere
inside the tree is never followed out of it (it reads as :class:`CorruptDocumentError` naming
the path). Files are created ``0600`` and directories ``0700``.

Writes to the tree are *not* durable on their own: the journal makes a commit durable with one
``fdatasync`` and a checkpoint makes the applied files durable with one :meth:`Tree.sync_tree`
(DESIGN.md, commit protocol). A document is replaced through a temporary file in the same
directory and ``rename``, so ``cat`` and ``rsync`` never see half a document.
"""

from fsstate.store.fsio.calls import DIR_MODE, FILE_MODE
from fsstate.store.fsio.control import (
    boot_id,
    close,
    fdatasync,
    file_size,
    identity,
    open_control,
    pread,
    pwrite_all,
    read_only_mount,
    truncate,
)
from fsstate.store.fsio.memory_file import MemoryFile
from fsstate.store.fsio.outside import (
    exists,
    fsync_dir,
    is_dir,
    make_dir,
    make_dirs,
    new_temp_file,
    publish_file,
    read_file,
    remove_if_present,
    remove_tree,
    rename,
    resolve_if_exists,
    write_file,
)
from fsstate.store.fsio.private_dir import PrivateDir, UnsafeDirError
from fsstate.store.fsio.repair import (
    chmod_at,
    create_at,
    delete_tree_at,
    lstat_at,
    move_aside,
    parent_at,
    rmdir_at,
    unlink_at,
)
from fsstate.store.fsio.staged import Staged
from fsstate.store.fsio.tree import Tree
from fsstate.store.fsio.tree_copy import Copied, copy_tree
from fsstate.store.fsio.walk import entries, fd_mode, lstat, open_dir, read_regular

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "Copied",
    "MemoryFile",
    "PrivateDir",
    "Staged",
    "Tree",
    "UnsafeDirError",
    "boot_id",
    "chmod_at",
    "close",
    "copy_tree",
    "create_at",
    "delete_tree_at",
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
    "read_file",
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
