"""Commit records, the generation file, replay and checkpoint.

A commit is one record appended to ``journal`` and made durable with one ``fdatasync``: that is
the commit point. Only then are its file operations applied to the tree (without fsync). A
checkpoint — when the journal grows past :data:`CHECKPOINT_BYTES` or
:data:`CHECKPOINT_RECORDS` — syncs the file system holding the tree once and empties the
journal. So a commit costs one sync, like SQLite, and not two per file.

Record layout (little-endian)::

    b"FSJ1" | u32 payload length | u32 crc32(payload) | u64 generation | payload

and the payload is the record's operations, back to back, each a kind byte (``P`` put,
``D`` delete, ``R`` rmdir), a u16 length and the UTF-8 path, and for a put a u32 length and
the file's bytes — stored raw, so a 12 KB document costs 12 KB of journal and no escaping.
Replay applies the operations in order and is idempotent.
A record whose header, length or checksum does not hold ends the journal: it was being
written when its writer died, so it was never acknowledged, and it is cut off.

``generation`` is a fixed-width text file::

    fsstate-generation <generation> <applied journal offset> <incarnation>

written (not synced) after each commit is applied. Other processes compare the generation to
drop their caches. The *incarnation* is the boot ID and the store directory's device and inode:
while it matches, the page cache holds every write, so only records past the applied offset can
be missing; after a reboot (power loss) or in a copied tree every record since the last
checkpoint is replayed.
"""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from fsstate.errors import CorruptDocumentError
from fsstate.fsio import Tree, fdatasync
from fsstate.layout import GENERATION, JOURNAL

__all__ = [
    "CHECKPOINT_BYTES",
    "CHECKPOINT_RECORDS",
    "Generation",
    "Journal",
    "Op",
    "apply_ops",
    "incarnation",
]

#: Operations: ("put", path, bytes) | ("del", path) | ("rmdir", path).
Op = tuple[str, str] | tuple[str, str, bytes]

CHECKPOINT_BYTES = 4 << 20
CHECKPOINT_RECORDS = 512

_HEADER = struct.Struct("<4sIIQ")
_PATH = struct.Struct("<cH")
_DATA = struct.Struct("<I")
_KINDS = {"put": b"P", "del": b"D", "rmdir": b"R"}
_NAMES = {v: k for k, v in _KINDS.items()}
_MAGIC = b"FSJ1"
_GEN_WIDTH = 96
_BOOT_ID = "/proc/sys/kernel/random/boot_id"


def incarnation(tree: Tree) -> str:
    """A short token for (this boot, this directory): it changes after a reboot and in a
    copy of the tree, which are the cases where the page cache may not hold every write."""
    try:
        with open(_BOOT_ID, encoding="ascii") as f:
            boot = f.read().strip()
    except OSError:
        boot = "unknown-boot"
    st = os.fstat(tree.fd)
    token = f"{boot}:{st.st_dev}:{st.st_ino}".encode()
    return hashlib.blake2b(token, digest_size=8).hexdigest()


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

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            self.fd = os.open(JOURNAL, flags, 0o600, dir_fd=tree.fd)
            self.gen_fd = os.open(GENERATION, flags, 0o600, dir_fd=tree.fd)
        except OSError as exc:
            path = tree.abspath(JOURNAL)
            raise CorruptDocumentError(f"{path}: cannot open ({exc.strerror})", path=path) from None

    def close(self) -> None:
        for fd in (self.fd, self.gen_fd):
            if fd >= 0:
                os.close(fd)
        self.fd = self.gen_fd = -1

    # -- generation -----------------------------------------------------------------------

    def read_generation(self) -> Generation:
        return Generation.decode(os.pread(self.gen_fd, _GEN_WIDTH, 0))

    def write_generation(self, gen: Generation) -> None:
        os.pwrite(self.gen_fd, gen.encode(), 0)

    # -- records ---------------------------------------------------------------------------

    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def append(self, offset: int, number: int, ops: Sequence[Op]) -> int:
        """Write one record at ``offset`` and make it durable; return the offset after it."""
        payload = b"".join(_encode_op(op) for op in ops)
        header = _HEADER.pack(_MAGIC, len(payload), zlib.crc32(payload), number)
        record = header + payload
        written = 0
        while written < len(record):
            written += os.pwrite(self.fd, record[written:], offset + written)
        fdatasync(self.fd)
        return offset + len(record)

    def records(self, start: int) -> Iterator[tuple[int, int, list[Op]]]:
        """Yield ``(end offset, generation, ops)`` for each intact record from ``start``."""
        size = self.size()
        offset = start
        while offset + _HEADER.size <= size:
            magic, length, crc, number = _HEADER.unpack(os.pread(self.fd, _HEADER.size, offset))
            if magic != _MAGIC or offset + _HEADER.size + length > size:
                return
            payload = os.pread(self.fd, length, offset + _HEADER.size)
            if len(payload) != length or zlib.crc32(payload) != crc:
                return
            try:
                ops = _decode_ops(payload)
            except (ValueError, struct.error, UnicodeDecodeError):
                return
            offset += _HEADER.size + length
            yield offset, number, ops

    def truncate(self, offset: int) -> None:
        os.ftruncate(self.fd, offset)
        os.fsync(self.fd)


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
