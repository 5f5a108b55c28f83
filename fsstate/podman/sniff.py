"""Telling Podman's two database files apart by their first bytes (``spec/podman-db-format.md``
§1 for ``db.sql``, §5 for ``bolt_state.db``)."""

from __future__ import annotations

import os
from typing import Literal

from fsstate.errors import InvalidArgumentError
from fsstate.podman.plan import StrPath

SQLITE_MAGIC = b"SQLite format 3\x00"
# bbolt meta page magic 0xED0CDAED right after the 16-byte page header; little-endian on
# every platform Podman ships for but s390x, hence both byte orders when sniffing.
_BOLT_MAGICS = (b"\xed\xda\x0c\xed", b"\xed\x0c\xda\xed")


def read_head(path: str, size: int = 100) -> bytes:
    """The first ``size`` bytes of ``path``; :class:`InvalidArgumentError` when it cannot be
    read (missing, a directory, no permission)."""
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except FileNotFoundError:
        raise InvalidArgumentError(f"{path}: no such file", path=path) from None
    except IsADirectoryError:
        raise InvalidArgumentError(f"{path}: is a directory", path=path) from None
    except OSError as exc:
        raise InvalidArgumentError(f"{path}: cannot read: {exc.strerror}", path=path) from None


def detect_format(path: StrPath) -> Literal["sqlite", "bolt"]:
    """``"sqlite"`` for a ``db.sql``, ``"bolt"`` for a ``bolt_state.db``, by magic bytes.

    An empty file is ``"bolt"``: bbolt initialises a 0-byte file on open, so Podman 4.x takes
    a 0-byte ``bolt_state.db`` for an empty state (bbolt ``db.go``, ``Open``: ``init`` when
    the file size is 0).

    Raises :class:`InvalidArgumentError` if the file is missing or is neither.
    """
    spath = os.fspath(path)
    head = read_head(spath)
    if not head:
        return "bolt"
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head[16:20] in _BOLT_MAGICS:
        return "bolt"
    raise InvalidArgumentError(
        f"{spath}: neither a SQLite database (db.sql) nor a BoltDB file (bolt_state.db)",
        path=spath,
    )
