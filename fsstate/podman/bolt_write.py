"""A small BoltDB (bbolt) writer: a whole tree of buckets → one new, compact Bolt file.

The counterpart of :mod:`fsstate.podman.bolt` (whose docstring describes the page format), for
exporting Podman's ``bolt_state.db``. No maintained Python bbolt writer exists on PyPI
(``boltdb`` 0.0.2, 2020, is an untyped port of the whole engine), so this module writes the
format itself. It does not update files: it lays out a complete tree once, the way a freshly
compacted bbolt file looks (bbolt's ``page.go``, ``node.go``, ``bucket.go``, ``db.go``):

* Pages 0 and 1 are meta pages (txid 0 and 1, identical otherwise), page 2 an empty freelist,
  then the pages of the buckets, children before parents. ``pgid`` in the meta is the number
  of pages, and the file is exactly that many pages long.
* Keys are sorted bytewise. A bucket's entries are packed into leaf nodes in key order, a new
  node starting when the next element would not fit in one page; a single element larger
  than a page gets a node of its own that spans ``overflow`` extra pages. Several nodes get
  branch nodes over them, level by level, until one root remains.
* A nested bucket without nested buckets of its own whose leaf fits in a quarter page is
  stored *inline* in its parent's leaf element (bbolt's ``inlineable`` rule); any other
  bucket value is the 16-byte header ``root pgid, sequence 0``.

A tree is a ``dict`` mapping ``bytes`` keys to ``bytes`` values or to nested trees (buckets).
The root holds only buckets, as in bbolt.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping
from typing import TypeAlias

from fsstate.podman.bolt import (
    _BRANCH,
    _BUCKET,
    _ELEMENT,
    _HEADER,
    _META,
    BRANCH,
    BUCKET_LEAF,
    FREELIST,
    LEAF,
    MAGIC,
    META,
    VERSION,
    _fnv1a64,
)
from fsstate.store import fsio

__all__ = ["Tree", "build", "save", "write"]

Tree: TypeAlias = Mapping[bytes, "bytes | Tree"]

MAX_KEY_SIZE = 32768  # bbolt's MaxKeySize
PAGE_SIZE = 4096  # bbolt's default on Linux (os.Getpagesize)
_FREELIST_PGID = 2
_FIRST_DATA_PGID = 3


class _Pages:
    """The pages of the file being built, in page-id order."""

    def __init__(self, page_size: int) -> None:
        self.page_size = page_size
        self.chunks: list[bytes] = []
        self.next_pgid = _FIRST_DATA_PGID

    def add(self, flags: int, count: int, body: bytes) -> int:
        """Store one node (header + ``body``) at the next page id, padded to whole pages."""
        pgid = self.next_pgid
        size = _HEADER.size + len(body)
        npages = -(-size // self.page_size)
        self.chunks.append(_HEADER.pack(pgid, flags, count, npages - 1) + body)
        self.chunks.append(b"\0" * (npages * self.page_size - size))
        self.next_pgid += npages
        return pgid


def _leaf_body(elements: list[tuple[int, bytes, bytes]]) -> bytes:
    """A leaf node after its page header: the ``(flags, key, value)`` elements, then the keys
    and values. Each element's ``pos`` counts from the element itself."""
    heads, data = [], bytearray()
    for i, (flags, key, value) in enumerate(elements):
        pos = (len(elements) - i) * _ELEMENT.size + len(data)
        heads.append(_ELEMENT.pack(flags, pos, len(key), len(value)))
        data += key + value
    return b"".join(heads) + data


def _branch_body(children: list[tuple[bytes, int]]) -> bytes:
    """A branch node after its page header: the ``(first key, child pgid)`` elements, then
    the keys."""
    heads, data = [], bytearray()
    for i, (key, pgid) in enumerate(children):
        pos = (len(children) - i) * _BRANCH.size + len(data)
        heads.append(_BRANCH.pack(pos, len(key), pgid))
        data += key
    return b"".join(heads) + data


def _split(sizes: list[int], page_size: int) -> list[tuple[int, int]]:
    """``[start, end)`` runs of element indexes, each filling at most one page where possible
    (a run of one element may need more)."""
    runs, start, used = [], 0, _HEADER.size
    for i, size in enumerate(sizes):
        if i > start and used + size > page_size:
            runs.append((start, i))
            start, used = i, _HEADER.size
        used += size
    runs.append((start, len(sizes)))
    return runs


