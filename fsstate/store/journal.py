"""Commit records, the generation file, and reading the journal back.

A commit is one record written to ``journal`` and made durable with one ``fdatasync``: that is
the commit point. Only then are its file operations applied to the tree (without fsync). So a
commit costs one sync, like SQLite, and not two per file. Everything a commit needs space for —
the data of each file it writes, the directories they go in, the journal's own growth — is
written *before* the commit point (``fsio.Tree.stage``), so a full disk (ENOSPC, EDQUOT) stops a
commit before it happened; after it, only renames, unlinks and rmdirs remain.

The journal is a reused log. Records are written one after another from offset 0 into a file
that is zero-filled ahead of them (it grows in :data:`ZERO_CHUNK` steps), so an ``fdatasync``
never has to change the file's size: ≈0.18 ms here, against ≈0.45 ms for an append that does.
When the next record would pass the checkpoint size (:data:`CHECKPOINT_BYTES`), a checkpoint
makes every applied file durable with one ``syncfs`` and writing starts again at offset 0; a
commit whose record alone passes it is checkpointed at once and the file cut back, so the
journal never stays larger than ``CHECKPOINT_BYTES`` plus one ``ZERO_CHUNK``.

Record layout (little-endian)::

    b"FSJ2" | u32 payload length | u32 crc32(payload) | u64 number | u32 crc32(header) | payload

The payload is the record's operations back to back: a kind byte (``P`` put, ``D`` delete,
``R`` rmdir, ``M`` move a directory into the trash), a u16 length and the UTF-8 path; for a put
or a delete, what the file held before the commit — a tag byte (``0`` absent, ``1`` present,
then its 16-byte BLAKE2b digest, ``2`` unknown) — and for a put a u32 length and the file's new
bytes, stored raw; for a move a u32 length and the UTF-8 path it moves to (``trash/<n>/…``,
``layout.trash_entry``). An fsstate from before moves reads an ``M`` record as the end of the
log; a commit that moves is checkpointed before it returns, so its record does not outlive it.
Records of the previous format, ``FSJ1`` (no prior digest), are still read; their operations
count as "prior unknown". Record numbers are consecutive and never reused, so the log ends at the
first record whose header or checksum does not hold (a writer died writing it: never acknowledged)
**or whose number is not the previous one plus one** (a leftover of an earlier pass over the
file). An intact record numbered past the end of the log, found further on, means the log was
damaged in the middle (:meth:`Journal.damage_after`): the store refuses to open rather than
replay part of it.

``generation`` is a fixed-width text file::

    fsstate-generation <last record number> <applied journal offset> <incarnation> [<phase>] ~<crc>

written (not synced) with one ``pwrite`` after each commit is applied; other processes compare it
to drop their caches, and read it without the store lock to run a read lock-free
(``storage.py``, "Lock-free reads"). ``<crc>`` is the CRC-32 (8 hex digits) of the line before
`` ~``: a read racing the ``pwrite`` may return a mix of the old and the new line (a ``pread``
is not atomic against a ``pwrite`` on Linux), and such a mix fails the check (one in 2³²
passes), so it is never taken for a generation (:attr:`Generation.checked` is False and the
reader goes to the lock). A line without ``~<crc>`` (as fsstate wrote it before lock-free
reads) is still decoded, unchecked, and the next lock holder rewrites it with one; an fsstate
from before reads a line with a CRC as unreadable, and replays the journal from offset 0 (safe:
:func:`replay_plan`; slow). ``staging`` is written before a commit stages its files at the top
of the store and cleared with the generation that follows it: the next lock holder that finds
it set sweeps the temporary files a writer killed before its commit point left there.
``installing`` (the other ``<phase>``) replaces it from the commit point until the generation
that follows (and marks a replay): the files of the tree change only while the line says
``installing``, which is what a lock-free reader looks for (staged files have temporary names
that no read looks at).
The *incarnation* is the boot ID and the store directory's device and inode: while it matches,
the page cache holds every write, so only a record at the applied offset numbered one more can
be missing. After a reboot (power loss) or in a copied tree, every record from offset 0 is
replayed — through :func:`replay_plan`, which keeps a file that changed after the record (a hand
edit) instead of overwriting it. A checkpoint syncs the tree, then writes and syncs the
generation before it zeroes the journal, so the number on disk never falls behind a number a
leftover record could carry.
"""

