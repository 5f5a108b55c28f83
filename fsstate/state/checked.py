"""Configs already checked: what a read of a container or pod config need not do twice.

Reading a stored container or pod means decoding its config (some 45 µs for Podman's 12–23 KB
ContainerConfig), checking its shape (``shape.py``) and checking that every name in it that
becomes a path is valid (``catalog.names_valid``). All three are a pure function of the file's
bytes, the object's ID (from the path) and whether namespaces are honoured. So the catalog
keeps, per config file, the bytes it last found valid and their ID, name and namespace; when a
read finds the same bytes (the storage's cache hands out the very same object, so the
comparison is a pointer test; equal bytes read anew compare in a ``memcmp``), it returns an
object whose config is decoded only when read (:meth:`fsstate.model.Container.config`).

Memory: the memo references at most :data:`BUDGET` bytes of config files, the size of the
storage's read cache (``storage.CACHE_BUDGET``), whose bytes they mostly are; when a new entry
would pass it, the oldest entries go first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from fsstate.model import Deferred
from fsstate.store.storage import CACHE_BUDGET

__all__ = ["BUDGET", "CheckedConfigs"]

BUDGET = CACHE_BUDGET

#: ``(path, namespaces honoured)``: a config file as read under one semantics.
Key = tuple[str, bool]


class CheckedConfigs:
    """Config files found valid: path → (bytes, ID, name, namespace), up to ``budget`` bytes."""

    def __init__(self, budget: int = BUDGET) -> None:
        self._entries: OrderedDict[Key, Deferred] = OrderedDict()
        self._size = 0
        self._budget = budget
        self._lock = threading.Lock()

    def get(self, key: Key, data: bytes) -> Deferred | None:
        """What was found of ``data`` at ``key``, if those are the bytes last found valid there."""
        hit = self._entries.get(key)
        return hit if hit is not None and hit[0] == data else None

    def add(self, key: Key, deferred: Deferred) -> None:
        """Remember that ``deferred``'s bytes at ``key`` are valid, with its summary."""
        size = len(deferred[0])
        if size > self._budget:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old[0])
            while self._size + size > self._budget:
                self._size -= len(self._entries.popitem(last=False)[1][0])
            self._entries[key] = deferred
            self._size += size

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0
