"""Commit records, the generation file, replay and checkpoint.

A commit is one record written to ``journal`` and made durable with one ``fdatasync``: that is
the commit point. Only then are its file operations applied to the tree (without fsync). So a
commit costs one sync, like SQLite, and not two per file.

The journal is a reused log. Records are written one after another from offset 0 into a file
that is zero-filled ahead of them (it grows in :data:`ZERO_CHUNK` steps), so an ``fdatasync``
never has to change the file's size: ≈0.18 ms here, against ≈0.45 ms for an append that does.
When the next record would pass the checkpoint size (:data:`CHECKPOINT_BYTES`), a checkpoint
makes every applied file durable with one ``syncfs`` and writing starts again at offset 0.

Record layout (little-endian)::

    b"FSJ1" | u32 payload length | u32 crc32(payload) | u64 number | payload

The payload is the record's operations back to back: a kind byte (``P`` put, ``D`` delete,
``R`` rmdir), a u16 length and the UTF-8 path, and for a put a u32 length and the file's bytes,
stored raw. Replay applies the operations in order and is idempotent. Record numbers are
consecutive and never reused, so the log ends at the first record whose header or checksum does
not hold (a writer died writing it: never acknowledged) **or whose number is not the previous
one plus one** (a leftover of an earlier pass over the file).

``generation`` is a fixed-width text file::

    fsstate-generation <last record number> <applied journal offset> <incarnation>

written (not synced) after each commit is applied; other processes compare the number to drop
their caches. The *incarnation* is the boot ID and the store directory's device and inode:
while it matches, the page cache holds every write, so only a record at the applied offset
numbered one more can be missing. After a reboot (power loss) or in a copied tree, every record
from offset 0 is replayed. A checkpoint syncs the tree, then writes and syncs the generation
before it zeroes the journal, so the number on disk never falls behind a number a leftover
record could carry.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from fsstate.errors import CorruptDocumentError
from fsstate.store import fsio
from fsstate.store.fsio import Tree, fdatasync
from fsstate.store.layout import GENERATION, JOURNAL

__all__ = [
    "CHECKPOINT_BYTES",
    "ZERO_CHUNK",
    "Generation",
    "Journal",
    "Op",
    "apply_ops",
    "incarnation",
]

#: Operations: ("put", path, bytes) | ("del", path) | ("rmdir", path).
Op = tuple[str, str] | tuple[str, str, bytes]

CHECKPOINT_BYTES = 4 << 20
ZERO_CHUNK = 256 << 10

_HEADER = struct.Struct("<4sIIQ")
_PATH = struct.Struct("<cH")
_DATA = struct.Struct("<I")
_KINDS = {"put": b"P", "del": b"D", "rmdir": b"R"}
_NAMES = {v: k for k, v in _KINDS.items()}
_MAGIC = b"FSJ1"
_GEN_WIDTH = 96


def incarnation(*fds: int) -> str:
    """A short token for (this boot, these files): it changes after a reboot and in a copy of
    the tree, which are the cases where the page cache may not hold every write. The store
    directory, journal and generation files are never replaced while the store lives, so
    their inode numbers are stable; a copy gets new ones (all three matching again after an
    ``rm -rf`` and a restore in place is unlikely, not impossible: run fsck on such a copy)."""
    boot = fsio.boot_id()
    files = ";".join(f"{dev}:{ino}" for dev, ino in map(fsio.identity, fds))
    return hashlib.blake2b(f"{boot};{files}".encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class Generation:
    """The contents of the generation file."""

    number: int = 0
    applied: int = 0
    incarnation: str = ""

    def encode(self) -> bytes:
        line = f"fsstate-generation {self.number} {self.applied} {self.incarnation}"
        return line.ljust(_GEN_WIDTH - 1).encode("ascii") + b"\n"

    @classmethod
    def decode(cls, data: bytes) -> Generation:
        parts = data.split()
        if len(parts) != 4 or parts[0] != b"fsstate-generation":
            return cls()  # unreadable: treated as "replay everything"
        try:
            return cls(int(parts[1]), int(parts[2]), parts[3].decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            return cls()


class Journal:
    """The journal and generation files of one open store."""

    def __init__(self, tree: Tree, *, read_only: bool = False) -> None:
        """``read_only``: the tree is on a read-only mount; open both files for reading."""
        self.tree = tree
        self.fd = self.gen_fd = -1
        name = JOURNAL
        try:
            self.fd = tree.open_control(JOURNAL, read_only=read_only)
            name = GENERATION
            self.gen_fd = tree.open_control(GENERATION, read_only=read_only)
        except OSError as exc:
            self.close()  # the journal's descriptor, when only the generation file failed
            path = tree.abspath(name)
            raise CorruptDocumentError(f"{path}: cannot open ({exc.strerror})", path=path) from None

    def close(self) -> None:
        for fd in (self.fd, self.gen_fd):
            if fd >= 0:
                fsio.close(fd)
        self.fd = self.gen_fd = -1

    # -- generation -----------------------------------------------------------------------

    def read_generation(self) -> Generation:
        return Generation.decode(fsio.pread(self.gen_fd, _GEN_WIDTH, 0))

    def write_generation(self, gen: Generation) -> None:
        fsio.pwrite_all(self.gen_fd, gen.encode(), 0)

    # -- records ---------------------------------------------------------------------------

    def size(self) -> int:
        return fsio.file_size(self.fd)

    @staticmethod
    def encode(number: int, ops: Sequence[Op]) -> bytes:
        """The bytes of record ``number`` holding ``ops``."""
        payload = b"".join(_encode_op(op) for op in ops)
        return _HEADER.pack(_MAGIC, len(payload), zlib.crc32(payload), number) + payload

    def write(self, offset: int, record: bytes) -> int:
        """Write ``record`` at ``offset`` and make it durable; return the offset after it."""
        end = offset + len(record)
        size = self.size()
        if end > size:  # zero-fill ahead, so the next fdatasyncs keep the size
            grown = -(-end // ZERO_CHUNK) * ZERO_CHUNK
            fsio.pwrite_all(self.fd, bytes(grown - size), size)
        fsio.pwrite_all(self.fd, record, offset)
        fdatasync(self.fd)
        return end

    def starts_record(self, offset: int, number: int) -> bool:
        """Whether a record numbered ``number`` begins at ``offset`` (header only)."""
        head = fsio.pread(self.fd, _HEADER.size, offset)
        if len(head) < _HEADER.size:
            return False
        magic, _length, _crc, found = _HEADER.unpack(head)
        return bool(magic == _MAGIC and found == number)

    def records(self, start: int, number: int | None) -> Iterator[tuple[int, int, list[Op]]]:
        """Yield ``(end offset, number, ops)`` for the intact, consecutively numbered records
        from ``start``; the first must be numbered ``number`` (any number when ``None``)."""
        size = self.size()
        offset = start
        while offset + _HEADER.size <= size:
            magic, length, crc, found = _HEADER.unpack(fsio.pread(self.fd, _HEADER.size, offset))
            if magic != _MAGIC or offset + _HEADER.size + length > size:
                return
            if number is not None and found != number:
                return
            payload = fsio.pread(self.fd, length, offset + _HEADER.size)
            if len(payload) != length or zlib.crc32(payload) != crc:
                return
            try:
                ops = _decode_ops(payload)
            except (ValueError, struct.error, UnicodeDecodeError):
                return
            offset += _HEADER.size + length
            yield offset, found, ops
            number = found + 1

    def reset(self) -> None:
        """Mark the journal empty (its first header zeroed) and make that durable."""
        fsio.pwrite_all(self.fd, bytes(_HEADER.size), 0)
        fdatasync(self.fd)


def apply_ops(tree: Tree, ops: Sequence[Op]) -> None:
    """Apply one record's operations to the tree, in order. Idempotent."""
    for op in ops:
        kind, path = op[0], op[1]
        if kind == "put":
            tree.put(path, op[2])  # type: ignore[misc]
        elif kind == "del":
            tree.delete(path)
        elif kind == "rmdir":
            tree.rmdir(path)
        else:  # pragma: no cover - _decode_op rejects unknown kinds
            raise ValueError(kind)


def _safe_path(path: str) -> bool:
    """A journal from a copied or damaged tree must not name anything outside the store."""
    return all(part not in ("", ".", "..") and "\x00" not in part for part in path.split("/"))


def _encode_op(op: Op) -> bytes:
    path = op[1].encode("utf-8")
    head = _PATH.pack(_KINDS[op[0]], len(path)) + path
    if op[0] == "put":
        data: bytes = op[2]  # type: ignore[misc]
        return head + _DATA.pack(len(data)) + data
    return head


def _decode_ops(payload: bytes) -> list[Op]:
    ops: list[Op] = []
    offset = 0
    while offset < len(payload):
        kind_byte, length = _PATH.unpack_from(payload, offset)
        offset += _PATH.size
        path = payload[offset : offset + length].decode("utf-8")
        offset += length
        kind = _NAMES.get(kind_byte)
        if kind is None or len(path) == 0 or not _safe_path(path):
            raise ValueError("malformed operation")
        if kind == "put":
            (size,) = _DATA.unpack_from(payload, offset)
            offset += _DATA.size
            data = payload[offset : offset + size]
            if len(data) != size:
                raise ValueError("truncated operation")
            offset += size
            ops.append((kind, path, data))
        else:
            ops.append((kind, path))
    return ops