from __future__ import annotations

import errno
import hashlib
import struct
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import orjson

from fsstate.errors import CorruptDocumentError, PermissionDeniedError
from fsstate.store import fsio
from fsstate.store.fsio import Tree, fdatasync
from fsstate.store.layout import GENERATION, JOURNAL

__all__ = [
    "CHECKPOINT_BYTES",
    "UNKNOWN",
    "ZERO_CHUNK",
    "Generation",
    "Journal",
    "Op",
    "Record",
    "digest",
    "incarnation",
    "replay_plan",
]

#: Operations: ("put", path, bytes) | ("del", path) | ("rmdir", path) | ("move", path,
#: destination path as UTF-8 bytes) — and, before a storage commits it, ("trash", path), which
#: ``FileStorage.commit`` turns into a move to ``layout.trash_entry(<record number>, path)``.
Op = tuple[str, str] | tuple[str, str, bytes]

CHECKPOINT_BYTES = 4 << 20
ZERO_CHUNK = 256 << 10

#: magic, payload length, crc32(payload), number, crc32 of the 20 bytes before it.
_HEADER = struct.Struct("<4sIIQI")
_HEADER_V1 = struct.Struct("<4sIIQ")
_HEADER_CRC = struct.Struct("<I")
_PATH = struct.Struct("<cH")
_DATA = struct.Struct("<I")
_KINDS = {"put": b"P", "del": b"D", "rmdir": b"R", "move": b"M"}
_NAMES = {v: k for k, v in _KINDS.items()}
_MAGIC = b"FSJ2"
_MAGIC_V1 = b"FSJ1"
_GEN_WIDTH = 96
_DIGEST = 16
#: The operations on directories: no prior, never kept from a replay.
_DIR_OPS = ("rmdir", "move")
#: A prior digest: ``b""`` the file was absent, 16 bytes its digest, :data:`UNKNOWN` unknown.
UNKNOWN: None = None
_ABSENT_TAG, _PRESENT_TAG, _UNKNOWN_TAG = b"\x00", b"\x01", b"\x02"


def digest(data: bytes | None) -> bytes:
    """What a record stores of a file's contents: ``b""`` for no file, else 16 bytes."""
    if data is None:
        return b""
    return hashlib.blake2b(data, digest_size=_DIGEST).digest()


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
    """The contents of the generation file. ``checked``: decoded from a line whose CRC holds
    (never set by :meth:`encode`; a line without a CRC, or an unreadable one, is not)."""

    number: int = 0
    applied: int = 0
    incarnation: str = ""
    staging: bool = False
    checked: bool = False
    installing: bool = False

    def encode(self) -> bytes:
        line = f"fsstate-generation {self.number} {self.applied} {self.incarnation or '-'}"
        if self.installing:
            line += " installing"
        elif self.staging:
            line += " staging"
        body = line.encode("ascii")
        line += f" ~{zlib.crc32(body):08x}"
        return line.ljust(_GEN_WIDTH - 1).encode("ascii") + b"\n"

    @classmethod
    def decode(cls, data: bytes) -> Generation:
        """The generation in ``data``; ``Generation()`` (unchecked: "replay everything") when
        it is not a generation line or its CRC does not hold (torn or damaged)."""
        body, sep, crc = data.rstrip().rpartition(b" ~")
        checked = bool(sep)
        if checked:
            try:
                checked = len(crc) == 8 and int(crc, 16) == zlib.crc32(body)
            except ValueError:
                checked = False
            if not checked:
                return cls()
            data = body
        parts = data.split()
        staging = parts[-1:] == [b"staging"]
        installing = parts[-1:] == [b"installing"]
        if staging or installing:
            parts.pop()
        if len(parts) != 4 or parts[0] != b"fsstate-generation":
            return cls()  # unreadable: treated as "replay everything"
        try:
            incarnation = parts[3].decode("ascii").strip("-")
            return cls(int(parts[1]), int(parts[2]), incarnation, staging, checked, installing)
        except (ValueError, UnicodeDecodeError):
            return cls()


