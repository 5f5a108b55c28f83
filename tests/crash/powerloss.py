"""Power loss, simulated the way ALICE does (Pillai et al., OSDI 2014), on a real store.

:class:`Recorder` records every file-system call the store makes — all of them are in the
package ``fsio``, so by standing in for the ``os`` of each of its modules and for its ``syncfs``
— while the calls still run for real. A trace is a list of :class:`Op`: ``mkdir``, ``creat``,
``write`` (file, offset, bytes), ``trunc``, ``rename`` (of a file, or of a directory with
everything below it), ``unlink``, ``rmdir``, and the barriers ``fsync`` / ``fdatasync`` (one
file), ``fsyncdir`` (one directory's entries) and ``syncfs``.

:func:`crash_states` then lists disk states a power loss could leave after the first ``k`` calls
of the trace, for every ``k``. What a barrier covers is durable: a file's writes before its
``fsync``/``fdatasync``, a directory's entries before its ``fsyncdir``, everything before a
``syncfs``, and the tree as it was when the recording began (the model's starting point). Any
other call before the crash may or may not have reached the disk, independently: renames may
persist without the data of the file they rename, data without the directory entry that names
it, the last write only in part (a torn journal record), directory entries may vanish. Since
every subset of that is too many, a fixed family of subsets is listed (all, none, names without
data, data without names, each directory's entries lost, each file's data lost, every rename
lost, metadata persisted in order up to each point, the last write torn) plus seeded random
subsets with torn writes. Equal trees are counted once.

The states are materialised as real directory trees and opened by fresh processes
(``harness.py verify``): a new directory has another inode, so the incarnation differs and
recovery replays the whole journal, exactly as after a reboot.
"""

from __future__ import annotations

import hashlib
import importlib
import itertools
import os
import pkgutil
import random
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fsstate.store.fsio
import fsstate.store.fsio.tree

#: Modules whose ``os`` is recorded: every module of fsio (which makes every file-system call);
#: and fsio's syncfs, in ``fsio.tree``.
_MODULES = tuple(
    importlib.import_module(f"{fsstate.store.fsio.__name__}.{module.name}")
    for module in pkgutil.iter_modules(fsstate.store.fsio.__path__)
)
#: Barrier kinds, and the calls that change names (the rest change data).
BARRIERS = frozenset({"fsync", "fdatasync", "fsyncdir", "syncfs"})
NAMESPACE = frozenset({"mkdir", "creat", "rename", "unlink", "rmdir"})


@dataclass(frozen=True)
class Op:
    """One recorded call. ``path``/``path2`` are relative to the recorded root; ``fid`` names
    a file independently of its current name (inode numbers are reused)."""

    kind: str
    path: str = ""
    path2: str = ""
    fid: int = -1
    offset: int = 0
    data: bytes = b""

    def dirs(self) -> tuple[str, ...]:
        """The directories whose entries this call changes."""
        if self.kind == "rename":
            return (_parent(self.path), _parent(self.path2))
        return (_parent(self.path),) if self.kind in NAMESPACE else ()

    def __repr__(self) -> str:
        extra = f" {self.path2}" if self.path2 else ""
        data = f" @{self.offset}+{len(self.data)}" if self.kind == "write" else ""
        fid = f" #{self.fid}" if self.fid >= 0 else ""
        return f"{self.kind} {self.path}{extra}{fid}{data}"


def _parent(path: str) -> str:
    return path.rpartition("/")[0]


class CrashInjected(Exception):
    """Raised by the recorder in place of a call, to stop a process at that instant."""


