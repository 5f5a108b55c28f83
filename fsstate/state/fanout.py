"""A long listing's loads shared with forked processes: the ``processes`` of ``all_containers``.

Listing 10,000 containers is some 100 µs of reading, decoding and checking per container, all
of it CPU in this process (benchmarks/README.md). :func:`load_shared` hands contiguous slices
of the keys to forked children, loads the first slice itself, and takes each child's results
back from a file in memory (pickled), in key order, so the caller sees exactly what one process
would have loaded. The children only read: they inherit the caller's open read (its descriptors and
lock-free attempt, or its hold of the lock, which they never release: ``lock.py``, "Fork") and
leave with :func:`os._exit`, running no clean-up of the parent's objects.

What a child could not deliver — it died, was killed, or its results do not unpickle — the
parent loads itself, so a child is never more than a speed-up. The caller must make its read
account for the children's reads (``Txn.read_elsewhere``): they are not in its record.

Forking is safe only where no other thread may hold a lock the child would need, so
:func:`load_shared` declines (returns ``None``: load serially) when the process has more than
one thread, when the kernel has no files in memory (``memfd_create``), or when the slices would
be too small to pay for a fork (:data:`MIN_SHARE`).

``pickle`` and ``signal`` are imported where a fork needs them, not with ``fsstate``: every
process imports this module, few fork (3.5 ms of ``import fsstate``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeAlias, TypeVar

from fsstate.errors import CorruptDocumentError
from fsstate.store.fsio import MemoryFile

__all__ = ["MIN_SHARE", "Outcome", "load_each", "load_shared"]

T = TypeVar("T")

#: What loading one key gave: the object, ``None`` (not listed), or the error it raised. A
#: :class:`CorruptDocumentError` is skipped by the listing; any other error ends it.
Outcome: TypeAlias = T | Exception | None

#: What pickling its slice costs a child, as a share of the time it took to load it (some 19 µs
#: against 105 µs a container in ``ps``'s listing of 10,000: benchmarks/README.md).
PICKLING = 0.2

#: The keys each process must have to load: below some 500 containers (some 50 ms of loading) a
#: fork and the pickling cost more than they save.
MIN_SHARE = 500


def load_each(keys: Sequence[str], load: Callable[[str], T | None]) -> list[Outcome[T]]:
    """``load`` each key in order, up to and including the first error that is not a
    :class:`CorruptDocumentError` (the listing stops there)."""
    out: list[Outcome[T]] = []
    for key in keys:
        try:
            out.append(load(key))
        except CorruptDocumentError as exc:
            out.append(exc)
        except Exception as exc:
            out.append(exc)
            break
    return out


def load_shared(
    keys: Sequence[str], load: Callable[[str], T | None], processes: int
) -> list[Outcome[T]] | None:
    """:func:`load_each` over ``keys``, spread over up to ``processes`` processes (this one and
    forked children, each a contiguous slice; one process per :data:`MIN_SHARE` keys at
    most; slices as :func:`_bounds` cuts them); ``None`` when it would not fork (one process
    would do, the kernel has no ``memfd_create``, or another thread runs: the caller then
    loads serially). ``load`` must only read, and what it returns must pickle."""
    parts = min(processes, len(keys) // MIN_SHARE)
    if parts < 2 or not MemoryFile.available or threading.active_count() > 1:
        return None
    bounds = _bounds(len(keys), parts)
    children: list[_Child] = []
    try:
        for part in range(1, parts):
            child = _fork(keys[bounds[part] : bounds[part + 1]], load)
            if child is None:  # no process to spare: this one loads the rest
                break
            children.append(child)
        outcomes = load_each(keys[: bounds[1]], load)
        for part, child in enumerate(children, start=1):
            if _ended(outcomes):
                return outcomes
            got = child.collect()
            if got is None:  # the child failed: its slice is loaded here
                got = load_each(keys[bounds[part] : bounds[part + 1]], load)
            outcomes.extend(got)
        rest = bounds[len(children) + 1]
        if not _ended(outcomes) and rest < len(keys):  # slices no child was forked for
            outcomes.extend(load_each(keys[rest:], load))
        return outcomes
    finally:
        for child in children:
            child.end()


def _bounds(n: int, parts: int) -> list[int]:
    """Where the ``parts`` slices of ``n`` keys begin, and ``n``: the first, this process's, is
    the larger by what pickling costs a child (:data:`PICKLING`), so that this process ends
    its own slice as the children end theirs and their pickling: a share ``(1 + r) / (parts +
    r)`` for ``r = PICKLING``, the rest split evenly."""
    own = round(n * (1 + PICKLING) / (parts + PICKLING))
    return [0] + [own + (n - own) * i // (parts - 1) for i in range(parts)]


class _Child:
    """A forked child loading one slice, and the memory file its results come back in."""

    def __init__(self, pid: int, results: MemoryFile) -> None:
        self.pid, self.results = pid, results
        self.waited = False

    def collect(self) -> list[Any] | None:
        """Wait for the child; its outcomes, or ``None`` when it did not deliver them whole.
        Where the process reaps its children itself (``SIGCHLD`` ignored, or a handler that
        waits), the exit status is lost: the file then counts if it holds a whole pickle
        (one cut short does not load)."""
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            status = 0
        self.waited = True
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            return None
        import pickle

        try:
            with self.results.mapped() as data:
                got = pickle.loads(data)
        except Exception:  # nothing written, or not a whole pickle
            return None
        return got if isinstance(got, list) else None

    def end(self) -> None:
        """Close the memory file; kill the child if it was not waited for (the listing
        stopped early, or this process failed), and wait for it."""
        self.results.close()
        if self.waited:
            return
        self.waited = True
        import signal

        try:  # still running, so still this process's child: its ID cannot have been reused
            if os.waitpid(self.pid, os.WNOHANG) == (0, 0):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        except (ChildProcessError, ProcessLookupError):
            pass  # reaped by the process's own handler (SIGCHLD ignored): nothing to end


def _fork(keys: Sequence[str], load: Callable[[str], object]) -> _Child | None:
    """A child loading ``keys``, or ``None`` when no process or file can be made (EAGAIN,
    ENOMEM, EMFILE). It writes to a file in memory: no pipe to block on while this process
    loads its own slice, and read back in place."""
    try:
        results = MemoryFile("fsstate-listing")
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        results.close()
        return None
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        _child(results, keys, load)
    return _Child(pid, results)


def _ended(outcomes: Sequence[object]) -> bool:
    """Whether the listing stopped in these outcomes (an error that is not skipped)."""
    last = outcomes[-1] if outcomes else None
    return isinstance(last, Exception) and not isinstance(last, CorruptDocumentError)


def _child(results: MemoryFile, keys: Sequence[str], load: Callable[[str], object]) -> NoReturn:
    """In the child: load ``keys``, write the pickled outcomes to ``results``, and leave
    without clean-up (exit status 0 only when all was written)."""
    import pickle

    status = 1
    try:
        with results.writer() as out:
            pickle.dump(load_each(keys, load), out, protocol=pickle.HIGHEST_PROTOCOL)
        status = 0
    finally:
        os._exit(status)
