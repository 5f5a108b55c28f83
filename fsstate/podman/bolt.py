"""A small read-only reader for BoltDB (bbolt) files, enough to import Podman's ``bolt_state.db``.

No maintained pure-Python bbolt reader exists on PyPI (``boltdb`` 0.0.2, 2020, is an untyped
hobby port of the whole engine), so this module reads the format itself. It never writes: the
file is opened ``rb`` and read once into memory (Podman's Bolt files are a few hundred KiB).

The format (bbolt's ``page.go``, ``db.go``, ``bucket.go``; all integers little-endian):

* The file is an array of fixed-size pages. Page *n* starts at ``n * page_size``. Every page
  starts with a 16-byte header: ``id u64, flags u16, count u16, overflow u32``. ``flags`` is
  0x01 branch, 0x02 leaf, 0x04 meta or 0x10 freelist. A page with ``overflow = k`` spans
  ``k + 1`` consecutive pages; its elements may use all of them.
* Pages 0 and 1 are the two meta pages. After the header comes ``magic u32 (0xED0CDAED),
  version u32 (2), page_size u32, flags u32, root bucket (root u64, sequence u64),
  freelist u64, pgid u64, txid u64, checksum u64``. ``pgid`` is the high-water mark: every page
  in use has an id below it. ``checksum`` is FNV-1a 64 of the 56 bytes before it. Writers
  alternate between the two metas, so the valid one with the higher ``txid`` is current.
* A bucket is a B+tree whose root page id is stored in its parent (the meta for the root
  bucket). A branch page holds ``count`` 16-byte elements ``pos u32, ksize u32, pgid u64``:
  the child ``pgid`` holds the keys from ``key`` on. A leaf page holds ``count`` 16-byte
  elements ``flags u32, pos u32, ksize u32, vsize u32``; the key is at the element's own
  offset plus ``pos`` and the value follows the key. Keys are sorted bytewise.
* A leaf element with flag 0x01 is a nested bucket. Its value starts with a bucket header
  ``root u64, sequence u64``. If ``root`` is 0 the bucket is *inline*: a leaf page (header and
  elements, ``id`` 0) follows in the value itself, and its offsets are relative to the value.
* The root bucket holds only nested buckets; Podman's state lives in them.

Every malformed input (too short, bad metas, a page id past the high-water mark or the file,
a wrong header, an unknown flag, offsets outside a page, unsorted keys, a page reached twice)
raises :class:`~fsstate.errors.CorruptDocumentError` with ``.path`` set and the page id named.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import NoReturn

from fsstate.errors import CorruptDocumentError, StateClosedError

__all__ = ["BoltReader", "Bucket"]

MAGIC = 0xED0CDAED
VERSION = 2
BRANCH, LEAF, META, FREELIST = 0x01, 0x02, 0x04, 0x10
BUCKET_LEAF = 0x01  # leaf element flag: the value is a nested bucket

_HEADER = struct.Struct("<QHHI")  # id, flags, count, overflow
_META = struct.Struct("<IIIIQQQQQQ")  # magic … txid, checksum
_ELEMENT = struct.Struct("<IIII")  # leaf: flags, pos, ksize, vsize
_BRANCH = struct.Struct("<IIQ")  # branch: pos, ksize, pgid
_BUCKET = struct.Struct("<QQ")  # root, sequence
_CHECKED = _META.size - 8  # the checksum covers the meta up to itself
# The page sizes accepted; all are tried for meta page 1 when meta page 0 is bad.
_PAGE_SIZES = tuple(1 << n for n in range(9, 17))


def _fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


@dataclass(frozen=True)
class _Meta:
    page_size: int
    root: int
    high_water: int
    txid: int


@dataclass(frozen=True)
class _Page:
    """One branch or leaf page (or inline bucket): ``data[start:end]``."""

    data: bytes = field(repr=False)
    start: int
    end: int
    flags: int
    count: int
    pgid: int  # for an inline bucket: the page holding its value
    inline: bool


class BoltReader:
    """An open, read-only Bolt file. ``BoltReader(path)``; use as a context manager.

    Raises :class:`OSError` if the file cannot be read, :class:`CorruptDocumentError` if it is
    not a valid Bolt file (both metas bad, or shorter than the high-water mark says).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        with open(self.path, "rb") as f:
            self._data: bytes | None = f.read()
        meta = self._current_meta(self._data)
        self.page_size, self.txid = meta.page_size, meta.txid
        self._high_water, self._root = meta.high_water, meta.root
        if len(self._data) < self._high_water * self.page_size:
            self._fail(
                self._high_water - 1,
                f"file truncated: {len(self._data)} bytes, meta says pages up to "
                f"{self._high_water - 1} of {self.page_size} bytes",
            )

    def __enter__(self) -> BoltReader:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Drop the bytes; later reads through the reader or its buckets raise StateClosedError."""
        self._data = None

    def root(self) -> Bucket:
        """The root bucket (its entries are the top-level buckets)."""
        return Bucket(self, self._root, None, frozenset({self._root}))

    def bucket(self, *names: bytes) -> Bucket | None:
        """The bucket at the path ``names`` from the root, or None if any step is missing."""
        found: Bucket | None = self.root()
        for name in names:
            if found is None:
                return None
            found = found.bucket(name)
        return found

    # -- pages ----------------------------------------------------------------------------

    def _fail(self, pgid: int, message: str) -> NoReturn:
        raise CorruptDocumentError(f"{self.path}: page {pgid}: {message}", path=self.path)

    def _bytes(self) -> bytes:
        if self._data is None:
            raise StateClosedError(f"{self.path}: BoltReader is closed", path=self.path)
        return self._data

    def _current_meta(self, data: bytes) -> _Meta:
        first = self._meta(data, 0)
        if isinstance(first, _Meta):
            second = self._meta(data, first.page_size)
        else:  # page 0 cannot give the page size: try them all, bbolt's usual 4 KiB first
            tries = [self._meta(data, size) for size in (4096, *_PAGE_SIZES)]
            found = [m for m in tries if isinstance(m, _Meta)]
            second = found[0] if found else f"{tries[0]} at offset 4096, nor valid elsewhere"
        metas = [m for m in (first, second) if isinstance(m, _Meta)]
        if not metas:
            raise CorruptDocumentError(
                f"{self.path}: not a valid Bolt file: page 0: {first}; page 1: {second}",
                path=self.path,
            )
        return max(metas, key=lambda m: m.txid)

    @staticmethod
    def _meta(data: bytes, offset: int) -> _Meta | str:
        """The meta page at ``offset`` (0, or page 1 at one page size), or what is wrong."""
        end = offset + _HEADER.size + _META.size
        if len(data) < end:
            return f"file too short for a meta page ({len(data)} bytes)"
        fields = _META.unpack_from(data, offset + _HEADER.size)
        magic, version, page_size, _, root, _, _, high_water, txid, checksum = fields
        if magic != MAGIC:
            return f"bad magic {magic:#010x}"
        if version != VERSION:
            return f"unsupported version {version}"
        body = offset + _HEADER.size
        if checksum != _fnv1a64(data[body : body + _CHECKED]):
            return "meta checksum mismatch"
        if page_size not in _PAGE_SIZES or offset not in (0, page_size):
            return f"page size {page_size} invalid or not the meta's offset {offset}"
        if not 2 <= root < high_water:
            return f"root page {root} outside 2..{high_water - 1}"
        return _Meta(page_size, root, high_water, txid)

    def _page(self, pgid: int) -> _Page:
        data, size = self._bytes(), self.page_size
        if not 2 <= pgid < self._high_water:
            self._fail(pgid, f"page id out of range 2..{self._high_water - 1}")
        start = pgid * size
        hid, flags, count, overflow = _HEADER.unpack_from(data, start)
        if hid != pgid:
            self._fail(pgid, f"header carries page id {hid}")
        if pgid + overflow >= self._high_water:
            self._fail(pgid, f"overflow of {overflow} pages runs past the high-water mark")
        return self._checked(
            _Page(data, start, start + (overflow + 1) * size, flags, count, pgid, False)
        )

    def _inline(self, value: bytes, parent: _Page) -> _Page:
        if len(value) < _BUCKET.size + _HEADER.size:
            self._bad(parent, "inline bucket value too short")
        _, flags, count, _ = _HEADER.unpack_from(value, _BUCKET.size)
        page = _Page(value, _BUCKET.size, len(value), flags, count, parent.pgid, True)
        if flags != LEAF:  # bbolt inlines only a bucket that fits in one leaf
            self._bad(page, f"page flags {flags:#06x}, not a leaf")
        return self._checked(page)

    def _checked(self, page: _Page) -> _Page:
        if page.flags not in (BRANCH, LEAF):
            self._bad(page, f"unknown page flags {page.flags:#06x} (not branch or leaf)")
        if page.flags == BRANCH and page.count == 0:
            self._bad(page, "branch page without elements")
        if page.start + _HEADER.size + page.count * _ELEMENT.size > page.end:
            self._bad(page, f"{page.count} elements do not fit in the page")
        return page

    def _bad(self, page: _Page, message: str) -> NoReturn:
        self._fail(page.pgid, f"{message} (inline bucket)" if page.inline else message)

    def _slice(self, page: _Page, offset: int, size: int) -> bytes:
        if offset + size > page.end:
            self._bad(page, f"element data at offset {offset - page.start} runs past the page")
        return page.data[offset : offset + size]

    def _branch(self, page: _Page) -> list[tuple[bytes, int]]:
        """The (first key, child page id) pairs of a branch page."""
        children = []
        for i in range(page.count):
            at = page.start + _HEADER.size + i * _BRANCH.size
            pos, ksize, child = _BRANCH.unpack_from(page.data, at)
            children.append((self._slice(page, at + pos, ksize), child))
        return children

    def _leaf(self, page: _Page) -> list[tuple[int, bytes, bytes]]:
        """The (flags, key, value) triples of a leaf page."""
        entries = []
        for i in range(page.count):
            at = page.start + _HEADER.size + i * _ELEMENT.size
            flags, pos, ksize, vsize = _ELEMENT.unpack_from(page.data, at)
            kv = self._slice(page, at + pos, ksize + vsize)
            entries.append((flags, kv[:ksize], kv[ksize:]))
        return entries


class Bucket:
    """A bucket of a :class:`BoltReader`: plain key/values plus nested buckets, in key order."""

    def __init__(
        self, reader: BoltReader, root: int, inline: _Page | None, roots: frozenset[int]
    ) -> None:
        self._reader, self._root, self._inline = reader, root, inline
        self._roots = roots  # root pages of this bucket and its parents: a repeat is a cycle

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """The plain key/value pairs (nested buckets left out), in key order."""
        for flags, key, value, _ in self._entries(set()):
            if not flags & BUCKET_LEAF:
                yield key, value

    def buckets(self) -> Iterator[tuple[bytes, Bucket]]:
        """The nested buckets as (name, bucket), in key order."""
        for flags, key, value, page in self._entries(set()):
            if flags & BUCKET_LEAF:
                yield key, self._child(value, page)

    def get(self, key: bytes) -> bytes | None:
        """The value of plain key ``key``, or None if absent or a nested bucket."""
        found = self._find(key)
        return None if found is None or found[0] & BUCKET_LEAF else found[1]

    def bucket(self, name: bytes) -> Bucket | None:
        """The nested bucket ``name``, or None if absent or a plain key."""
        found = self._find(name)
        return self._child(found[1], found[2]) if found and found[0] & BUCKET_LEAF else None

    def _top(self, seen: set[int]) -> _Page:
        if self._inline is not None:
            return self._inline
        return self._visit(self._root, seen)

    def _visit(self, pgid: int, seen: set[int]) -> _Page:
        if pgid in seen:
            self._reader._fail(pgid, "page reached twice (cycle or shared page)")
        seen.add(pgid)
        return self._reader._page(pgid)

    def _entries(self, seen: set[int]) -> Iterator[tuple[int, bytes, bytes, _Page]]:
        """Every leaf element, depth first; ``seen`` collects the pages visited."""
        stack, last = [self._top(seen)], None
        while stack:
            page = stack.pop()
            if page.flags == BRANCH:
                children = self._reader._branch(page)
                stack.extend(self._visit(child, seen) for _, child in reversed(children))
                continue
            for flags, key, value in self._reader._leaf(page):
                if last is not None and key <= last:
                    self._reader._bad(page, "keys out of order")
                last = key
                yield flags, key, value, page

    def _find(self, key: bytes) -> tuple[int, bytes, _Page] | None:
        seen: set[int] = set()
        page = self._top(seen)
        while page.flags == BRANCH:
            children = self._reader._branch(page)
            child = children[0][1]
            for first, pgid in children:
                if first > key:
                    break
                child = pgid
            page = self._visit(child, seen)
        for flags, k, value in self._reader._leaf(page):
            if k == key:
                return flags, value, page
        return None

    def _child(self, value: bytes, page: _Page) -> Bucket:
        if len(value) < _BUCKET.size:
            self._reader._bad(page, "bucket value too short")
        root, _ = _BUCKET.unpack_from(value)
        if root == 0:
            return Bucket(self._reader, 0, self._reader._inline(value, page), self._roots)
        if root in self._roots:
            self._reader._fail(root, f"nested bucket in page {page.pgid} loops back to a parent")
        return Bucket(self._reader, root, None, self._roots | {root})