@dataclass
class Snapshot:
    """A tree: directories, file names → file ids, file ids → contents."""

    dirs: set[str] = field(default_factory=set)
    entries: dict[str, int] = field(default_factory=dict)
    content: dict[int, bytearray] = field(default_factory=dict)

    def copy(self) -> Snapshot:
        return Snapshot(
            set(self.dirs),
            dict(self.entries),
            {fid: bytearray(data) for fid, data in self.content.items()},
        )

    def digest(self) -> str:
        h = hashlib.sha256()
        for d in sorted(self.dirs):
            h.update(b"D" + d.encode() + b"\0")
        for path in sorted(self.entries):
            data = self.content.get(self.entries[path], bytearray())
            h.update(b"F" + path.encode() + b"\0" + hashlib.sha256(data).digest())
        return h.hexdigest()

    def files(self) -> dict[str, bytes]:
        """File name → contents."""
        return {p: bytes(self.content.get(fid, b"")) for p, fid in self.entries.items()}

    def apply(self, op: Op) -> None:
        """Apply one call as the disk would, skipping what could not have reached it (a name
        in a directory that did not, a rename of a name that did not)."""
        kind = op.kind
        if kind == "mkdir":
            if _parent(op.path) in self.dirs and op.path not in self.entries:
                self.dirs.add(op.path)
        elif kind == "creat":
            if _parent(op.path) in self.dirs and op.path not in self.entries:
                self.entries[op.path] = op.fid
                self.content.setdefault(op.fid, bytearray())
        elif kind == "write":
            data = self.content.setdefault(op.fid, bytearray())
            end = op.offset + len(op.data)
            if len(data) < end:
                data.extend(bytes(end - len(data)))
            data[op.offset : end] = op.data
        elif kind == "trunc":
            data = self.content.setdefault(op.fid, bytearray())
            del data[op.offset :]
            data.extend(bytes(op.offset - len(data)))
        elif kind == "rename":
            if op.path in self.entries and _parent(op.path2) in self.dirs:
                self.entries[op.path2] = self.entries.pop(op.path)
            elif op.path in self.dirs and _parent(op.path2) in self.dirs:
                self._move_dir(op.path, op.path2)
        elif kind == "unlink":
            self.entries.pop(op.path, None)
        elif kind == "rmdir":
            prefix = op.path + "/"
            busy = any(p.startswith(prefix) for p in self.entries) or any(
                d.startswith(prefix) for d in self.dirs
            )
            if op.path in self.dirs and not busy:
                self.dirs.discard(op.path)

    def _move_dir(self, src: str, dst: str) -> None:
        """A directory's rename moves everything below it (onto an empty directory or none)."""
        if any(p.startswith(dst + "/") for p in [*self.entries, *self.dirs]):
            return  # rename(2) refuses a non-empty target
        prefix = src + "/"

        def moved(path: str) -> str:
            return dst + path[len(src) :] if path == src or path.startswith(prefix) else path

        self.dirs = {moved(d) for d in self.dirs}
        self.entries = {moved(p): fid for p, fid in self.entries.items()}


def snapshot(root: Path) -> tuple[Snapshot, dict[tuple[int, int], int]]:
    """The tree under ``root`` as it is, and (device, inode) → file id for its files."""
    snap = Snapshot(dirs={""})
    inodes: dict[tuple[int, int], int] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        rel = "" if rel == "." else rel
        for d in dirnames:
            snap.dirs.add(f"{rel}/{d}" if rel else d)
        for name in filenames:
            path = f"{rel}/{name}" if rel else name
            st = os.lstat(os.path.join(dirpath, name))
            fid = len(inodes)
            inodes[(st.st_dev, st.st_ino)] = fid
            snap.entries[path] = fid
            snap.content[fid] = bytearray(Path(dirpath, name).read_bytes())
    return snap, inodes


