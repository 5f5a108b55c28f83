"""The storage seam: a tree of small files read by relative path and changed only by commits.

:class:`Storage` is all the State layer sees: ``read``, ``exists``, ``listdir`` and, inside
``locked()``, ``commit(ops)``. :class:`FileStorage` keeps the tree on disk with the commit
protocol of ``journal.py``; :class:`MemoryStorage` is its in-memory twin, so the conformance
suite runs the same Podman rules against both.

Every call of the State that writes runs inside ``locked()``: the exclusive store lock is
taken, a commit that a crashed process left half-applied is replayed, and the generation line
tells whether another process committed since this one last looked (then the cache of file
contents is dropped). Reads under the lock are linearizable; the lock is held only across the
store's own reads and writes.

**Lock-free reads** (a seqlock; issue 9). A read-only call first tries :meth:`FileStorage.attempt`:
read the generation line (one ``pread``, no lock) and go on only if its CRC holds, it is not
``installing``, its incarnation is this one's and (checked once per line) no record follows the
applied offset unless the line says ``staging`` (a writer writing its record, or one that died
before it changed a file: recovery marks the line ``installing`` before it replays the record, so
until then the tree is the generation's); run the read through the cache and the tree; then read the
line again (:meth:`ReadAttempt.holds`). The same line, or the same but for ``staging``: no commit
changed a file in between — a writer writes ``installing`` after its commit point and before its
first rename, and the next line only after its last; before that (``staging``) it only writes files
under temporary names at the top of the store, which no read looks at, and makes no directory
(``fsio.Tree.stage``) — so the answer, or the error the read raised, is the store at that
generation, and what the attempt read is cached under that line. A reader therefore does not wait
for a writer's ``fdatasync``, nor for the unlinks of the old files after it (done once the new line
is written). Otherwise the attempt's reads are dropped and the call runs under the lock. A torn read
of the line (a ``pread`` racing the writer's ``pwrite`` can mix the two lines) fails the CRC
(``journal.py``, ``generation``), so it leads to the lock, never to a cached answer. Inside a hold
of the lock (a transaction) reads run under it as before. Replay marks the line ``installing``
before it applies a record, and a raw change to the tree under the lock but outside a commit (``fsck
--repair`` moving files) is made inside :meth:`FileStorage.excluding_readers`. When the line
moved since the cache was filled (another process committed), the attempt first brings the cache
up to the new line from the records in between (:meth:`FileStorage._follow`), so a warm reader
beside busy writers reads from memory rather than from the tree. And when the line moved during
the read, the answer still stands if the records committed meanwhile — and, while the line says
``installing``, the record being installed — changed none of the paths the read looked at, nor a
directory above or below one (:meth:`ReadAttempt.holds`): those paths hold the same at both
generations, so it is the store's answer at the new one too. An attempt served wholly from the
cache of its line skips the second look (its answer is the store at the first). Opening a store
takes no lock either when the line is quiet (:meth:`FileStorage._open_lock_free`): a command-line
lookup then takes no lock at all, and what a killed writer left to sweep waits for the first call
that takes the lock.

What :class:`FileStorage` guarantees (``docs/layout.md``, "Commits, crashes and backups"):
``commit`` that returns happened and one that raises did not, ENOSPC, EDQUOT and EIO included
(:meth:`FileStorage.commit` lists the steps and the one double fault that breaks it); replay
never overwrites a file changed after its record (a hand edit, kept with a warning); a journal
damaged in the middle stops the store with :class:`CorruptDocumentError` naming it; records
that cannot be applied (a full disk after a reboot) leave reads working and commits waiting
(:attr:`FileStorage.unapplied`); the journal file never stays larger than the checkpoint size
plus one zero-fill chunk.
"""

from __future__ import annotations

import bisect
import errno
import logging
import os
import stat
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import replace
from typing import Protocol, Self

from fsstate.errors import CorruptDocumentError, NoSuchStoreError
from fsstate.store import fsio
from fsstate.store.fsio import Staged, Tree, make_dirs
from fsstate.store.journal import (
    CHECKPOINT_BYTES,
    ZERO_CHUNK,
    Generation,
    Journal,
    Op,
    Record,
    incarnation,
    replay_plan,
)
from fsstate.store.layout import (
    FORMAT,
    FORMAT_VERSION,
    GENERATION,
    JOURNAL,
    LOCK,
    STORE_DIR,
    TRASH,
    temp_name,
    trash_dir,
    trash_entry,
    trash_number,
)
from fsstate.store.lock import DEFAULT_TIMEOUT, StoreLock
from fsstate.store.upgrade import upgrade

__all__ = [
    "CACHE_BUDGET",
    "NO_CHANGE",
    "FileStorage",
    "MemoryStorage",
    "ReadAttempt",
    "Reader",
    "Storage",
]

log = logging.getLogger(__name__)

_FORMAT_LINE = f"fsstate-layout {FORMAT_VERSION}\n".encode()
#: A record that changes no file: deletes a temporary file no process ever makes (pid 0).
NO_CHANGE: Op = ("del", temp_name(0, 0))
#: How often a lock-free read looks again at a line that says ``installing`` (or does not
#: hold), and how long it sleeps in between, before it takes the lock.
_SPINS, _SPIN_SLEEP = 20, 0.0001
#: Cached file contents are dropped wholesale past this many bytes.
CACHE_BUDGET = 64 << 20
#: How far a lock-free read follows other processes' records to keep its cache
#: (:meth:`FileStorage._follow`) rather than drop it.
_FOLLOW_RECORDS, _FOLLOW_BYTES = 64, 1 << 20


class Reader(Protocol):
    """Reading the tree by relative path: a storage under its lock, or a lock-free attempt."""

    def read(self, path: str) -> bytes | None: ...
    def exists(self, path: str) -> bool: ...
    def listdir(self, path: str) -> list[str]:
        """The entries of directory ``path``, sorted, temporary files left out (``[]`` when it
        does not exist). The list may be the reader's cached one: do not change it."""
        ...

    def read_elsewhere(self) -> None:
        """Other processes read paths on this reader's behalf, unrecorded (``Txn``)."""
        ...


class Storage(Reader, Protocol):
    """What the State layer needs from a storage backend."""

    def locked(self) -> AbstractContextManager[None]: ...
    def attempt(self) -> ReadAttempt | None: ...
    def cached_exists(self, path: str) -> bool | None: ...
    def commit(self, ops: Sequence[Op]) -> None: ...
    def close(self) -> None: ...


