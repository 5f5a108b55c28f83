"""Opening a store for fsck: its directory, its FORMAT, and its lock.

A tree that opens as a :class:`~fsstate.store.storage.FileStorage` is locked through it (so the
journal is replayed first and the recovered tree is checked); one that does not is locked
through the lock file, or — when that file is hostile — not at all, and the scan says why.
A tree that does not open only for a missing, empty or NUL-filled FORMAT (a power loss can
empty it) while its journal holds records is not scanned: opening it would replay them, so
what the scan found would be stale. Its one finding says so; ``repair`` rewrites FORMAT, and
its next round opens the store (replaying them) and checks the tree as replayed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace

from fsstate.errors import CorruptDocumentError, LockTimeoutError, NoSuchStoreError
from fsstate.fsck.findings import Code, Finding, finding
from fsstate.fsck.scan import ProgressFn, Scan
from fsstate.store import fsio
from fsstate.store import layout as L
from fsstate.store.journal import Journal
from fsstate.store.lock import StoreLock
from fsstate.store.storage import FileStorage

FORMAT_LINE = f"fsstate-layout {L.FORMAT_VERSION}\n".encode()


@dataclass
class Store:
    """A store opened for fsck: the directory's descriptor, and the FileStorage when the tree
    opens as one (else the lock file is locked directly, or — when the lock file itself is
    hostile — nothing is). ``fatal`` findings mean: look no further; ``deferred``: look no
    further until FORMAT is rewritten and the journal replayed (module docstring)."""

    root: str
    fd: int
    fs: FileStorage | None
    fatal: list[Finding] = field(default_factory=list)
    early: list[Finding] = field(default_factory=list)
    deferred: bool = False

    def scan(self, progress: ProgressFn | None = None) -> Scan:
        scan = Scan(self.root, self.fd, progress)
        scan.findings.extend(self.fatal or self.early)
        if not (self.fatal or self.deferred):
            scan.run()
            scan.findings = [self._trash(f) if f.code is Code.TRASH else f for f in scan.findings]
        return scan

    def _trash(self, f: Finding) -> Finding:
        """A trash finding, not repairable while its record can still be replayed (then
        replay may look for what the commit moved there) or when the store does not open."""
        name = f.path.split("/")[-1]
        if self.fs is not None and self.fs.trash_deletable(name):
            return f
        why = "its journal record can still be replayed (or the store does not open)"
        return replace(f, message=f"{f.message}; kept: {why}", repairable=False)


@contextmanager
def locked(static_dir: str | os.PathLike[str], timeout: float) -> Iterator[Store]:
    """The store under ``static_dir``, its lock held for the block (see :class:`Store`).

    The lock is FileStorage's when the tree opens, so the journal is replayed first; a tree
    that does not open (missing FORMAT, hostile control file) is locked through the lock file.
    No store directory at all is :class:`~fsstate.errors.NoSuchStoreError` naming it, as for
    ``FileState(…, create=False)``; nothing is created."""
    root = os.path.join(os.fspath(static_dir), L.STORE_DIR)
    try:
        mode = fsio.lstat(root).st_mode
    except FileNotFoundError:
        raise NoSuchStoreError(f"{root}: no fsstate store here", path=root) from None
    if not stat.S_ISDIR(mode):
        msg = "not a directory (a symlink?): put the real store directory here"
        yield Store(root, -1, None, [finding(Code.UNSAFE_ENTRY, "", msg, repairable=False)])
        return
    with ExitStack() as stack:
        fd = fsio.open_dir(root)
        stack.callback(fsio.close, fd)
        fmt, openable = _format(fd)
        if fmt is not None and not fmt.repairable:
            yield Store(root, fd, None, [fmt])
            return
        fs, journal = _open_storage(static_dir, timeout) if openable else (None, None)
        if fs is not None:
            stack.callback(fs.close)
            stack.enter_context(fs.locked())
        else:
            try:
                lock = StoreLock(os.path.join(root, L.LOCK), timeout)
            except CorruptDocumentError:
                lock = None  # the lock file is hostile: look without it (the scan says so)
            if lock is not None:
                stack.callback(lock.close)
                stack.enter_context(lock)
            held = _journal_records(root) if fmt is not None else None
            if fmt is not None and held is not None:
                msg = (
                    f"{fmt.message}, and the journal holds records {held[0]}-{held[1]}, which "
                    "opening the store replays: repair rewrites FORMAT, then the tree is "
                    "checked as replayed"
                )
                yield Store(root, fd, None, early=[replace(fmt, message=msg)], deferred=True)
                return
        early = [f for f in (fmt, journal) if f is not None]
        if fs is not None and fs.unapplied is not None:
            early.append(finding(Code.UNAPPLIED_RECORD, L.JOURNAL, fs.unapplied))
        yield Store(root, fd, fs, early=early)


def _open_storage(
    static_dir: str | os.PathLike[str], timeout: float
) -> tuple[FileStorage | None, Finding | None]:
    """The store opened as a FileStorage, or ``None`` and — for a damaged journal, which
    nothing else reports — its finding."""
    FileStorage.wait_for_all_trash()  # this process's own deletions are not findings
    try:
        return FileStorage(os.fspath(static_dir), lock_timeout=timeout, sweep=False), None
    except LockTimeoutError:
        raise
    except CorruptDocumentError as exc:
        if exc.fields.get("damaged_at") is not None:  # not a hostile journal file
            message = exc.message.removeprefix(f"{exc.path}: ")
            return None, finding(Code.DAMAGED_JOURNAL, L.JOURNAL, message)
        return None, None  # a hostile journal or generation file: the scan says which
    except OSError:
        return None, None


def _journal_records(root: str) -> tuple[int, int] | None:
    """The first and last numbers of the records the journal holds from its start — what
    opening the store replays after a reboot — read without writing; ``None`` when it holds
    none or cannot be read (a hostile or missing journal file: the scan says so)."""
    try:
        tree = fsio.Tree(root)
    except OSError:
        return None
    try:
        journal = Journal(tree, read_only=True)
    except CorruptDocumentError:
        tree.close()
        return None
    try:
        numbers = [record.number for record in journal.records(0, None)]
    except OSError:
        numbers = []
    finally:
        journal.close()
        tree.close()
    return (numbers[0], numbers[-1]) if numbers else None


def _format(fd: int) -> tuple[Finding | None, bool]:
    """The unknown-format finding (or ``None``), and whether FileStorage may open the tree:
    not when FORMAT is missing, since FileStorage would write it and check writes nothing."""
    try:
        data = fsio.read_regular(L.FORMAT, fd)
    except OSError:
        return None, False  # not a regular file: the scan reports the unsafe entry
    if not data:
        return finding(Code.UNKNOWN_FORMAT, L.FORMAT, "FORMAT is missing or empty"), False
    if not data.strip(b"\x00 \t\r\n"):
        return finding(Code.UNKNOWN_FORMAT, L.FORMAT, "FORMAT is NUL-filled"), False
    parts = data.split()
    version = int(parts[1]) if len(parts) == 2 and parts[1].isdigit() else -1
    if parts[:1] != [b"fsstate-layout"] or version < 1:
        line = FORMAT_LINE.decode().strip()
        msg = f"not an fsstate FORMAT file; if this is an fsstate store, write {line!r} into it"
        return finding(Code.UNKNOWN_FORMAT, L.FORMAT, msg, repairable=False), False
    if version > L.FORMAT_VERSION:
        msg = f"layout version {version} is newer than this fsstate ({L.FORMAT_VERSION}); upgrade"
        return finding(Code.UNKNOWN_FORMAT, L.FORMAT, msg, repairable=False), False
    return None, True
