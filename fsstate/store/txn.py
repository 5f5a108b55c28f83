"""A transaction: the changes one call (or one ``FileState.transaction()``) is about to commit.

The State layer first reads and checks everything, then records puts and deletes here; the
storage commits the list as one record at the end. Reads go through the pending changes, so
later steps of a multi-call transaction see the earlier ones. Nothing touches the storage until
``ops`` is committed. Each call inside a transaction starts at a savepoint (:meth:`Txn.mark`)
and a call that raises is rolled back to it (:meth:`Txn.rollback`), so a failed call leaves
nothing behind even when the caller catches the error and the transaction goes on.
"""

from __future__ import annotations

from collections.abc import Callable

from fsstate.store.journal import Op
from fsstate.store.storage import Reader

__all__ = ["Txn"]

_ABSENT = object()


class Txn:
    """Pending changes over a :class:`Reader`: a storage whose lock the caller holds, or a
    lock-free read attempt (which never commits)."""

    __slots__ = ("_below", "_pending", "_trashed", "_undo", "on_commit", "ops", "storage")

    def __init__(self, storage: Reader) -> None:
        self.storage = storage
        self.ops: list[Op] = []
        self._pending: dict[str, bytes | None] = {}
        # Directory → the pending paths anywhere below it, so listdir looks only at those:
        # a refresh that lists one small directory per container stays linear.
        self._below: dict[str, set[str]] = {}
        # (path, its pending value before this change, or _ABSENT): undone by rollback().
        self._undo: list[tuple[str, bytes | object | None]] = []
        # Directories set aside whole (:meth:`trash`): the storage's files below them are gone.
        self._trashed: list[str] = []
        #: Called after the commit, still under the store lock (e.g. writing the refresh
        #: marker); dropped with the changes of a call that is rolled back.
        self.on_commit: list[Callable[[], None]] = []

    def read(self, path: str) -> bytes | None:
        if path in self._pending:
            return self._pending[path]
        if self._trashed and self._in_trash(path):
            return None
        return self.storage.read(path)

    def exists(self, path: str) -> bool:
        if path in self._pending:
            return self._pending[path] is not None
        if self._trashed and self._in_trash(path):
            return bool(self._below.get(path)) and bool(self.listdir(path))
        return self.storage.exists(path)

    def _in_trash(self, path: str) -> bool:
        """Whether ``path`` is, or lies below, a directory this transaction set aside."""
        return any(path == d or path.startswith(d + "/") for d in self._trashed)

    def listdir(self, path: str) -> list[str]:
        """Sorted entries of directory ``path``, pending changes included (a new list)."""
        trashed = self._trashed and self._in_trash(path)
        if not trashed and not self._below.get(path):
            return list(self.storage.listdir(path))  # sorted already
        names = set() if trashed else set(self.storage.listdir(path))
        below = self._below.get(path)
        if below:
            skip = len(path) + 1 if path else 0
            for pending in below:
                first, _, deeper = pending[skip:].partition("/")
                if self._pending[pending] is not None:
                    names.add(first)
                elif not deeper:
                    names.discard(first)
        return sorted(names)

    def read_elsewhere(self) -> None:
        """Other processes read the store for this transaction (a listing shared with forked
        children: ``fsstate/state/fanout.py``), so what they read is not on record here."""
        self.storage.read_elsewhere()

    def mark(self) -> tuple[int, int, int, int]:
        """A savepoint: the changes recorded so far."""
        return len(self.ops), len(self._undo), len(self.on_commit), len(self._trashed)

    def rollback(self, mark: tuple[int, int, int, int]) -> None:
        """Forget every change recorded after ``mark``."""
        ops, undo, hooks, trashed = mark
        del self.on_commit[hooks:]
        del self._trashed[trashed:]
        while len(self._undo) > undo:
            path, before = self._undo.pop()
            if before is _ABSENT:
                del self._pending[path]
                for directory in _ancestors(path):
                    self._below[directory].discard(path)
            else:
                self._pending[path] = before  # type: ignore[assignment]
        del self.ops[ops:]

    def put(self, path: str, data: bytes) -> None:
        self._remember(path)
        self.ops.append(("put", path, data))
        self._pending[path] = data

    def delete(self, path: str) -> None:
        self._remember(path)
        self.ops.append(("del", path))
        self._pending[path] = None

    def _remember(self, path: str) -> None:
        before = self._pending.get(path, _ABSENT)
        self._undo.append((path, before))
        if before is _ABSENT:
            for directory in _ancestors(path):
                self._below.setdefault(directory, set()).add(path)

    def trash(self, path: str) -> None:
        """Drop directory ``path`` with everything in it: the commit moves it whole into the
        trash (``layout.trash_entry``; deleted after the commit), in order with the other
        changes — a put below ``path`` recorded after this lands in a new directory."""
        for pending in list(self._below.get(path, ())):
            if self._pending[pending] is not None:
                self._remember(pending)
                self._pending[pending] = None
        self._trashed.append(path)
        self.ops.append(("trash", path))

    def rmdir(self, path: str) -> None:
        """Remove directory ``path`` when it is empty at this point of the commit (after this
        call's deletes); one that still holds an entry stays, so callers need not list it."""
        self.ops.append(("rmdir", path))


def _ancestors(path: str) -> list[str]:
    """The directories that hold ``path``, from the store directory (``""``) down."""
    parts = path.split("/")[:-1]
    return ["", *("/".join(parts[: i + 1]) for i in range(len(parts)))]