class _Snapshot:
    """What this process read of the tree while the generation file held ``line``: file
    contents, ``exists`` answers and directory listings (sorted, temporary files left out;
    never handed out to be changed), each exact for that line. Replaced when the line moves,
    except by this process's own commit, which carries it over (:meth:`follow`)."""

    __slots__ = ("files", "line", "listings", "present", "size")

    def __init__(self, line: bytes) -> None:
        self.line = line
        self.files: dict[str, bytes] = {}
        self.present: dict[str, bool] = {}
        self.listings: dict[str, list[str]] = {}
        self.size = 0

    def follow(self, ops: Sequence[Op]) -> None:
        """Apply a commit's ``ops`` (as :meth:`fsio.Tree.stage` and ``install`` do: a put
        makes its directories, a delete leaves them, an rmdir removes an empty directory, a
        move to the trash takes a directory and all below it)."""
        files, present, listings = self.files, self.present, self.listings
        for op in ops:
            path = op[1]
            parent, _, name = path.rpartition("/")
            old = files.pop(path, None)
            if old is not None:
                self.size -= len(old)
            if op[0] == "put":
                data: bytes = op[2]  # type: ignore[misc]
                files[path] = data
                self.size += len(data)
                present[path] = True
                directory, child = parent, name
                while True:  # every directory above it exists now, each in its parent's list
                    entries = listings.get(directory)
                    if entries is not None:  # sorted: a bisection, not a scan, per put
                        at = bisect.bisect_left(entries, child)
                        if at == len(entries) or entries[at] != child:
                            entries.insert(at, child)
                    if not directory:
                        break
                    present[directory] = True
                    directory, _, child = directory.rpartition("/")
            elif op[0] == "del":
                present[path] = False
                entries = listings.get(parent)
                if entries is not None:
                    at = bisect.bisect_left(entries, name)  # sorted: no scan per delete
                    if at < len(entries) and entries[at] == name:
                        del entries[at]
            elif op[0] in ("trash", "move"):  # the directory and all below it are gone
                below = path + "/"
                for gone in [p for p in files if p.startswith(below)]:
                    self.size -= len(files.pop(gone))
                for gone in [p for p in present if p.startswith(below)]:
                    del present[gone]
                for gone in [p for p in listings if p.startswith(below)]:
                    del listings[gone]
                present[path] = False
                listings.pop(path, None)
                entries = listings.get(parent)
                if entries is not None and name in entries:
                    entries.remove(name)
            else:  # rmdir: whether it went depends on what is in it, temporary files too
                present.pop(path, None)
                listings.pop(path, None)
                listings.pop(parent, None)


class ReadAttempt:
    """One lock-free read (:meth:`FileStorage.attempt`): a :class:`Reader` over the tree at the
    generation ``line`` read when it began. ``with attempt:`` for its duration (``close`` waits
    for it); :meth:`holds` says whether what it read is the store at ``line``."""

    __slots__ = (
        "_key",
        "_line",
        "_listed",
        "_present",
        "_reads",
        "_seen",
        "_seen_size",
        "_snap",
        "_storage",
        "_tree",
        "_tree_read",
    )

    def __init__(self, storage: FileStorage, line: bytes, key: bytes) -> None:
        self._storage, self._tree, self._line, self._key = storage, storage.tree, line, key
        snap = storage._snap
        self._snap = snap if snap.line == key else _Snapshot(key)
        # Files read from the tree, kept for the cache up to its budget (a listing of every
        # container reads far more), and whether anything at all came from the tree.
        self._seen: dict[str, bytes] = {}
        self._seen_size = 0
        self._tree_read = False
        self._present: dict[str, bool] = {}
        self._listed: dict[str, list[str]] = {}
        self._reads: list[str] = []  # every path read, checked or listed, cached or not

    @property
    def root(self) -> str:
        """The store directory (for messages)."""
        return self._storage.root

    @property
    def read_only(self) -> bool:
        return self._storage.read_only

    def read(self, path: str) -> bytes | None:
        self._reads.append(path)
        data = self._snap.files.get(path)
        if data is None:
            data = self._seen.get(path)
            if data is None:
                if self._snap.present.get(path) is False or self._present.get(path) is False:
                    return None
                data = self._tree.read(path)
                self._tree_read = True
                if data is None:
                    self._present[path] = False
                elif self._seen_size + len(data) <= CACHE_BUDGET:
                    self._seen[path] = data
                    self._seen_size += len(data)
        return data

    def exists(self, path: str) -> bool:
        self._reads.append(path)
        found = self._snap.present.get(path)
        if found is None:
            found = self._present.get(path)
            if found is None:
                found = self._present[path] = (
                    path in self._snap.files or path in self._seen or self._tree.exists(path)
                )
        return found

    def listdir(self, path: str) -> list[str]:
        self._reads.append(path)
        names = self._snap.listings.get(path)
        if names is None:
            names = self._listed.get(path)
            if names is None:
                names = self._listed[path] = sorted(self._tree.listdir(path))
        return names

    def read_elsewhere(self) -> None:
        """Other processes read for this attempt: what they read is not on record, so any
        commit since :attr:`line <_line>` counts as touching it (:meth:`holds`)."""
        self._reads.append("")  # as a listing of the top: every change touches it
        self._tree_read = True  # and the line must be read again

    def holds(self) -> bool:
        """Read the generation line again: True when it is the one the attempt began at (what
        it read is then cached under it), or when the records committed since changed none of
        the paths the attempt read, checked or listed, nor a directory above or below one
        (then its answer is the store's at the new line too; nothing is cached); False when
        a commit may have changed what it read.

        An attempt that read everything from the cache needs no second look at the line: the
        snapshot it read is the store at ``line``, which was the store when the attempt began
        (its linearization point), as long as no commit of this process carried that snapshot
        on in place meanwhile (:meth:`FileStorage._carry_over`, :meth:`FileStorage._follow`
        move its line under the guard)."""
        if not (self._tree_read or self._present or self._listed):
            snap = self._snap
            with self._storage._guard:
                if snap.line == self._key:
                    return True
        line = self._storage.journal.generation_line()
        if line != self._line:
            key = _key(line)  # (a line that became or stopped being "staging" has the same key)
            if key != self._key:
                ops = self._storage._changes_since(self._key, line, key)
                return ops is not None and not _touches(ops, self._reads)
        if self._seen or self._present or self._listed:
            self._storage._keep(self._key, self._seen, self._present, self._listed)
        return True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._storage._leave_lock_free()


def _key(line: bytes) -> bytes | None:
    """What a lock-free read compares and caches under for a generation ``line``: the line,
    but without ``staging`` (staged files change nothing a read sees); ``None`` for a line
    that is ``installing`` or does not hold."""
    if b" staging ~" not in line and b" installing ~" not in line:
        return line
    gen = Generation.decode(line)
    if not gen.checked or gen.installing:
        return None
    return replace(gen, staging=False).encode()