class _RecordingOS:
    """Stands in for ``os`` in the store's modules: each call runs, then is recorded."""

    def __init__(self, recorder: Recorder, real: Any) -> None:
        self._rec = recorder
        self._os = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._os, name)

    # -- names ---------------------------------------------------------------------------

    def open(self, path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        real = self._os
        rel = self._rec.rel(path, dir_fd)
        existed = True
        if flags & real.O_CREAT and rel is not None:
            try:
                real.stat(path, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                existed = False
        fd: int = real.open(path, flags, mode, dir_fd=dir_fd)
        if rel is not None and not existed:
            self._rec.created(fd, rel)
        return fd

    def mkdir(self, path: Any, mode: int = 0o777, *, dir_fd: int | None = None) -> None:
        self._os.mkdir(path, mode, dir_fd=dir_fd)
        self._rec.add("mkdir", self._rec.rel(path, dir_fd))

    def makedirs(self, name: Any, mode: int = 0o777, exist_ok: bool = False) -> None:
        head, tail = os.path.split(os.fspath(name))
        if head and tail and not os.path.exists(head):
            self.makedirs(head, mode, exist_ok=True)
        try:
            self.mkdir(name, mode)
        except FileExistsError:
            if not exist_ok or not os.path.isdir(name):
                raise

    def replace(
        self, src: Any, dst: Any, *, src_dir_fd: int | None = None, dst_dir_fd: int | None = None
    ) -> None:
        self._rec.maybe_crash("rename")
        self._os.replace(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)
        self._rec.add("rename", self._rec.rel(src, src_dir_fd), self._rec.rel(dst, dst_dir_fd))

    rename = replace

    def unlink(self, path: Any, *, dir_fd: int | None = None) -> None:
        self._os.unlink(path, dir_fd=dir_fd)
        self._rec.add("unlink", self._rec.rel(path, dir_fd))

    remove = unlink

    def rmdir(self, path: Any, *, dir_fd: int | None = None) -> None:
        self._os.rmdir(path, dir_fd=dir_fd)
        self._rec.add("rmdir", self._rec.rel(path, dir_fd))

    # -- data ----------------------------------------------------------------------------

    def write(self, fd: int, data: Any) -> int:
        offset = self._os.lseek(fd, 0, os.SEEK_CUR)
        n: int = self._os.write(fd, data)
        self._rec.wrote(fd, offset, bytes(data[:n]))
        return n

    def pwrite(self, fd: int, data: Any, offset: int) -> int:
        n: int = self._os.pwrite(fd, data, offset)
        self._rec.wrote(fd, offset, bytes(data[:n]))
        return n

    def ftruncate(self, fd: int, length: int) -> None:
        self._os.ftruncate(fd, length)
        fid = self._rec.fid(fd)
        if fid is not None:
            self._rec.trace.append(Op("trunc", self._rec.fd_path(fd) or "", fid=fid, offset=length))

    # -- barriers ------------------------------------------------------------------------

    def fsync(self, fd: int) -> None:
        self._rec.maybe_crash("fsync")
        self._os.fsync(fd)
        self._rec.synced(fd, "fsync")

    def fdatasync(self, fd: int) -> None:
        self._rec.maybe_crash("fdatasync")
        self._os.fdatasync(fd)
        self._rec.synced(fd, "fdatasync")

    def sync(self) -> None:
        self._os.sync()
        self._rec.trace.append(Op("syncfs"))


class Recorder:
    """Records the store's file-system calls under ``root`` (see the module docstring).

    ``crash_at(kind, nth)`` makes the ``nth`` call of ``kind`` raise :class:`CrashInjected`
    instead of running: the process "dies" there (the caller then abandons its FileState).
    """

    def __init__(self, root: Path) -> None:
        self.root = os.path.realpath(root)
        self.base, self._inodes = snapshot(Path(self.root))
        self.trace: list[Op] = []
        self._ids = itertools.count(len(self._inodes))
        self._crash: tuple[str, int] | None = None
        self._calls: dict[str, int] = {}

    # -- bookkeeping used by _RecordingOS ------------------------------------------------

    def rel(self, path: Any, dir_fd: int | None) -> str | None:
        name: str = os.fsdecode(path)
        if dir_fd is not None:
            name = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), name)
        name = os.path.abspath(name)
        if name == self.root:
            return ""
        if not name.startswith(self.root + "/"):
            return None
        return name[len(self.root) + 1 :]

    def fd_path(self, fd: int) -> str | None:
        return self.rel(os.readlink(f"/proc/self/fd/{fd}"), None)

    def add(self, kind: str, path: str | None, path2: str | None = "") -> None:
        if path is not None and path2 is not None:
            self.trace.append(Op(kind, path, path2))

    def created(self, fd: int, rel: str) -> None:
        st = os.fstat(fd)
        fid = next(self._ids)
        self._inodes[(st.st_dev, st.st_ino)] = fid
        if stat.S_ISREG(st.st_mode):
            self.trace.append(Op("creat", rel, fid=fid))

    def fid(self, fd: int) -> int | None:
        if self.fd_path(fd) is None:
            return None
        st = os.fstat(fd)
        return self._inodes.get((st.st_dev, st.st_ino))

    def wrote(self, fd: int, offset: int, data: bytes) -> None:
        fid = self.fid(fd)
        if fid is not None:
            self.trace.append(
                Op("write", self.fd_path(fd) or "", fid=fid, offset=offset, data=data)
            )

    def synced(self, fd: int, kind: str) -> None:
        path = self.fd_path(fd)
        if path is None:
            return
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            self.trace.append(Op("fsyncdir", path))
        else:
            fid = self.fid(fd)
            if fid is not None:
                self.trace.append(Op(kind, path, fid=fid))

    def maybe_crash(self, kind: str) -> None:
        self._calls[kind] = self._calls.get(kind, 0) + 1
        if self._crash == (kind, self._calls[kind]):
            raise CrashInjected(f"power loss simulation: process stopped before {kind}")

    def crash_at(self, kind: str, nth: int = 1) -> None:
        self._crash = (kind, self._calls.get(kind, 0) + nth)

    def mark(self) -> int:
        return len(self.trace)

    @contextmanager
    def recording(self) -> Iterator[Recorder]:
        """Record the store's calls for the block."""
        saved = [(m, m.os) for m in _MODULES]
        real_syncfs = fsstate.store.fsio.tree._syncfs

        def syncfs(fd: int) -> int:
            self.maybe_crash("syncfs")
            result: int = real_syncfs(fd)
            self.trace.append(Op("syncfs"))
            return result

        try:
            for module, real in saved:
                module.os = _RecordingOS(self, real)  # type: ignore[attr-defined]
            fsstate.store.fsio.tree._syncfs = syncfs
            yield self
        finally:
            for module, real in saved:
                module.os = real  # type: ignore[attr-defined]
            fsstate.store.fsio.tree._syncfs = real_syncfs


