"""Staging and installing one commit's writes to the store tree: :class:`Staged`.

A commit's data is written into temporary files before its commit point
(:meth:`Tree.stage <fsstate.store.fsio.tree.Tree.stage>`), so a full disk (ENOSPC, EDQUOT) or
a failing one mostly stops it there; installing after the commit point needs renames, links,
unlinks and directories only, and undoing an install needs no free space (DESIGN.md, commit
protocol).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from contextlib import suppress
from typing import TYPE_CHECKING

from fsstate.store.fsio.calls import _temp_counter
from fsstate.store.layout import temp_name

if TYPE_CHECKING:
    from fsstate.store.fsio.tree import Tree


class Staged:
    """A commit staged by :meth:`Tree.stage`: ``temps`` (per operation, the temporary file at
    the top of the store holding a put's data, else ``None``).

    :meth:`install` applies the operations with renames, links, unlinks, rmdirs and the
    ``mkdir`` of a missing parent directory — no file data — and keeps every file it replaces
    or deletes under a temporary name at the top of the store (or in ``keep_in``) until
    :meth:`finish`. Should a step fail (ENOSPC for a directory's new block, EIO), :meth:`undo`
    renames those files back and removes what was made, which needs no free space; then the
    tree is as before.

    ``keep_in`` (a trash directory, ``layout.trash_dir``): the old files are kept there, and
    :meth:`finish` leaves them for the trash's deletion after the commit, so the commit does
    not wait for their blocks to be freed (``unlink`` of a file with data: 0.8–2.7 ms on the
    disk of ``benchmarks/README.md``, against ≈20 µs for a link).
    """

    def __init__(
        self,
        tree: Tree,
        ops: Sequence[tuple[str, str] | tuple[str, str, bytes]],
        keep_in: str | None = None,
    ) -> None:
        self.tree = tree
        self.ops = ops
        self.keep_in = keep_in
        self._keep_fd = -1  # a descriptor of keep_in, made and opened on first use
        self.temps: list[str | None] = []
        #: Directories made by install, in order.
        self.made: list[str] = []
        #: What install did, in order: (path, the temporary name its old file is kept under,
        #: or None when it had none — for a move, where the directory went; "put", "del" or
        #: "move").
        self.done: list[tuple[str, str | None, str]] = []
        self.removed: list[str] = []

    def install(self) -> None:
        """Apply the operations: puts, deletes and moves in order — a put's temporary file
        renamed over its target (its directory made when missing; an old file kept by a hard
        link), a delete a rename of the file aside (a missing file is fine), a move a rename
        of the directory into the trash (a missing source is fine; :meth:`_move`) — then the
        rmdirs, each only of a directory left empty (as it would have been, in order)."""
        tree = self.tree
        for i, op in enumerate(self.ops):
            kind, rel = op[0], op[1]
            if kind == "put":
                temp = self.temps[i]
                assert temp is not None
                # One open of the directory for both steps (a refresh puts thousands).
                with tree._parent(rel, create=True, made=self.made) as parent:
                    assert parent is not None
                    kept = self._keep_at(parent, link=True)
                    self.done.append((rel, kept, "put"))
                    os.replace(temp, parent[1], src_dir_fd=tree.fd, dst_dir_fd=parent[0])
                self.temps[i] = None
            elif kind == "del":
                kept = self._keep(rel, link=False)
                if kept is not None:
                    self.done.append((rel, kept, "del"))
            elif kind == "move":
                moved = self._move(rel, op[2].decode())  # type: ignore[misc]
                if moved is not None:
                    self.done.append((rel, moved, "move"))
        for op in self.ops:
            if op[0] == "rmdir" and tree.rmdir(op[1]):
                self.removed.append(op[1])

    def _move(self, rel: str, dest: str) -> str | None:
        """Rename directory ``rel`` to ``dest`` (its parents made when missing) and return
        where it went; ``None`` when there is nothing to move. When ``dest`` is taken — a
        replay of the move, which happened before the crash, after the records before it
        made ``rel`` again — it goes to ``dest.1``, ``dest.2``, …: what is in ``rel`` at
        this point of the records is what the move drops, whenever it was made."""
        tree = self.tree
        with tree._parent(rel, create=False) as source:
            if source is None:
                return None
            with tree._parent(dest, create=True, made=self.made) as target:
                assert target is not None
                name = target[1]
                for n in itertools.count(1):
                    try:
                        os.lstat(name, dir_fd=target[0])
                    except FileNotFoundError:
                        break
                    name = f"{target[1]}.{n}"
                try:
                    os.rename(source[1], name, src_dir_fd=source[0], dst_dir_fd=target[0])
                except FileNotFoundError:
                    return None
        return f"{dest.rpartition('/')[0]}/{name}"

    def _kept_fd(self) -> int:
        """The directory the old files are kept in: the top of the store, or ``keep_in``."""
        if self.keep_in is None:
            return self.tree.fd
        if self._keep_fd < 0:
            with self.tree._parent(f"{self.keep_in}/-", create=True, made=self.made) as parent:
                assert parent is not None
                self._keep_fd = os.dup(parent[0])
        return self._keep_fd

    def _keep(self, rel: str, *, link: bool) -> str | None:
        """Keep the file at ``rel`` under a new temporary name at the top of the store (or in
        ``keep_in``) — a hard link (``link``) or by renaming it there — and return that name;
        ``None`` when there is no file. A commit undone later renames it back, needing no
        free space."""
        with self.tree._parent(rel, create=False) as parent:
            return None if parent is None else self._keep_at(parent, link=link)

    def _keep_at(self, parent: tuple[int, str], *, link: bool) -> str | None:
        """:meth:`_keep` of the file ``parent[1]`` in the directory open as ``parent[0]``."""
        kept = temp_name(os.getpid(), next(_temp_counter))
        keep_fd = self._kept_fd()
        try:
            if link:
                os.link(
                    parent[1], kept, src_dir_fd=parent[0], dst_dir_fd=keep_fd, follow_symlinks=False
                )
            else:
                os.rename(parent[1], kept, src_dir_fd=parent[0], dst_dir_fd=keep_fd)
        except FileNotFoundError:
            return None
        return kept

    def finish(self) -> None:
        """Drop the old files install kept (best effort: one left is swept by recovery); with
        ``keep_in`` they stay there for the trash's deletion."""
        if self.keep_in is None:
            for _rel, kept, kind in self.done:
                if kept is not None and kind != "move":
                    with suppress(OSError):
                        os.unlink(kept, dir_fd=self.tree.fd)
        self.done.clear()
        self._close_kept()

    def _close_kept(self) -> None:
        if self._keep_fd >= 0:
            os.close(self._keep_fd)
            self._keep_fd = -1

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
                if kind == "move":
                    assert kept is not None
                    with (
                        tree._parent(kept, create=False) as moved,
                        tree._parent(rel, create=True, made=self.made) as back,
                    ):
                        assert moved is not None and back is not None
                        os.rename(moved[1], back[1], src_dir_fd=moved[0], dst_dir_fd=back[0])
                    self.done.pop()
                    continue
                keep_fd = self._kept_fd()
                with tree._parent(rel, create=False) as parent:
                    if parent is not None and kept is not None:
                        os.replace(kept, parent[1], src_dir_fd=keep_fd, dst_dir_fd=parent[0])
                        with suppress(FileNotFoundError):  # still there when it named the
                            os.unlink(kept, dir_fd=keep_fd)  # very file: rename did nothing
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
        self._close_kept()
        for rel in reversed(self.made):
            with suppress(OSError):
                self.tree.rmdir(rel)
        self.made.clear()