@dataclass(frozen=True)
class Record:
    """One intact record: its ``number``, the offset just past it (``end``), its ``ops`` and,
    for each op, the digest of what its file held before the commit (``priors``: ``b""``
    absent, 16 bytes, or :data:`UNKNOWN` — for an rmdir, and in an ``FSJ1`` record)."""

    number: int
    end: int
    ops: list[Op]
    priors: list[bytes | None]


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
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise PermissionDeniedError(
                    f"{path}: cannot open ({exc.strerror}); run as the store's owner", path=path
                ) from None
            raise CorruptDocumentError(f"{path}: cannot open ({exc.strerror})", path=path) from None

    @property
    def path(self) -> str:
        return self.tree.abspath(JOURNAL)

    def close(self) -> None:
        for fd in (self.fd, self.gen_fd):
            if fd >= 0:
                fsio.close(fd)
        self.fd = self.gen_fd = -1

    # -- generation -----------------------------------------------------------------------

    def read_generation(self) -> Generation:
        return Generation.decode(self.generation_line())

    def generation_line(self) -> bytes:
        """The generation file's bytes as one ``pread`` returns them (lock not needed)."""
        return fsio.pread(self.gen_fd, _GEN_WIDTH, 0)

    def write_generation(self, gen: Generation) -> None:
        fsio.pwrite_all(self.gen_fd, gen.encode(), 0)

    def sync_generation(self) -> None:
        fdatasync(self.gen_fd)

    # -- records ---------------------------------------------------------------------------

    def size(self) -> int:
        return fsio.file_size(self.fd)

    @staticmethod
    def encode(
        number: int, ops: Sequence[Op], priors: Mapping[str, bytes | None] | None = None
    ) -> bytes:
        """The bytes of record ``number`` holding ``ops``; ``priors`` maps each path a put or
        delete names to what it held before (``None``: absent; a path left out: unknown)."""
        known = priors if priors is not None else {}
        payload = b"".join(_encode_op(op, known) for op in ops)
        head = _HEADER_V1.pack(_MAGIC, len(payload), zlib.crc32(payload), number)
        return head + _HEADER_CRC.pack(zlib.crc32(head)) + payload

    def write(self, offset: int, record: bytes) -> int:
        """Write ``record`` at ``offset`` and make it durable; return the offset after it.

        The zero-fill ahead comes first, so a full disk (ENOSPC, EDQUOT) stops here with
        nothing of the record written and the file cut back to its size; a failure after it
        (a short write, EIO from ``fdatasync``) voids what may have been written
        (:meth:`void`) before the error is raised: the record was never committed."""
        end = offset + len(record)
        size = self.size()
        if end > size:  # zero-fill ahead, so the next fdatasyncs keep the size
            grown = -(-end // ZERO_CHUNK) * ZERO_CHUNK
            try:
                fsio.pwrite_all(self.fd, bytes(grown - size), size)
            except BaseException:
                fsio.truncate(self.fd, size)
                raise
        try:
            fsio.pwrite_all(self.fd, record, offset)
            fdatasync(self.fd)
        except BaseException:
            self.void(offset)
            raise
        return end

    def void(self, offset: int) -> bool:
        """Zero the header of the record at ``offset`` and make that durable, so it is never
        replayed; ``False`` when even that failed (EIO: what the disk holds is unknown)."""
        try:
            fsio.pwrite_all(self.fd, bytes(_HEADER.size), offset)
            fdatasync(self.fd)
        except OSError:
            return False
        return True

    def starts_record(self, offset: int, number: int) -> bool:
        """Whether a record numbered ``number`` begins at ``offset`` (header only)."""
        return self.number_at(offset) == number

    def number_at(self, offset: int) -> int | None:
        """The number in the header at ``offset`` when the header holds (its own checksum;
        an ``FSJ1`` header, which has none, by its magic alone), else ``None``."""
        head = _Head.read(self.fd, offset)
        return None if head is None else head.number

    def records(self, start: int, number: int | None) -> Iterator[Record]:
        """The intact, consecutively numbered records from ``start``; the first must be
        numbered ``number`` (any number when ``None``)."""
        size = self.size()
        offset = start
        while True:
            record = self._record_at(offset, size)
            if record is None or (number is not None and record.number != number):
                return
            yield record
            offset, number = record.end, record.number + 1

    def _record_at(self, offset: int, size: int) -> Record | None:
        head = _Head.read(self.fd, offset)
        if head is None or offset + head.size + head.length > size:
            return None
        payload = fsio.pread(self.fd, head.length, offset + head.size)
        if len(payload) != head.length or zlib.crc32(payload) != head.crc:
            return None
        try:
            ops, priors = _decode_ops(payload, with_priors=head.size == _HEADER.size)
        except (ValueError, struct.error, UnicodeDecodeError):
            return None
        return Record(head.number, offset + head.size + head.length, ops, priors)

    def damage_after(self, offset: int, number: int) -> int | None:
        """The offset of an intact record numbered ``number`` or more found anywhere past
        ``offset``, where the log ended: proof that a record in between was damaged after it
        was committed (torn writes are overwritten by the next commit at the same offset, and
        leftovers of earlier passes carry smaller numbers). ``None`` when there is none."""
        for at, record in self._intact_from(offset):
            if record.number >= number:
                return at
        return None

    def _intact_from(self, offset: int) -> Iterator[tuple[int, Record]]:
        """Every intact record whose header starts at or after ``offset``, found by its
        magic (in file order per format)."""
        size = self.size()
        data = fsio.pread(self.fd, size - offset, offset) if size > offset else b""
        for magic in (_MAGIC, _MAGIC_V1):
            at = data.find(magic)
            while at >= 0:
                record = self._record_at(offset + at, size)
                if record is not None:
                    yield offset + at, record
                at = data.find(magic, at + 1)

    def discard_damaged(self) -> int:
        """fsck's repair of a damaged journal: keep the documents as they are — they are the
        truth — and drop every record. The generation is set past the highest record number
        in the file (offset 0) and synced, then the journal is emptied and
        synced; a crash in between leaves a journal whose records all read as leftovers.
        Returns that number."""
        top = max([self.read_generation().number] + [r.number for _, r in self._intact_from(0)])
        self.write_generation(Generation(top, 0, ""))
        self.sync_generation()
        fsio.truncate(self.fd, 0)
        fdatasync(self.fd)
        return top

    def reset(self, *, shrink_to: int | None = None) -> None:
        """Mark the journal empty (its first header zeroed) and make that durable; with
        ``shrink_to``, cut the file back to that many zero bytes first."""
        if shrink_to is not None:
            fsio.truncate(self.fd, 0)
            fsio.pwrite_all(self.fd, bytes(shrink_to), 0)
        else:
            fsio.pwrite_all(self.fd, bytes(_HEADER.size), 0)
        fdatasync(self.fd)


@dataclass(frozen=True)
class _Head:
    """A record header that holds: its size, the payload's length and crc32, the number."""

    size: int
    length: int
    crc: int
    number: int

    @classmethod
    def read(cls, fd: int, offset: int) -> _Head | None:
        data = fsio.pread(fd, _HEADER.size, offset)
        if data[:4] == _MAGIC and len(data) == _HEADER.size:
            _magic, length, crc, number, check = _HEADER.unpack(data)
            if zlib.crc32(data[: _HEADER_V1.size]) == check:
                return cls(_HEADER.size, length, crc, number)
        elif data[:4] == _MAGIC_V1 and len(data) >= _HEADER_V1.size:
            _magic, length, crc, number = _HEADER_V1.unpack_from(data)
            return cls(_HEADER_V1.size, length, crc, number)
        return None


# -- replay ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayPlan:
    """What replaying some records does: ``ops`` to apply in order (each record's, minus the
    operations on kept files), and ``kept``: path → why it is left as it is."""

    ops: list[Op]
    kept: dict[str, str]


def replay_plan(records: Sequence[Record], current: Mapping[str, bytes | None]) -> ReplayPlan:
    """The operations of ``records`` that may be re-applied to a tree whose files hold
    ``current`` (path → bytes, ``None`` absent; every path a put or delete names).

    A file is brought to the records' outcome when it is missing, damaged (empty where the
    records never left it empty, NUL bytes, not JSON — every non-empty file of the store is JSON
    — or the first bytes of what one of them wrote: a torn write), holds what it held before the
    first of these records touched it, or what one of them wrote (a later one's outcome may have
    reached the disk first); or when that first prior is unknown (an ``FSJ1`` record). Anything
    else was changed after the commit — by hand — and is kept: its operations are dropped and
    ``kept`` says why (the caller warns)."""
    chain: dict[str, set[bytes | None]] = {}
    written: dict[str, list[bytes]] = {}
    for record in records:
        for op, prior in zip(record.ops, record.priors, strict=True):
            if op[0] in _DIR_OPS:
                continue
            values = chain.get(op[1])
            if values is None:
                values = chain[op[1]] = {prior}
            if op[0] == "put":
                values.add(digest(op[2]))  # type: ignore[misc]
                written.setdefault(op[1], []).append(op[2])  # type: ignore[misc]
            else:
                values.add(b"")
    kept: dict[str, str] = {}
    for path, values in chain.items():
        data = current.get(path)
        if data is None or UNKNOWN in values or digest(data) in values or _damaged(data):
            continue
        if any(len(data) < len(new) and new.startswith(data) for new in written.get(path, ())):
            continue  # a torn write of one of these records (what remains may parse)
        kept[path] = "changed after the journal record that wrote it (a hand edit?)"
    ops = [op for record in records for op in record.ops if op[0] in _DIR_OPS or op[1] not in kept]
    return ReplayPlan(ops, kept)


def _damaged(data: bytes) -> bool:
    """Whether a store file's bytes are what a crash leaves, not a document someone wrote."""
    if not data or b"\x00" in data:
        return True
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError:
        return True
    return False


# -- encoding --------------------------------------------------------------------------------


def _safe_path(path: str) -> bool:
    """A journal from a copied or damaged tree must not name anything outside the store."""
    return all(part not in ("", ".", "..") and "\x00" not in part for part in path.split("/"))


def _encode_op(op: Op, priors: Mapping[str, bytes | None]) -> bytes:
    path = op[1].encode("utf-8")
    head = _PATH.pack(_KINDS[op[0]], len(path)) + path
    if op[0] == "rmdir":
        return head
    if op[0] == "move":
        dest: bytes = op[2]  # type: ignore[misc]
        return head + _DATA.pack(len(dest)) + dest
    if op[1] not in priors:
        head += _UNKNOWN_TAG
    else:
        prior = priors[op[1]]
        head += _ABSENT_TAG if prior is None else _PRESENT_TAG + digest(prior)
    if op[0] == "put":
        data: bytes = op[2]  # type: ignore[misc]
        return head + _DATA.pack(len(data)) + data
    return head


def _decode_ops(payload: bytes, *, with_priors: bool) -> tuple[list[Op], list[bytes | None]]:
    ops: list[Op] = []
    priors: list[bytes | None] = []
    offset = 0
    while offset < len(payload):
        kind_byte, length = _PATH.unpack_from(payload, offset)
        offset += _PATH.size
        path = payload[offset : offset + length].decode("utf-8")
        offset += length
        kind = _NAMES.get(kind_byte)
        if kind is None or len(path) == 0 or not _safe_path(path):
            raise ValueError("malformed operation")
        prior: bytes | None = UNKNOWN
        if kind == "move":
            (size,) = _DATA.unpack_from(payload, offset)
            offset += _DATA.size
            dest = payload[offset : offset + size]
            offset += size
            if len(dest) != size or not dest or not _safe_path(dest.decode("utf-8")):
                raise ValueError("malformed move")
            ops.append((kind, path, dest))
            priors.append(prior)
            continue
        if with_priors and kind != "rmdir":
            tag = payload[offset : offset + 1]
            offset += 1
            if tag == _PRESENT_TAG:
                prior = payload[offset : offset + _DIGEST]
                offset += _DIGEST
                if len(prior) != _DIGEST:
                    raise ValueError("truncated digest")
            elif tag == _ABSENT_TAG:
                prior = b""
            elif tag != _UNKNOWN_TAG:
                raise ValueError("malformed prior")
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
        priors.append(prior)
    return ops, priors
