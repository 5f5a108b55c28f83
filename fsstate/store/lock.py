"""The store lock: one exclusive lock per store, fair across processes and threads.

**Exclusion** is ``flock`` on ``<store>/lock``, the primitive of :class:`filelock.FileLock` and
:func:`filelock.lock_descriptor`, so ``flock fsstate/lock …`` and filelock users contend with it
(DESIGN.md, Locking; docs/layout.md). It is taken with :func:`filelock.lock_descriptor` when it
is free at once and released with :func:`filelock.unlock_descriptor`.

**Order.** Linux wakes every ``flock`` waiter at a release and lets the fastest win, so a process
that re-locks at once always beats one that has been waiting. Waiters therefore line up first in
``<store>/lock.queue``, a queue of byte-range locks (a CLH queue, with open-file-description
locks, ``F_OFD_SETLK``, that belong to a descriptor and die with it):

* a ticket ``t`` is drawn from the counter in the file's first 8 bytes, under an OFD lock on
  those bytes held across one ``pread`` and one ``pwrite``;
* the holder of ticket ``t`` keeps an OFD lock on byte ``8 + t mod 2**30`` from drawing it until
  it has released the ``flock``;
* ticket ``t`` waits until byte ``t - 1`` is free, then takes the ``flock``.

So the lock passes in ticket order, and a process that re-locks at once queues behind the waiters.
Where the counter cannot be rewritten for want of space (a copy-on-write file system such as
btrfs at its quota: ENOSPC, EDQUOT), the waiter takes the ``flock`` without a ticket, unordered,
so that the store still opens, reads and can be repaired.
A process that dies releases its locks: a dead holder never wedges the store, and a dead waiter
only lets its successor move on to the ``flock``, which still excludes.

**Waiting blocks in the kernel** with the timeout honoured: ``F_OFD_SETLKW`` on the predecessor's
byte, then ``flock(LOCK_EX)``, in a short-lived waiter thread, while the calling thread waits for
it until the deadline and then raises :class:`LockTimeoutError` (filelock's blocking mode polls
with sleeps, and a blocking ``flock`` has no timeout). A waiter given up on keeps its place and
releases the lock as soon as it gets it; the next acquire in this process waits for it first.

**Within a process** every :class:`StoreLock` on one lock file (one ``(st_dev, st_ino)``) shares
one :class:`_ProcessLock`: one descriptor pair, threads served in arrival order by direct
hand-off, re-entrant per thread. Two ``FileState`` objects on one store in one thread nest: the
inner one reads under the outer one's hold, but a commit through it is refused
(:class:`LockNotHeldError`: it would commit in the middle of the outer one's transaction).

**Fork.** In a child (``os.register_at_fork``) every descriptor the lock keeps is closed, never
unlocked (the parent keeps its lock), and the child takes locks of its own from then on. A
child forked while its thread held the lock cannot go on with that hold: a call inside it and
its commit raise :class:`LockNotHeldError`; once it is unwound the child locks normally.

**Identity.** After the ``flock`` is taken the descriptor's ``(st_dev, st_ino)`` is compared
with the path's; a lock file deleted or replaced meanwhile is opened again and locked again.
:meth:`StoreLock.verify` (called before every commit writes) raises :class:`LockNotHeldError`
when the path no longer names the locked file, so nothing is written under a lock that no
longer guards the store.
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from fsstate.errors import (
    CorruptDocumentError,
    LockNotHeldError,
    LockTimeoutError,
    PermissionDeniedError,
    StateClosedError,
)
from fsstate.store import fsio
from fsstate.store.layout import LOCK_QUEUE

__all__ = ["DEFAULT_TIMEOUT", "StoreLock"]

#: Podman's SQLite busy timeout is 100 s (spec/podman-state.md §2.12); we wait as long.
DEFAULT_TIMEOUT = 100.0
_COUNTER = 8  # bytes 0-7 of lock.queue: the next ticket, little-endian
_RING = 1 << 30  # ticket t's byte is _COUNTER + t % _RING


def _range_lock(fd: int, kind: int, start: int, length: int = 1, *, wait: bool = False) -> bool:
    """An OFD byte-range lock operation; False when ``wait`` is off and the range is taken."""
    flock = struct.pack("hhqqi4x", kind, os.SEEK_SET, start, length, 0)  # struct flock
    try:
        fcntl.fcntl(fd, fcntl.F_OFD_SETLKW if wait else fcntl.F_OFD_SETLK, flock)
    except OSError as exc:
        if not wait and exc.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _slot(ticket: int) -> int:
    return _COUNTER + ticket % _RING


def _path_identity(path: str) -> tuple[int, int] | None:
    """``(st_dev, st_ino)`` of the file now at ``path`` (not following a symlink), ``None``
    when there is none."""
    try:
        st = fsio.lstat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


class _Waiter:
    """A waiter thread's outcome: set once it holds the lock or failed."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.abandoned = False
        self.error: BaseException | None = None


