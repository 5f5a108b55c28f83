"""Bringing a tree written in an older layout (its ``FORMAT`` line) to this one.

:class:`~fsstate.store.storage.FileStorage` runs :func:`upgrade` when it opens a store whose
``FORMAT`` names an older layout, under the store lock, after recovery and a checkpoint (so no
journal record still names an old path), and writes the new ``FORMAT`` only once the moves are
durable. Every step can be run again: a crash anywhere leaves ``FORMAT`` at the old version
and each entry in its old place or its new one (or both), and the next open finishes the job.

Layout 1 → 2: the registry shards (``index/containers``, ``index/pods``, ``index/volumes``)
were the first two characters of an ID or volume name and are the first three
(:data:`fsstate.store.layout.SHARD_WIDTH`). Each entry is an empty file whose name is the fact,
so it moves by creating it in its new shard and then deleting it from the old one: all the
creations are made durable (``syncfs``) before the first deletion, so no power loss can leave
an ID in neither place. What cannot be read or moved (a symlink or a file where a shard
should be, a name that cannot be an ID) stays where it is, for ``fsck`` to report; the
registries are derived from the documents and ``fsck --repair`` rebuilds them.
"""

from __future__ import annotations

from contextlib import suppress

from fsstate.errors import CorruptDocumentError
from fsstate.store import layout as L
from fsstate.store.fsio import Tree

__all__ = ["upgrade"]


def upgrade(tree: Tree, version: int) -> int:
    """Apply every step from layout ``version`` to :data:`~fsstate.store.layout.FORMAT_VERSION`
    to ``tree`` (store lock held); the number of files moved."""
    moved = 0
    if version < 2:
        moved += _reshard(tree)
    return moved


def _reshard(tree: Tree) -> int:
    """Move every registry entry into the shard :func:`fsstate.store.layout.shard` names
    (layout 1 → 2), and remove the old shards it empties."""
    moves: list[tuple[str, str]] = []
    for registry in L.REGISTRY.values():
        top = registry.dir()
        try:
            shards = tree.listdir(top)
        except CorruptDocumentError:
            continue
        for shard in shards:
            directory = f"{top}/{shard}"
            try:
                names = tree.listdir(directory)
            except CorruptDocumentError:
                continue  # not a directory we can read: fsck's to report
            for name in names:
                # An entry a layout-1 store put here starts with its shard's name.
                if L.shard(name) != shard and name.startswith(shard) and L.is_valid_name(name):
                    moves.append((directory + "/" + name, registry.path(name)))
    made = []
    for old, new in moves:
        try:
            tree.put(new, b"")
        except CorruptDocumentError:
            continue  # a symlink or a file where the new shard goes: fsck's to report
        made.append(old)
    if not made:
        return 0
    tree.sync_tree()  # every ID is in its new shard before any leaves its old one
    for old in made:
        with suppress(IsADirectoryError):  # a directory where an entry should be: fsck's
            tree.delete(old)
    for directory in sorted({old.rpartition("/")[0] for old in made}):
        tree.rmdir(directory)  # only when emptied
    tree.sync_tree()
    return len(made)