def _touches(ops: Sequence[Op], paths: Sequence[str]) -> bool:
    """Whether ``ops`` change one of ``paths`` (files and directories a read looked at) or
    what is above or below one (a directory made, listed, moved or removed)."""
    if "" in paths or len(ops) * len(paths) > 4096:  # the top listed, or a bulk commit
        return True
    for op in ops:
        changed = op[1]
        for path in paths:
            if changed == path or changed.startswith(path + "/") or path.startswith(changed + "/"):
                return True
    return False


class _TakeTheLock(Exception):
    """Inside :meth:`FileStorage.attempt`: this read cannot run lock-free."""


class FileStorage:
    """The store tree under ``<static_dir>/fsstate`` (layout in ``layout.py``).

    A checkpoint runs before a commit whose record would take the journal past
    ``checkpoint_bytes``. With ``create=False`` a missing store (no store directory, or one
    without its ``FORMAT`` file) is :class:`NoSuchStoreError` and nothing is created.

    The first hold of the lock in a process sweeps what killed writers left: old files under
    temporary names at the top of the store, and the trash, deleted in the background ("The
    trash" below); ``sweep=False`` (fsck, which reports the trash) leaves the trash.

    On a read-only mount the store opens for reading (``read_only`` is then True): the lock
    and journal are opened read-only, nothing is replayed, and ``commit`` raises
    :class:`OSError` (``EROFS``). A commit left unapplied there cannot be recovered, so it is
    :class:`CorruptDocumentError` naming the journal: open the store read-write once.
    """

    def __init__(
        self,
        static_dir: str,
        *,
        lock_timeout: float = DEFAULT_TIMEOUT,
        checkpoint_bytes: int = CHECKPOINT_BYTES,
        create: bool = True,
        on_create: Callable[[], None] | None = None,
        sweep: bool = True,
    ) -> None:
        self.checkpoint_bytes = checkpoint_bytes
        self._sweeps = sweep
        self.root = os.path.join(os.fspath(static_dir), STORE_DIR)
        try:
            mode: int | None = fsio.lstat(self.root).st_mode
        except FileNotFoundError:
            mode = None
        if create and (mode is None or not stat.S_ISDIR(mode)):  # (one lstat for a store there)
            make_dirs(self.root)  # or its error for a file in the way
            mode = fsio.lstat(self.root).st_mode
        if mode is None:
            raise NoSuchStoreError(f"{self.root}: no fsstate store here", path=self.root)
        if stat.S_ISLNK(mode):
            raise CorruptDocumentError(f"{self.root}: is a symlink", path=self.root)
        self.read_only = fsio.read_only_mount(self.root)
        # The cache (under _guard), the line the lock holder last saw on disk, the last line
        # found with no record after its applied offset (and its key), and lock-free attempts
        # in flight.
        self._snap = _Snapshot(b"")
        self._line = b""
        self._quiet: tuple[bytes, bytes] = (b"", b"")
        self._guard = threading.Lock()
        self._inflight: set[int] = set()  # threads in a lock-free read
        self._closing = False
        #: Whether this process's first recovery swept the top of the store of temporary files
        #: (old files a writer killed after its commit kept, :meth:`commit`).
        self._swept = False
        # The trash directories ready to be deleted, and the thread deleting them.
        self._sweep: list[str] = []
        self._sweep_guard = threading.Lock()
        self._sweeper: threading.Thread | None = None
        _STORAGES.add(self)
        self._gen = Generation()
        #: Why the journal holds records that could not be applied (``None``: it does not).
        self.unapplied: str | None = None
        self.tree = Tree(self.root)
        try:
            if not (create or self.tree.exists(FORMAT)):
                raise NoSuchStoreError(f"{self.root}: no fsstate store here", path=self.root)
            self.lock = StoreLock(self.tree.abspath(LOCK), lock_timeout, read_only=self.read_only)
        except BaseException:
            self.tree.close()
            raise
        try:
            if self._open_lock_free():
                return
            with self.lock:
                version = self._check_format()
                fresh = not (self.tree.exists(JOURNAL) and self.tree.exists(GENERATION))
                self.journal = Journal(self.tree, read_only=self.read_only)
                if fresh:  # the new files' names must outlive a power loss, as their records do
                    self.tree.fsync_path("")
                    if on_create is not None:  # before any other opener can see the store
                        on_create()
                self._incarnation = incarnation(self.tree.fd, self.journal.fd, self.journal.gen_fd)
                self._recover()
                if version < FORMAT_VERSION:
                    self._upgrade(version)
        except BaseException:
            if hasattr(self, "journal"):
                self.journal.close()
            self.lock.close()
            self.tree.close()
            raise
        self._start_sweeper()

    def _open_lock_free(self) -> bool:
        """Open without the lock when there is nothing for the lock holder to do: ``FORMAT``
        holds this layout's line, the journal and generation files exist, and the generation
        line is quiet (:meth:`_quiet_line`: checked, no commit installing or unapplied, the
        same incarnation; and, unlike a read, no record waiting under ``staging``). Then
        recovery would only read the line, and the first call that takes the lock recovers
        and sweeps as usual (:meth:`locked`, :meth:`_recover`): a reader does not look for
        what a killed writer left (a listing of the top of the store and of ``trash``, a
        seventh of a cold lookup), which no read looks at. False (the caller takes the lock)
        otherwise."""
        if self.tree.read(FORMAT) != _FORMAT_LINE:
            return False
        if not (self.tree.exists(JOURNAL) and self.tree.exists(GENERATION)):
            return False
        self.journal = Journal(self.tree, read_only=self.read_only)
        self._incarnation = incarnation(self.tree.fd, self.journal.fd, self.journal.gen_fd)
        try:
            gen = Generation.decode(self._quiet_line()[0])
            if gen.staging and self.journal.starts_record(gen.applied, gen.number + 1):
                # A durable record not yet installed under staging (_quiet_line refused one
                # under any other line): a live writer's, to wait for, or a dead one's, which
                # the opener replays first, so a store opened after a crash shows every commit
                # whose record survived from its first read on, as before.
                raise _TakeTheLock
            return True
        except _TakeTheLock:
            pass
        self.journal.close()  # the lock holder opens it anew
        del self.journal
        return False

    def _check_format(self) -> int:
        """The layout version ``FORMAT`` names. Write it when it is missing, or holds the
        start of its line and nothing else (a creation cut by a power loss: it is synced
        before anything else is written, so no store was ever created on it); refuse a
        foreign or newer layout."""
        data = self.tree.read(FORMAT)
        if data is None or (data != _FORMAT_LINE and _FORMAT_LINE.startswith(data.rstrip(b"\0"))):
            self.tree.put(FORMAT, _FORMAT_LINE)
            self.tree.fsync_path(FORMAT)
            return FORMAT_VERSION
        parts = data.split()
        try:
            version = int(parts[1]) if len(parts) == 2 and parts[0] == b"fsstate-layout" else -1
        except ValueError:
            version = -1
        path = self.tree.abspath(FORMAT)
        if version < 1:
            raise CorruptDocumentError(f"{path}: not an fsstate FORMAT file", path=path)
        if version > FORMAT_VERSION:
            raise CorruptDocumentError(
                f"{path}: layout version {version} is newer than this fsstate "
                f"({FORMAT_VERSION}); upgrade fsstate",
                path=path,
            )
        if version < FORMAT_VERSION and self.read_only:
            raise CorruptDocumentError(
                f"{path}: layout version {version} is older than this fsstate's "
                f"({FORMAT_VERSION}) and the store is read-only: open it read-write once to "
                "upgrade it",
                path=path,
            )
        return version

    def _upgrade(self, version: int) -> None:
        """Bring a tree of layout ``version`` to this one (lock held, after recovery;
        :mod:`fsstate.store.upgrade`): a checkpoint first, so that no journal record names
        an old path; the moves, as a change outside a commit (the generation moves, so any
        process that cached the tree drops it); ``FORMAT`` last, once the moves are durable.
        A record that recovery could not apply (a full disk: :attr:`unapplied`) must not be
        checkpointed away: then the open fails with :class:`OSError` (EAGAIN) naming it, and
        the next open, once the record applies, upgrades."""
        if self.unapplied is not None:
            raise OSError(errno.EAGAIN, f"{self.unapplied}; the layout upgrade waits for it")
        self.checkpoint()
        with self.excluding_readers() as changed:
            if upgrade(self.tree, version):
                changed()
        self.tree.put(FORMAT, _FORMAT_LINE)
        self.tree.fsync_path(FORMAT)
        log.info("%s: upgraded from layout %d to %d", self.root, version, FORMAT_VERSION)

    def close(self) -> None:
        """Release the descriptors, after any call in flight in another thread (lock-free
        reads included; a later one takes the lock, and is refused there)."""
        self._closing = True  # then wait: an attempt registers, then looks at _closing
        while self._inflight:
            time.sleep(0.001)
        with self.lock.quiesced():
            self.journal.close()
            self.lock.close()
            self.tree.close()

    # -- lock, recovery, generation -------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[None]:
        outermost = self.lock.acquire()
        try:
            if outermost:
                self._recover()
            yield
        finally:
            self.lock.release()
            if outermost:
                self._start_sweeper()

    # -- the trash -------------------------------------------------------------------------
    #
    # A commit may set a directory aside whole (``("trash", path)``: ``refresh()`` drops every
    # exec session so) and keep the old versions of the files it replaces in the trash
    # (``Staged.keep_in``), so that freeing their blocks — the slow part of deleting on a disk
    # that discards — is not part of the commit. ``trash/<n>`` belongs to the commit of record
    # ``n``. It is deleted only once that record can no longer be replayed: replay trusts that
    # a move's destination, once there, is the moved directory. A commit that trashes is
    # checkpointed before it returns (so is a replay that moved), which makes its ``trash/<n>``
    # deletable at once; the deletion runs in a background thread of this process after the
    # store lock is released (``trash`` itself stays, empty). A process killed meanwhile leaves
    # the rest: the next process
    # that opens the store (or replays) deletes it, in the background too; ``fsck`` reports
    # it and ``fsck --repair`` deletes it. Nothing reads the trash as store data.

    def _find_trash(self) -> None:
        """Lock held (not read-only): queue for deletion every ``trash/<n>`` whose record
        ``n`` cannot be replayed — it lies before the first record of the journal
        (``Journal.number_at(0)``), or the journal is empty. A trash whose record is still
        there (a process killed after its commit, before the checkpoint that ends it) is
        made deletable by a checkpoint here. A storage opened with ``sweep=False`` (fsck's)
        queues nothing."""
        try:
            names = self.tree.listdir(TRASH)
        except CorruptDocumentError:
            return  # not a directory: fsck reports it
        numbers = sorted(n for n in map(trash_number, names) if n is not None)
        if not numbers:
            return
        first = self.journal.number_at(0)
        if first is not None and numbers[-1] >= first and self.unapplied is None:
            try:
                self.checkpoint(shrink=self.journal.size() > self._steady_size())
            except OSError as exc:
                log.warning("%s: could not checkpoint (%s)", self.journal.path, exc)
            first = self.journal.number_at(0)
        if not self._sweeps:
            return
        ready = [trash_dir(n) for n in numbers if first is None or n < first]
        with self._sweep_guard:
            self._sweep.extend(d for d in ready if d not in self._sweep)

    def trash_deletable(self, name: str) -> bool:
        """Lock held: whether ``trash/<name>`` may be deleted — it is a record's trash and
        that record can no longer be replayed (``fsck --repair`` asks)."""
        number = trash_number(name)
        first = self.journal.number_at(0)
        return number is not None and (first is None or number < first)

    def _start_sweeper(self) -> None:
        """Start deleting the trash queued for deletion, in a background thread."""
        with self._sweep_guard:
            if not self._sweep or self._sweeper is not None:
                return  # nothing to do, or the running sweeper takes it
            self._sweeper = threading.Thread(
                target=self._sweep_trash, name="fsstate-trash", daemon=True
            )
            self._sweeper.start()

    def _sweep_trash(self) -> None:
        """The sweeper thread: delete the queued trash directories (``trash`` itself stays: a
        commit may be making its next entry). Through a descriptor of its own, so closing the
        store does not stop it; an error ends it with a warning (fsck reports what is left)."""
        tree: Tree | None = None
        try:
            tree = Tree(self.root)
            while True:
                with self._sweep_guard:
                    if not self._sweep:
                        self._sweeper = None
                        break
                    rel = self._sweep[0]
                tree.delete_tree(rel)
                with self._sweep_guard:
                    self._sweep.remove(rel)
        except Exception as exc:  # (a thread: nobody else would see it)
            log.warning("%s: could not delete the trash (%s); fsck --repair does", self.root, exc)
            with self._sweep_guard:
                self._sweep.clear()
                self._sweeper = None
        finally:
            if tree is not None:
                tree.close()

    def wait_for_trash(self, timeout: float | None = None) -> bool:
        """Wait until the trash queued for deletion is deleted; False on timeout (seconds)."""
        sweeper = self._sweeper
        if sweeper is not None:
            sweeper.join(timeout)
        return self._sweeper is None

    @staticmethod
    def wait_for_all_trash() -> None:
        """Wait until every storage of this process has deleted the trash it queued (fsck
        checks the tree after that)."""
        for storage in list(_STORAGES):
            storage.wait_for_trash()

    def attempt(self) -> ReadAttempt | None:
        """A lock-free read of the store as it is now (module docstring, "Lock-free reads"),
        or ``None`` when the read must take the lock: this thread holds it, the generation
        line does not hold (torn, damaged, written before it had a CRC), a commit is
        installing or unapplied, the store was rebooted or copied since this process
        recovered it, or a record follows the applied offset of a line that is not
        ``staging`` (checked once per line: a writer past its commit point says
        ``installing`` before it changes a file, and so does recovery before it replays a
        record a dead writer left under ``staging``). Use it
        as ``with attempt:``."""
        if not self._enter_lock_free():
            return None
        try:
            line, key = self._quiet_line()
            if self._snap.line != key:
                self._follow(key)
            return ReadAttempt(self, line, key)
        except _TakeTheLock:
            self._leave_lock_free()
            return None
        except BaseException:
            self._leave_lock_free()
            raise

    def _enter_lock_free(self) -> bool:
        """Count this thread among the lock-free reads in flight (``close`` waits for them);
        False, counting nothing, when it must read under the lock instead: it holds the lock,
        a commit is unapplied, or the store is closing."""
        if self.lock.held or self.unapplied is not None:
            return False
        me = threading.get_ident()
        self._inflight.add(me)  # before looking at _closing: close() waits for it
        if self._closing:
            self._inflight.discard(me)
            return False
        return True

    def _leave_lock_free(self) -> None:
        self._inflight.discard(threading.get_ident())

    def cached_exists(self, path: str) -> bool | None:
        """Whether file ``path`` exists, from the cache alone: the answer of a lock-free read
        (:meth:`attempt`) that finds it cached, for one ``pread`` of the generation line and
        no other work; ``None`` when that read would look further (not cached, not quiet, the
        lock held by this thread). Linearized at that ``pread``: the cache of its line is the
        store at that line, unless this process carried it on in place meanwhile (checked
        under the guard, as :meth:`ReadAttempt.holds` does)."""
        if not self._enter_lock_free():
            return None
        try:
            line = self.journal.generation_line()
            quiet, snap = self._quiet, self._snap
            if line != quiet[0] or not line or snap.line != quiet[1]:
                return None
            found = snap.present.get(path)
            if found is None and path in snap.files:
                found = True
            with self._guard:
                return found if snap.line == quiet[1] else None
        finally:
            self._leave_lock_free()

    def _follow(self, key: bytes) -> None:
        """Bring the cache from the generation it holds to ``key`` (another process
        committed since) by the records in between, instead of dropping it: those records are
        what changed in the tree, so a warm reader beside busy writers goes on reading from
        memory. Nothing happens — the next read starts a new snapshot — unless the records
        make one unbroken chain (each intact, numbered one past the last) from the cached
        line's applied offset to exactly ``key``'s, in the same incarnation, no more than
        :data:`_FOLLOW_RECORDS` records and :data:`_FOLLOW_BYTES` bytes. A checkpoint in
        between breaks the chain (numbers are never reused); so does a record holding
        :data:`NO_CHANGE`, which marks changes made outside commits (``fsck --repair``), and a
        replay that kept a hand-edited file checkpoints (:meth:`_replay`). Runs without the
        lock: the records up to ``key``'s offset are durable and, until a checkpoint, never
        rewritten, and a read racing one fails a checksum or the chain."""
        snap = self._snap
        line = snap.line
        ops = self._records_between(line, key) if line else None
        if ops is None:
            return
        with self._guard:
            if self._snap is snap and snap.line == line:
                snap.follow(ops)
                snap.line = key

    def _changes_since(self, key: bytes, line: bytes, now: bytes | None) -> list[Op] | None:
        """What may have changed in the tree since generation ``key``, now that the line is
        ``line`` (its key ``now``): the records in between and, while ``line`` says
        ``installing``, the record being installed (at its applied offset, numbered one
        more: past its commit point, and the only one that changes files now; any record
        chained after it is counted too); ``None`` when that is not known (no such chain, or
        raw changes: ``fsck --repair``)."""
        if now is not None:
            return self._records_between(key, now)
        gen = Generation.decode(line)
        if not gen.checked or not gen.installing:
            return None
        settled = replace(gen, installing=False).encode()
        ops = [] if settled == key else self._records_between(key, settled)
        if ops is None:
            return None
        installing = list(self.journal.records(gen.applied, gen.number + 1))
        if not installing or any(NO_CHANGE in record.ops for record in installing):
            return None
        return ops + [op for record in installing for op in record.ops]

    def _records_between(self, line: bytes, key: bytes) -> list[Op] | None:
        """The operations of the records that took the store from generation ``line`` to
        ``key`` (both checked lines, ``staging`` aside), in order; ``None`` unless they make
        one unbroken chain as :meth:`_follow` says, and none holds :data:`NO_CHANGE`."""
        old, new = Generation.decode(line), Generation.decode(key)
        if (
            not (old.checked and new.checked)
            or old.incarnation != new.incarnation
            or not old.number < new.number <= old.number + _FOLLOW_RECORDS
            or not old.applied < new.applied <= old.applied + _FOLLOW_BYTES
        ):
            return None
        ops: list[Op] = []
        for record in self.journal.records(old.applied, old.number + 1):
            if NO_CHANGE in record.ops:
                return None
            ops.extend(record.ops)
            if record.number == new.number:
                return ops if record.end == new.applied else None
        return None

    def _quiet_line(self) -> tuple[bytes, bytes]:
        """The generation line, once it allows a lock-free read, and its :func:`_key`; a
        commit that is installing (or a line read while it is rewritten) is waited out for a
        while, since that takes far less than queueing for the lock behind every writer's
        sync."""
        for _ in range(_SPINS):
            line = self.journal.generation_line()
            quiet = self._quiet  # one attribute, so another thread's update is seen whole
            if line == quiet[0] and line:
                return quiet
            gen = Generation.decode(line)
            if gen.checked and not gen.installing:
                if gen.incarnation != self._incarnation:
                    raise _TakeTheLock
                if not gen.staging and self.journal.starts_record(gen.applied, gen.number + 1):
                    raise _TakeTheLock  # a writer died past its commit point: recovery replays
                key = _key(line)
                assert key is not None
                self._quiet = (line, key)
                return self._quiet
            if not gen.installing and b" ~" not in line:
                raise _TakeTheLock  # written before lines had a CRC: the lock holder mends it
            time.sleep(_SPIN_SLEEP)
        raise _TakeTheLock

    @contextmanager
    def excluding_readers(self) -> Iterator[Callable[[], None]]:
        """Lock held: for changes to the tree outside a commit (``fsck --repair`` moving
        files). Lock-free readers take the lock until the block ends (the generation line says
        ``installing`` meanwhile; a commit inside the block ends that early, which is harmless:
        the block's changes come before the commit's). Yields ``changed``, to call once the
        tree was changed: then, unless a commit ran inside, the block ends with a commit of a
        record that changes no file, so that the generation moves and every process drops
        what it cached of the tree as it was (:class:`OSError` as :meth:`commit`)."""
        self.lock.verify()
        number = self._gen.number
        changed = False

        def mark() -> None:
            nonlocal changed
            changed = True

        self._write_generation(replace(self._gen, installing=True))
        try:
            yield mark
        finally:
            # (With a record unapplied, no reader runs lock-free, and applying it moves the
            # generation later.)
            if changed and self._gen.number == number and self.unapplied is None:
                self.commit([NO_CHANGE])
            else:
                self._write_generation(self._gen)

    def _write_generation(self, gen: Generation) -> None:
        """Write ``gen`` (lock held); the cache follows the line."""
        self.journal.write_generation(gen)
        self._line = gen.encode()

    def _recover(self) -> None:
        """Bring the tree up to the journal (lock held). Cheap when nothing is pending: one
        ``pread`` of the generation file and one of the journal."""
        self._line = self.journal.generation_line()
        gen = Generation.decode(self._line)
        if self.read_only:
            self._check_nothing_pending(gen)
            self._observe(gen)
        elif gen.incarnation != self._incarnation:
            # Rebooted or copied: the page cache may have lost applied files.
            self._replay(gen, 0, None)
        elif self.journal.starts_record(gen.applied, gen.number + 1):
            # A writer died between its commit point and the end of the commit.
            self._replay(gen, gen.applied, gen.number + 1)
        else:
            if gen.staging or gen.installing:  # a writer died or gave up: sweep what it staged
                self.tree.remove_temp_files("", depth=0)
                gen = replace(gen, staging=False, installing=False)
                self._write_generation(gen)
            else:
                if not self._swept:  # a writer killed after its commit left the files it kept
                    self.tree.remove_temp_files("", depth=0)
                if not gen.checked:  # written before the line had a CRC: lock-free reads need one
                    self._write_generation(gen)
            self.unapplied = None
            self._observe(gen)
        first, self._swept = not self._swept, True
        if first and not self.read_only:
            self._find_trash()  # a committer killed before its trash was deleted left it

    def _check_nothing_pending(self, gen: Generation) -> None:
        """On a read-only mount: refuse a store whose last commit is not applied."""
        if self.journal.starts_record(gen.applied, gen.number + 1):
            path = self.tree.abspath(JOURNAL)
            raise CorruptDocumentError(
                f"{path}: a commit is not applied yet and the store is on a read-only mount; "
                "open it read-write once to recover it",
                path=path,
            )

    def _replay(self, gen: Generation, start: int, first: int | None) -> None:
        """Apply the records from ``start`` (the first numbered ``first``; any number when
        unknown), keeping the files changed after them (:func:`journal.replay_plan`), each
        named in a warning.

        :class:`CorruptDocumentError` naming the journal when an intact record follows the
        log's end (damage in the middle: replaying part would bring back what a later record
        changed). When the records cannot be applied (ENOSPC, EIO), what was applied is put
        back, :attr:`unapplied` says why and reads go on; commits wait (:meth:`commit`)."""
        records = list(self.journal.records(start, first))
        self._check_damage(start, first, records)
        # Temporary files go first: one left in a directory that a record removes would keep
        # the directory alive, and deleted afterwards leave it empty (a ghost volume). In the
        # same boot a dead writer's temporary files can only sit next to the targets of the
        # record it was applying; after a reboot or in a copy, sweep the whole tree.
        if gen.incarnation != self._incarnation:
            removed = self.tree.remove_temp_files()
        else:
            touched = {"", *(d for r in records for d in _directories_of(r.ops))}
            removed = sum(self.tree.remove_temp_files(d, depth=0) for d in sorted(touched))
        end, number = start, gen.number
        if records:
            # Files change now: lock-free readers must take the lock (they do not run on a
            # line of another incarnation, nor on one that does not hold).
            if gen.checked and gen.incarnation == self._incarnation:
                self._write_generation(replace(gen, staging=False, installing=True))
            current = self._read_priors([op for r in records for op in r.ops])
            plan = replay_plan(records, current)
            for path, why in sorted(plan.kept.items()):
                log.warning("%s: kept as it is: %s", self.tree.abspath(path), why)
            try:
                self._apply(plan.ops)
            except OSError as exc:
                self._drop_cache()
                self.unapplied = (
                    f"{self.journal.path}: records {records[0].number}-{records[-1].number} "
                    f"could not be applied ({exc.strerror or exc}); reads see the store "
                    "without them, writes wait until they apply (free space or fix the "
                    "device; run fsstate fsck)"
                )
                log.warning("%s", self.unapplied)
                self._observe(gen, force=True)
                return
            end, number = records[-1].end, max(number, records[-1].number)
        self.unapplied = None
        if end != start or removed:
            log.info("%s: recovered to record %d", self.root, number)
        recovered = Generation(number, end, self._incarnation)
        if records and plan.kept:
            # The tree is not what the records say (a file changed after them was kept): end
            # at offset 0, so no lock-free reader takes those records for the tree (_follow).
            self._gen = recovered
            self.checkpoint()
            recovered = self._gen
        else:
            self._write_generation(recovered)
        self._observe(recovered, force=True)
        if any(op[0] == "move" for r in records for op in r.ops):
            self._checkpoint_for_trash()  # then the trash it moved can go

    def _check_damage(self, start: int, first: int | None, records: list[Record]) -> None:
        """:class:`CorruptDocumentError` when an intact record numbered past the end of the
        log lies beyond it (:meth:`Journal.damage_after`). The number expected next is the
        last record's plus one; with no record, ``first`` or else the number in the header at
        ``start`` (which has its own checksum); with no header there, nothing is compared."""
        expected: int | None
        if records:
            end, expected = records[-1].end, records[-1].number + 1
        else:
            end, expected = start, first if first is not None else self.journal.number_at(start)
            if expected is None:
                return
        at = self.journal.damage_after(end, expected)
        if at is not None:
            path = self.journal.path
            raise CorruptDocumentError(
                f"{path}: damaged: the record at offset {end} does not hold while a later one "
                f"(offset {at}) does, so replaying would undo committed changes; run "
                "fsstate fsck (fsck --repair keeps the documents as they are and resets "
                "the journal)",
                path=path,
                damaged_at=end,
            )

    def _cached_priors(self, ops: Sequence[Op]) -> dict[str, bytes | None]:
        """:meth:`_read_priors` for a commit (lock held): through the cache, which holds
        what the call just read (a refresh reads every state it then rewrites)."""
        priors: dict[str, bytes | None] = {}
        for op in ops:
            if op[0] in ("put", "del") and op[1] not in priors:
                with suppress(CorruptDocumentError):
                    priors[op[1]] = self.read(op[1])
        return priors

    def _read_priors(self, ops: Sequence[Op]) -> dict[str, bytes | None]:
        """What each file a put or delete of ``ops`` names holds now (``None``: absent); a
        file that cannot be read as one (symlink, wrong type, a name too long) is left out:
        its prior is unknown, and it is never put back."""
        priors: dict[str, bytes | None] = {}
        for op in ops:
            if op[0] in ("put", "del") and op[1] not in priors:
                with suppress(CorruptDocumentError):
                    priors[op[1]] = self.tree.read(op[1])
        return priors

    def _apply(self, ops: Sequence[Op]) -> None:
        """Stage and install ``ops`` of records already durable (recovery); on failure put
        back what was changed and raise."""
        staged = self.tree.stage(ops)
        try:
            staged.install()
        except BaseException:
            staged.undo()
            raise
        staged.finish()

    def _observe(self, gen: Generation, *, force: bool = False) -> None:
        """Take ``gen`` (on disk as :attr:`_line`) as the store's state (lock held)."""
        if force:
            self._drop_cache()
        self._gen = gen

    def _drop_cache(self) -> None:
        with self._guard:
            self._snap = _Snapshot(b"")

    def _keep(
        self,
        line: bytes,
        files: dict[str, bytes],
        present: dict[str, bool] | None = None,
        listings: dict[str, list[str]] | None = None,
    ) -> None:
        """Cache what was read while the generation file held ``line``: in the snapshot of
        ``line``, which replaces the current one if that is of another line (or when the
        contents would pass the budget)."""
        with self._guard:
            snap = self._snap
            added = sum(map(len, files.values())) if files else 0
            if snap.line != line or snap.size + added > CACHE_BUDGET:
                snap = self._snap = _Snapshot(line)
            if files:
                snap.files.update(files)
                snap.size += added
            if present:
                snap.present.update(present)
            if listings:
                snap.listings.update(listings)

    # -- reads (lock held) -----------------------------------------------------------------

    def read(self, path: str) -> bytes | None:
        snap = self._snap
        if snap.line == self._line:
            data = snap.files.get(path)
            if data is not None or snap.present.get(path) is False:
                return data
        data = self.tree.read(path)
        if data is None:
            self._keep(self._line, {}, {path: False})
        else:
            self._keep(self._line, {path: data})
        return data

    def exists(self, path: str) -> bool:
        snap = self._snap
        if snap.line == self._line:
            found = snap.present.get(path)
            if found is not None:
                return found
            if path in snap.files:
                return True
        found = self.tree.exists(path)
        self._keep(self._line, {}, {path: found})
        return found

    def listdir(self, path: str) -> list[str]:
        snap = self._snap
        if snap.line == self._line:
            names = snap.listings.get(path)
            if names is not None:
                return names
        names = sorted(self.tree.listdir(path))
        self._keep(self._line, {}, None, {path: names})
        return names

    def read_elsewhere(self) -> None:
        """Nothing to record: under the lock no commit can come between."""

    # -- commit ----------------------------------------------------------------------------

    def commit(self, ops: Sequence[Op]) -> None:
        """Make ``ops`` durable as one record, then apply them (lock held).

        Returns once the commit happened; raises (:class:`OSError`: ENOSPC, EDQUOT, EIO, …)
        with the store as it was before. Steps, each undone if a later one fails: read what
        each file holds now (kept in memory); checkpoint first if the record would pass the
        checkpoint size; stage the data (:meth:`Tree.stage`: all that needs space); write
        and ``fdatasync`` the record (the commit point); install it with renames, unlinks
        and rmdirs. If installing fails, the prior contents are put back and the record is
        voided (its header zeroed and synced). Two failures in a row — putting back fails
        too — leave the record in force: it is applied when the disk allows, by the next
        call, and until then the store reads as it is and commits wait (:attr:`unapplied`;
        fsck reports it); so is a record whose voiding cannot be synced (EIO), after a
        reboot. Once installed the commit has happened: failing to write the generation file
        then (EIO; EDQUOT on a copy-on-write file system) is logged, not raised, and the next
        lock holder replays the record. :class:`OSError` (EAGAIN) naming the journal while a
        record is unapplied."""
        if not ops:
            return
        self.lock.verify()  # LockNotHeldError, before anything is written
        if self.read_only:
            raise OSError(errno.EROFS, f"{self.root}: read-only file system", self.root)
        if self.unapplied is not None:
            raise OSError(errno.EAGAIN, self.unapplied)
        number = self._gen.number + 1
        ops, keep_in = _set_aside(ops, number)
        priors = self._cached_priors(ops)
        record = self.journal.encode(number, ops, priors)
        offset = self._gen.applied
        if offset > 0 and offset + len(record) > self.checkpoint_bytes:
            self.checkpoint()
            offset = 0
        self._write_generation(replace(self._gen, staging=True))
        staged = self.tree.stage(ops, keep_in)
        try:
            end = self.journal.write(offset, record)
        except BaseException:
            staged.discard()
            raise
        try:
            self._write_generation(replace(self._gen, installing=True))  # files change now
            staged.install()
        except BaseException as exc:
            self._drop_cache()
            self._take_back(staged, offset, number, exc)
            raise
        before = self._gen.encode()
        gen = Generation(number, end, self._incarnation)
        self._gen = gen  # a second commit in this lock hold follows this record, not overwrites it
        try:
            self._write_generation(gen)
        except OSError as exc:
            # The commit happened: its record is durable and installed, so this call must not
            # raise. The generation file still says ``installing`` the record before it: lock-free
            # readers take the lock, and the next lock holder replays this record (harmless:
            # replay_plan) and writes the generation. Until then nothing here is cached.
            self._drop_cache()
            log.warning(
                "%s: generation not written after record %d (%s); the next lock holder replays it",
                self.journal.path,
                number,
                exc.strerror or exc,
            )
            staged.finish()
            return
        self._carry_over(before, ops)
        # Readers run again from here; dropping the old files (each frees a block: as slow
        # as a sync on a disk mounted with discard) need not keep them out. A kill before it
        # is done leaves them under temporary names, swept by the next process's recovery.
        # (A commit that trashes leaves them in the trash: deleted after the lock is released.)
        staged.finish()
        if keep_in is not None:
            self._checkpoint_for_trash()
        elif self.journal.size() > self._steady_size():
            self._shrink()

    def _checkpoint_for_trash(self) -> None:
        """After a commit (or replay) that set directories aside: checkpoint, so that no
        record can move into the trash again, and queue the trash for deletion. The commit
        already happened, so a failure (EIO) is logged, not raised; the trash then waits for
        a later checkpoint (``_find_trash``)."""
        try:
            self.checkpoint(shrink=self.journal.size() > self._steady_size())
        except OSError as exc:
            log.warning("%s: could not checkpoint (%s)", self.journal.path, exc)
            return
        self._find_trash()

    def _take_back(
        self,
        staged: Staged,
        offset: int,
        number: int,
        exc: BaseException,
    ) -> None:
        """Undo a commit whose record is durable but could not be installed."""
        try:
            staged.undo()
        except BaseException as again:
            self.unapplied = (
                f"{self.journal.path}: record {number} could not be applied ({exc}) nor "
                f"taken back ({again}); it is applied when the disk allows (free space or "
                "fix the device; run fsstate fsck)"
            )
            log.error("%s", self.unapplied)
            exc.add_note(self.unapplied)
            return
        if not self.journal.void(offset):
            note = (
                f"{self.journal.path}: record {number} was taken back but voiding it could "
                "not be synced: after a power loss it may still be replayed"
            )
            log.error("%s", note)
            exc.add_note(note)

    def _carry_over(self, before: bytes, ops: Sequence[Op]) -> None:
        """After this process's commit from line ``before`` to :attr:`_line`: the snapshot
        of ``before`` becomes that of the new line, less the files the commit changed, plus
        the ones it put. In place: an attempt of another thread reading it meanwhile may see
        the new contents, and then finds the line moved (it was written before this)."""
        with self._guard:
            snap = self._snap
            if snap.line != before or snap.size > CACHE_BUDGET:
                snap = self._snap = _Snapshot(self._line)
            snap.follow(ops)
            snap.line = self._line

    def _steady_size(self) -> int:
        """The journal's largest size in steady use: the checkpoint size, in whole chunks."""
        return -(-self.checkpoint_bytes // ZERO_CHUNK) * ZERO_CHUNK

    def _shrink(self) -> None:
        """After a record larger than the checkpoint size: checkpoint, and cut the journal
        back to one chunk. The commit already happened, so a failure here (EIO) is logged,
        not raised; the next commit tries again."""
        try:
            self.checkpoint(shrink=True)
        except OSError as exc:
            log.warning("%s: could not checkpoint (%s)", self.journal.path, exc)

    def checkpoint(self, *, shrink: bool = False) -> None:
        """Make every applied file durable, then start the journal over (lock held); with
        ``shrink``, cut the journal file back to one zero-filled chunk.

        The files are synced first, while the generation still points past the records that
        cover them: were it set to offset 0 before, a process dying before the sync would
        leave the next commit to overwrite those records with the files still unsynced. Then
        the generation (applied offset 0) is written and
        synced, so the number on disk never falls behind a number a leftover record could
        carry; then the journal's first header is zeroed. A crash anywhere in between leaves
        a journal whose replay is harmless: its records are already applied.
        """
        self.lock.verify()
        self.tree.sync_tree()
        gen = Generation(self._gen.number, 0, self._incarnation)
        self._write_generation(gen)
        self._carry_over(self._gen.encode(), [])
        self.tree.sync_tree()
        self.journal.reset(shrink_to=ZERO_CHUNK if shrink else None)
        self._gen = gen


def _set_aside(ops: Sequence[Op], number: int) -> tuple[Sequence[Op], str | None]:
    """The ops of record ``number`` with each ``("trash", path)`` made a move to
    ``trash/<number>/…``, and the trash directory of the commit (``None`` when nothing is
    trashed: then nothing goes there)."""
    if not any(op[0] == "trash" for op in ops):
        return ops, None
    moved: list[Op] = [
        ("move", op[1], trash_entry(number, op[1]).encode()) if op[0] == "trash" else op
        for op in ops
    ]
    return moved, trash_dir(number)


def _directories_of(ops: Sequence[Op]) -> set[str]:
    """The directories a record's operations write in (``""`` is the store directory)."""
    dirs = {op[1].rpartition("/")[0] for op in ops}
    dirs.update(op[1] for op in ops if op[0] == "rmdir")
    return dirs


#: Every FileStorage, so a forked child gets fresh thread primitives (another thread may have
#: held one at the fork).
_STORAGES: weakref.WeakSet[FileStorage] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for storage in list(_STORAGES):
        storage._guard = threading.Lock()
        storage._inflight = set()  # the other threads' attempts did not come along
        storage._sweep_guard = threading.Lock()
        storage._sweeper = None  # the sweeper thread did not come along either


os.register_at_fork(after_in_child=_after_fork_in_child)


class MemoryStorage:
    """The in-memory twin of :class:`FileStorage`: same interface, a dict of path → bytes.

    Directories exist while a file below them does. For tests of the Podman rules.
    """

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self._lock = threading.RLock()

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock:
            yield

    def attempt(self) -> None:
        """No lock-free reads: every call takes the lock."""
        return None

    def cached_exists(self, path: str) -> None:
        return None  # nothing is cached: the tree is memory already

    def read(self, path: str) -> bytes | None:
        return self.files.get(path)

    def exists(self, path: str) -> bool:
        if path in self.files:
            return True
        prefix = path + "/"
        return any(p.startswith(prefix) for p in self.files)

    def listdir(self, path: str) -> list[str]:
        prefix = path + "/" if path else ""
        return sorted({p[len(prefix) :].split("/")[0] for p in self.files if p.startswith(prefix)})

    def read_elsewhere(self) -> None:
        """Nothing to record: nothing else changes this storage."""

    def commit(self, ops: Sequence[Op]) -> None:
        for op in ops:
            if op[0] == "put":
                self.files[op[1]] = op[2]  # type: ignore[misc]
            elif op[0] == "del":
                self.files.pop(op[1], None)
            elif op[0] == "trash":
                below = op[1] + "/"
                for path in [p for p in self.files if p.startswith(below)]:
                    del self.files[path]

    def close(self) -> None:
        pass