def _elements(tree: Tree, pages: _Pages, where: str) -> list[tuple[int, bytes, bytes]]:
    """The leaf elements of bucket ``tree`` in key order; nested buckets are written first."""
    out = []
    for key in sorted(tree):
        if not isinstance(key, bytes) or not 0 < len(key) <= MAX_KEY_SIZE:
            raise ValueError(f"bucket {where or '/'}: key {key!r} is not 1 to {MAX_KEY_SIZE} bytes")
        value = tree[key]
        if isinstance(value, bytes):
            out.append((0, key, value))
        elif not isinstance(value, Mapping):
            raise ValueError(f"bucket {where or '/'}: key {key!r} holds {type(value).__name__}")
        else:
            out.append((BUCKET_LEAF, key, _bucket_value(value, pages, f"{where}/{key!r}")))
    return out


def _write_bucket(tree: Tree, pages: _Pages, where: str) -> int:
    """Write bucket ``tree`` (nested buckets first) and return its root page id."""
    leaf = _elements(tree, pages, where)
    runs = _split([_ELEMENT.size + len(k) + len(v) for _, k, v in leaf], pages.page_size)
    level = []
    for a, b in runs:
        pgid = pages.add(LEAF, b - a, _leaf_body(leaf[a:b]))
        level.append((leaf[a][1] if b > a else b"", pgid))
    while len(level) > 1:
        runs = _split([_BRANCH.size + len(k) for k, _ in level], pages.page_size)
        level = [(level[a][0], pages.add(BRANCH, b - a, _branch_body(level[a:b]))) for a, b in runs]
    return level[0][1]


def _bucket_value(tree: Tree, pages: _Pages, where: str) -> bytes:
    """A nested bucket's leaf value: inline (bucket header + leaf page) when bbolt would inline
    it (only plain values, the leaf within a quarter page), else the header naming its root
    page."""
    plain = {k: v for k, v in tree.items() if isinstance(v, bytes)}
    if len(plain) == len(tree):
        size = _HEADER.size + sum(_ELEMENT.size + len(k) + len(v) for k, v in plain.items())
        if size <= pages.page_size // 4:
            leaf = _elements(plain, pages, where)
            page = _HEADER.pack(0, LEAF, len(leaf), 0) + _leaf_body(leaf)
            return _BUCKET.pack(0, 0) + page
    return _BUCKET.pack(_write_bucket(tree, pages, where), 0)


def _meta(page_size: int, pgid: int, root: int, high_water: int, txid: int) -> bytes:
    body = _META.pack(MAGIC, VERSION, page_size, 0, root, 0, _FREELIST_PGID, high_water, txid, 0)[
        :-8
    ]
    page = _HEADER.pack(pgid, META, 0, 0) + body + struct.pack("<Q", _fnv1a64(body))
    return page + b"\0" * (page_size - len(page))


def build(tree: Tree, page_size: int = PAGE_SIZE) -> bytes:
    """The bytes of a Bolt file holding ``tree``.

    Raises :class:`ValueError` if ``page_size`` is not a power of two from 1 KiB to 64 KiB,
    the root holds a plain value, a key is empty, longer than 32 KiB or not ``bytes``, or a
    value is neither ``bytes`` nor a mapping (the message names the bucket path).
    """
    if page_size not in tuple(1 << n for n in range(10, 17)):
        raise ValueError(f"page size {page_size} is not a power of two from 1024 to 65536")
    plain = [k for k, v in tree.items() if isinstance(v, bytes)]
    if plain:
        raise ValueError(f"the root bucket holds plain key {plain[0]!r}; it takes buckets only")
    pages = _Pages(page_size)
    root = _write_bucket(tree, pages, "")
    high_water = pages.next_pgid
    freelist = _HEADER.pack(_FREELIST_PGID, FREELIST, 0, 0)
    return b"".join(
        [
            _meta(page_size, 0, root, high_water, 0),
            _meta(page_size, 1, root, high_water, 1),
            freelist + b"\0" * (page_size - len(freelist)),
            *pages.chunks,
        ]
    )


def write(path: str | os.PathLike[str], tree: Tree, page_size: int = PAGE_SIZE) -> None:
    """``save(path, build(tree, page_size))``: a new Bolt file holding ``tree``."""
    save(path, build(tree, page_size))


def save(path: str | os.PathLike[str], data: bytes, *, replace: bool = False) -> None:
    """Write the built file ``data`` to ``path`` and fsync it: a new file only
    (``FileExistsError`` if it exists) unless ``replace`` (:func:`fsstate.store.fsio.
    write_file`). Callers that need an atomic replace save to a temporary file and publish it
    (:func:`fsstate.podman.export.export_file`)."""
    fsio.write_file(os.fspath(path), data, replace=replace)