class _ProcessLock:
    """The one lock of one store file in this process (see the module docstring)."""

    def __init__(self, path: str, read_only: bool) -> None:
        self.path, self.read_only = path, read_only
        self.queue_path = os.path.join(os.path.dirname(path), LOCK_QUEUE)
        self.users = 0
        self.fd = self.qfd = -1
        self.ident = (0, 0)  # (st_dev, st_ino) of the file self.fd has open
        self._open()
        self.key = self.ident
        self._reset_threads()
        self.ticket = -1
        self.file_held = False
        self.lost = ""  # why the current hold no longer guards the store ("" when it does)
        self.waiting: _Waiter | None = None
        self.first: StoreLock | None = None  # the StoreLock that took the outermost hold
        _ALL.add(self)

    def _reset_threads(self) -> None:
        self.mutex = threading.Lock()
        self.owner: int | None = None
        self.depth = 0
        self.queue: deque[tuple[int, threading.Lock]] = deque()

    def _open(self) -> None:
        try:
            self.fd = fsio.open_control(self.path, read_only=self.read_only)
            self.ident = fsio.identity(self.fd)
            if not self.read_only:  # a read-only mount has no writer to queue behind
                self.qfd = fsio.open_control(self.queue_path)
        except OSError as exc:
            self._close()
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise PermissionDeniedError(
                    f"{exc.filename or self.path}: cannot open the lock file ({exc.strerror}); "
                    "run as the store's owner",
                    path=self.path,
                ) from None
            raise CorruptDocumentError(
                f"{exc.filename or self.path}: cannot open the lock file ({exc.strerror})",
                path=self.path,
            ) from None

    def _close(self) -> None:
        for fd in (self.fd, self.qfd):
            if fd >= 0:
                with suppress(OSError):
                    fsio.close(fd)
        self.fd = self.qfd = -1

    # -- threads of this process ---------------------------------------------------------------

    def acquire(self, handle: StoreLock | None, deadline: float, *, file: bool = True) -> None:
        """Take this process's turn (threads in arrival order), then, with ``file``, the lock
        between processes; re-entrant per thread."""
        me = threading.get_ident()
        turn = None
        with self.mutex:
            if self.owner == me:
                if self.lost:
                    raise LockNotHeldError(f"{self.path}: {self.lost}", path=self.path)
                self.depth += 1
                reentrant = True
            else:
                reentrant = False
                if self.owner is None and not self.queue:
                    self.owner, self.depth = me, 1
                else:
                    turn = threading.Lock()
                    turn.acquire()
                    self.queue.append((me, turn))
        if turn is not None and not turn.acquire(timeout=max(deadline - time.monotonic(), 0)):
            with self.mutex:
                if (me, turn) in self.queue:
                    self.queue.remove((me, turn))
                    raise LockTimeoutError(f"{self.path}: held by another thread", path=self.path)
            # handed over between the time-out and the check: ours after all
        if not file or self.file_held:
            return
        try:
            self._lock_file(deadline)
        except BaseException:
            if reentrant:
                with self.mutex:
                    self.depth -= 1
            else:
                self._pass_on()
            raise
        self.file_held = True
        self.first = handle

    def release(self) -> None:
        with self.mutex:
            assert self.owner == threading.get_ident(), "store lock released by a non-holder"
            self.depth -= 1
            if self.depth:
                return
        try:
            if self.lost:
                self.lost = ""  # the inherited hold is unwound; its descriptors are closed
            elif self.file_held:
                self._unlock_file()
        finally:
            self.file_held = False
            self.first = None
            if self.users == 0:
                self._retire()
            self._pass_on()

    def _retire(self) -> None:
        """Close the descriptors once no StoreLock uses them."""
        with _REGISTRY:
            if self.users == 0:
                if _BY_KEY.get(self.key) is self:
                    del _BY_KEY[self.key]
                self._close()

    def _pass_on(self) -> None:
        """Give the lock to the longest-waiting thread of this process, or free it."""
        with self.mutex:
            if self.queue:
                self.owner, turn = self.queue.popleft()
                self.depth = 1
                turn.release()
            else:
                self.owner, self.depth = None, 0

    def held(self) -> bool:
        return self.owner == threading.get_ident() and self.depth > 0

    # -- processes ---------------------------------------------------------------------------

    def _lock_file(self, deadline: float) -> None:
        if self.waiting is not None:  # a waiter given up on: it goes first
            if not self.waiting.done.wait(max(deadline - time.monotonic(), 0)):
                raise self._timeout()
            self.waiting = None
        while True:
            if self.fd < 0:
                self._open()  # after a fork, or after the lock file was replaced
            self._take(deadline)
            if _path_identity(self.path) == self.ident:
                return
            self._unlock_file()  # a lock on a file that no longer guards the store
            self._close()

    def _take(self, deadline: float) -> None:
        import filelock  # on the first lock taken: a lock-free read never loads it (9 ms)

        if self.qfd < 0:  # read-only: the flock alone
            if not filelock.lock_descriptor(self.fd, blocking=False):
                self._wait(-1, deadline)
            return
        try:
            t = self._draw_ticket()
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            # A full copy-on-write file system (btrfs at its quota) has no block for the new
            # counter: wait for the flock alone, unordered, so reads and repairs still open.
            if not filelock.lock_descriptor(self.fd, blocking=False):
                self._wait(-1, deadline)
            return
        self.ticket = t
        try:
            first = t == 0 or _range_lock(self.qfd, fcntl.F_WRLCK, _slot(t - 1))
            if first and t > 0:
                _range_lock(self.qfd, fcntl.F_UNLCK, _slot(t - 1))
            if not (first and filelock.lock_descriptor(self.fd, blocking=False)):
                self._wait(t, deadline)
        except BaseException:
            if self.waiting is None:  # a waiter given up on releases the byte itself
                _range_lock(self.qfd, fcntl.F_UNLCK, _slot(t))
            raise

    def _draw_ticket(self) -> int:
        qfd = self.qfd
        _range_lock(qfd, fcntl.F_WRLCK, 0, _COUNTER, wait=True)  # held for two system calls
        try:
            raw = fsio.pread(qfd, _COUNTER, 0)
            t = int.from_bytes(raw, "little") if len(raw) == _COUNTER else 0
            fsio.pwrite_all(qfd, (t + 1).to_bytes(_COUNTER, "little"), 0)
            _range_lock(qfd, fcntl.F_WRLCK, _slot(t))  # nobody else holds a fresh ticket's byte
        finally:
            _range_lock(qfd, fcntl.F_UNLCK, 0, _COUNTER)
        return t

    def _wait(self, ticket: int, deadline: float) -> None:
        """Wait in the kernel for the predecessor's byte, then for the flock, in a waiter
        thread; the caller waits for it until ``deadline``."""
        waiter = _Waiter()
        fd, qfd = self.fd, self.qfd

        def wait() -> None:
            import filelock  # loaded by _take already

            try:
                if ticket > 0:
                    _range_lock(qfd, fcntl.F_WRLCK, _slot(ticket - 1), wait=True)
                    _range_lock(qfd, fcntl.F_UNLCK, _slot(ticket - 1))
                fcntl.flock(fd, fcntl.LOCK_EX)  # filelock's primitive, blocking
            except BaseException as exc:
                waiter.error = exc
            with self.mutex:
                if waiter.abandoned:
                    with suppress(OSError):
                        if waiter.error is None:
                            filelock.unlock_descriptor(fd)
                        if ticket >= 0:
                            _range_lock(qfd, fcntl.F_UNLCK, _slot(ticket))
                waiter.done.set()

        self.waiting = waiter
        threading.Thread(target=wait, name="fsstate-lock-waiter", daemon=True).start()
        if not waiter.done.wait(max(deadline - time.monotonic(), 0)):
            with self.mutex:
                if not waiter.done.is_set():
                    waiter.abandoned = True
                    raise self._timeout()
        self.waiting = None
        if waiter.error is not None:
            raise waiter.error

    def _unlock_file(self) -> None:
        import filelock  # loaded by _take already

        filelock.unlock_descriptor(self.fd)  # the flock first: the successor takes it next
        if self.qfd >= 0 and self.ticket >= 0:
            _range_lock(self.qfd, fcntl.F_UNLCK, _slot(self.ticket))
        self.ticket = -1

    def _timeout(self) -> LockTimeoutError:
        return LockTimeoutError(
            f"{self.path}: held by another process for over the time-out", path=self.path
        )

    def verify(self, handle: StoreLock) -> None:
        """Raise :class:`LockNotHeldError` unless this thread's hold, taken through
        ``handle``, still guards the store."""
        if not self.held():
            raise LockNotHeldError(f"{self.path}: the store lock is not held", path=self.path)
        if self.lost:
            raise LockNotHeldError(f"{self.path}: {self.lost}; nothing written", path=self.path)
        if self.first is not handle:
            raise LockNotHeldError(
                f"{self.path}: this thread holds the store lock through another FileState "
                "on the same store; make the change through that one (nothing written)",
                path=self.path,
            )
        if _path_identity(self.path) != self.ident:
            raise LockNotHeldError(
                f"{self.path}: the lock file was deleted or replaced while held; nothing written",
                path=self.path,
            )

    # -- fork ----------------------------------------------------------------------------------

    def after_fork_in_child(self) -> None:
        """Drop the parent's descriptors (closing, never unlocking) and its threads' turns."""
        holding = self.owner == threading.get_ident() and self.depth > 0
        depth = self.depth
        self._close()
        self._reset_threads()
        self.waiting = None
        self.ticket = -1
        self.file_held = False
        if holding:  # this thread's stack is inside the parent's hold
            self.owner, self.depth = threading.get_ident(), depth
            self.lost = "this process was forked while holding the store lock"