# -- enumerating crash states ------------------------------------------------------------------


@dataclass
class CrashState:
    """A distinct disk state, the first crash point that left it and whether some crash
    point after the whole trace (the last call acknowledged) left it."""

    tree: Snapshot
    crash_point: int
    after_end: bool
    how: str


def forced(trace: list[Op], k: int) -> set[int]:
    """Indexes of the calls among the first ``k`` that a barrier among them made durable."""
    out: set[int] = set()
    last_syncfs = max((j for j in range(k) if trace[j].kind == "syncfs"), default=-1)
    out.update(range(last_syncfs + 1))
    for j in range(last_syncfs + 1, k):
        barrier = trace[j]
        if barrier.kind in ("fsync", "fdatasync"):
            out.update(
                i
                for i in range(last_syncfs + 1, j)
                if trace[i].kind in ("write", "trunc") and trace[i].fid == barrier.fid
            )
        elif barrier.kind == "fsyncdir":
            out.update(i for i in range(last_syncfs + 1, j) if barrier.path in trace[i].dirs())
    return out


def _subsets(
    trace: list[Op], k: int, rng: random.Random, randoms: int
) -> Iterator[tuple[str, set[int], tuple[int, int] | None]]:
    """(name, persisted call indexes, optional (index, bytes kept) of a torn write)."""
    done = set(range(k))
    must = forced(trace, k)
    volatile = sorted(done - must)
    names = [i for i in volatile if trace[i].kind in NAMESPACE]
    data = [i for i in volatile if trace[i].kind in ("write", "trunc")]
    yield "all", done, None
    yield "only the synced", must, None
    yield "names without data", must | set(names), None
    yield "data without names", must | set(data), None
    renames = {i for i in names if trace[i].kind == "rename"}
    if renames:
        yield "every rename lost", done - renames, None
    for d in sorted({d for i in names for d in trace[i].dirs()}):
        lost = {i for i in names if d in trace[i].dirs()}
        yield f"entries of {d or '.'}/ lost", done - lost, None
    for fid in sorted({trace[i].fid for i in data}):
        lost = {i for i in data if trace[i].fid == fid}
        yield f"data of #{fid} lost", done - lost, None
    for j in names:
        ordered = must | {i for i in names if i <= j}
        yield f"names in order to {j}, all data", ordered | set(data), None
        yield f"names in order to {j}, no data", ordered, None
    last = trace[k - 1] if k else None
    if last is not None and last.kind == "write" and len(last.data) > 1:
        for keep in sorted({1, len(last.data) // 2, len(last.data) - 1}):
            yield f"last write torn at {keep}", done, (k - 1, keep)
    for n in range(randoms):
        chosen = must | {i for i in volatile if rng.random() < 0.5}
        torn = None
        writes = [i for i in chosen - must if trace[i].kind == "write" and len(trace[i].data) > 1]
        if writes and rng.random() < 0.5:
            i = rng.choice(writes)
            torn = (i, rng.randrange(1, len(trace[i].data)))
        yield f"random subset {n}", chosen, torn


def crash_states(
    base: Snapshot, trace: list[Op], start: int, *, seed: int, randoms: int
) -> tuple[list[CrashState], int]:
    """Distinct states a power loss could leave after ``k`` calls, ``start <= k <=
    len(trace)``; and how many (not distinct) were listed."""
    rng = random.Random(seed)
    found: dict[str, CrashState] = {}
    listed = 0
    for k in range(start, len(trace) + 1):
        for how, persisted, torn in _subsets(trace, k, rng, randoms):
            listed += 1
            tree = base.copy()
            for i in sorted(persisted):
                op = trace[i]
                if torn is not None and torn[0] == i:
                    op = Op(op.kind, op.path, op.path2, op.fid, op.offset, op.data[: torn[1]])
                tree.apply(op)
            digest = tree.digest()
            state = found.get(digest)
            if state is None:
                found[digest] = CrashState(tree, k, k == len(trace), f"{how} after call {k}")
            elif k == len(trace):
                state.after_end = True
    return list(found.values()), listed
