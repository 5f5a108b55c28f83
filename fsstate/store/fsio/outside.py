"""Files fsstate writes outside a store, by path: new parent directories (a store's, made
durable), a snapshot's directories and their renames, an exported file (a temporary file
written, fsynced and published under its name), the copy ``fsstate edit`` hands to an editor
(written, then read back), and the checks on such paths."""

from __future__ import annotations

import os

from fsstate.store.fsio.calls import (
    _DIR_FLAGS,
    _NEW_FLAGS,
    _READ_FLAGS,
    _REWRITE_FLAGS,
    DIR_MODE,
    FILE_MODE,
    _read_all,
    _write_all,
)


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


def make_dir(path: str) -> None:
    """A new directory, 0700 (``FileExistsError`` when there is one). Not durable."""
    os.mkdir(path, DIR_MODE)


def rename(src: str, dst: str) -> None:
    """Rename ``src`` to ``dst`` (replacing a file or an empty directory). Not durable."""
    os.rename(src, dst)


def remove_tree(path: str) -> None:
    """Remove ``path`` and everything below it, as far as possible (cleaning up a failure)."""
    import shutil  # not at import: a program that takes no snapshot need not load it

    shutil.rmtree(path, ignore_errors=True)


def exists(path: str) -> bool:
    """Whether there is an entry at ``path`` (a symlink counts, followed or not)."""
    return os.path.lexists(path)


def is_dir(path: str) -> bool:
    return os.path.isdir(path)


def new_temp_file(directory: str, prefix: str, suffix: str) -> str:
    """The path of a new, empty 0600 file in ``directory`` with a unique name."""
    import tempfile  # not at import, as shutil above

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


def read_file(path: str) -> bytes:
    """All the bytes of file ``path`` outside the store (a document being edited, or given
    to ``fsstate edit --file``); :class:`OSError` as ``open`` raises it."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)  # a path the user names: links are fine
    try:
        return _read_all(fd)
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