#: Every process lock in this process (for the fork handler), and the ones in use by key.
_ALL: weakref.WeakSet[_ProcessLock] = weakref.WeakSet()
_BY_KEY: dict[tuple[int, int], _ProcessLock] = {}
_REGISTRY = threading.Lock()


def _after_fork_in_child() -> None:
    global _REGISTRY
    _REGISTRY = threading.Lock()
    for lock in list(_ALL):
        lock.after_fork_in_child()
        if lock.lost and _BY_KEY.get(lock.key) is lock:
            del _BY_KEY[lock.key]  # a FileState opened in the child gets a lock of its own


os.register_at_fork(after_in_child=_after_fork_in_child)


class StoreLock:
    """Exclusive, re-entrant store lock. ``with lock:`` or ``acquire()``/``release()``.

    ``StoreLock(path, timeout=100.0, *, read_only=False)``: ``path`` is the lock file (created
    0600 when absent, never through a symlink; :class:`CorruptDocumentError` when it cannot be
    opened); ``read_only``: it is on a read-only mount (opened for reading; no queue there).
    """

    def __init__(
        self, path: str, timeout: float = DEFAULT_TIMEOUT, *, read_only: bool = False
    ) -> None:
        self.path = path
        self.timeout = timeout
        self._depth = 0
        self._closed = False
        fresh = _ProcessLock(path, read_only)
        with _REGISTRY:
            shared = _BY_KEY.get(fresh.key)
            if shared is None:
                shared = _BY_KEY[fresh.key] = fresh
            else:
                fresh._close()
            shared.users += 1
        self._shared = shared

    @property
    def held(self) -> bool:
        """True when the calling thread holds the lock through this StoreLock."""
        return self._depth > 0 and self._shared.held()

    def acquire(self) -> bool:
        """Take the lock; True when this StoreLock did not hold it yet (its outermost hold:
        the store may have changed since it last looked). :class:`LockTimeoutError` after the
        time-out; :class:`StateClosedError` once closed; :class:`LockNotHeldError` inside a
        hold inherited across ``fork``."""
        if self._closed:
            raise StateClosedError(f"{self.path}: the store was closed")
        self._shared.acquire(self, time.monotonic() + self.timeout)
        self._depth += 1
        return self._depth == 1

    def release(self) -> None:
        self._depth -= 1
        self._shared.release()

    def verify(self) -> None:
        """Before a commit writes: :class:`LockNotHeldError` unless this thread holds the lock
        through this StoreLock's outermost hold and the lock file is still the one locked."""
        self._shared.verify(self)

    def __enter__(self) -> StoreLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    @contextmanager
    def quiesced(self) -> Iterator[None]:
        """Hold off every thread of this process (not other processes): for closing."""
        self._shared.acquire(None, time.monotonic() + self.timeout, file=False)
        try:
            yield
        finally:
            self._shared.release()

    def close(self) -> None:
        """Stop using the lock; its descriptors close with the last StoreLock on the file
        (after the hold in progress, if any)."""
        if self._closed:
            return
        self._closed = True
        shared = self._shared
        with _REGISTRY:
            shared.users -= 1
            idle = shared.users == 0 and shared.owner is None
        if idle:
            shared._retire()
