"""Repair a store: quarantine what cannot be trusted, then rebuild what is derived.

``repair(report)`` works on the store the report names, under its lock, in rounds: each round
re-checks the tree (a report may be stale by the time it is repaired, and acting on stale
findings could move a good file) and fixes the file-level findings —

* unreadable or invalid documents, unsafe entries, invalid names and unexpected entries are
  moved to ``quarantine/<timestamp>/<original path>`` (never deleted; a container or pod whose
  config is lost goes there as a whole directory, config and state together);
* stray temporary files are deleted, orphan directories removed, modes set to 0600 / 0700,
  a missing or NUL-filled FORMAT rewritten —

until a round finds nothing more to move (a move can expose the next problem: a quarantined
container leaves its exec sessions dangling). The last round writes fresh states where they are
missing and rebuilds the whole ``index/`` from the documents, then checkpoints, which makes
every rename, unlink and chmod above durable with one ``syncfs``.

Why the index is rebuilt through one journal commit and not by building ``index.new/`` and
swapping it in with renames: (1) the commit is atomic and crash-safe — replay finishes it —
whereas two renames leave a moment with no ``index/`` at all, and Linux offers no atomic
exchange of directories from Python; (2) the commit advances the generation, so every other
process drops its cache of the old index, which a rename behind the journal's back would not
do; (3) only the difference is written, so repairing one entry of a large store costs one entry.
Every repair's commit also holds :data:`~fsstate.store.storage.NO_CHANGE`, an operation
that changes no file, so there is a record and the generation advances even when only
quarantined files changed. (It once rewrote FORMAT for that: a power loss before the
checkpoint could then leave a torn FORMAT, which a store refuses to open before it replays
the journal that would mend it.)

Findings that need a person (a dependency, pod or volume that is truly gone, a name held
twice, a newer layout) are left alone and returned with ``repairable=False``.
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from fsstate.fsck import (
    FORMAT_LINE,
    Code,
    Finding,
    Repair,
    Report,
    Scan,
    Store,
    locked,
    same_entry,
)
from fsstate.fsck.places import defines_object
from fsstate.fsck.scan import ProgressFn
from fsstate.status import ContainerStatus
from fsstate.store import codec, fsio
from fsstate.store import layout as L
from fsstate.store.journal import Journal, Op
from fsstate.store.lock import DEFAULT_TIMEOUT
from fsstate.store.storage import NO_CHANGE, FileStorage

__all__ = ["repair"]

#: Rounds of check-and-move before giving up on a tree that keeps changing under us.
_ROUNDS = 8
#: The order of the file-level fixes within a round (moves first, then these).
_ORDER = {Repair.DELETE: 1, Repair.DELETE_TREE: 1, Repair.REMOVE_DIRECTORY: 2, Repair.SET_MODE: 3}
#: A container with a freshly written state is "configured": Podman creates it again on start.
_FRESH_CONTAINER_STATE = {"state": ContainerStatus.CONFIGURED.value}


def repair(
    report: Report, *, lock_timeout: float = DEFAULT_TIMEOUT, progress: ProgressFn | None = None
) -> Report:
    """Fix what can be fixed in the store of ``report`` (module docstring) and return a report
    of every finding met: the repaired ones carry the ``action`` taken, the rest are left for
    the administrator. ``progress``, when given, is told ``("checking", entries seen, 0)`` by
    each re-check and ``("repairing", round, 0)`` as each round starts. Raises
    :class:`~fsstate.errors.NoSuchStoreError` when the store is gone (nothing is created),
    :class:`~fsstate.errors.LockTimeoutError` when the lock is busy."""
    fixer = _Fixer(datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ"))
    final: list[Finding] = []
    for n in range(_ROUNDS):
        if progress is not None:
            progress("repairing", n + 1, 0)
        with locked(report.static_dir, lock_timeout) as store:
            scan = store.scan(progress)
            final = scan.findings
            if store.fatal:
                break
            # Lock-free readers must not see the moves half done, nor cache the tree before them.
            with store.fs.excluding_readers() if store.fs is not None else nullcontext() as moved:
                fixed = fixer.fix_files(store, scan)
                if fixed and moved is not None:
                    moved()
            if fixed:
                continue  # re-check, reopening: the tree may open as a FileStorage now
            if store.fs is not None and fixer.rebuild(store.fs, scan):
                store.fs.checkpoint()  # durable: the commit, and every move, unlink and chmod
                final = store.scan(progress).findings
                fixer.synced = True
            break
    if fixer.done and not fixer.synced:
        tree = fsio.Tree(os.path.join(report.static_dir, L.STORE_DIR))
        tree.sync_tree()
        tree.close()
    left = {(f.code, f.path) for f in final}
    done = [f for f in fixer.done if (f.code, f.path) not in left or not f.action]
    done += [f for f in final if (f.code, f.path) not in fixer.failed]
    done.sort(key=lambda f: (f.path, f.code, f.object, f.action))
    return Report(os.path.join(report.static_dir, L.STORE_DIR), tuple(done))


class _Fixer:
    def __init__(self, stamp: str) -> None:
        self.stamp = stamp
        self.done: list[Finding] = []
        self.failed: set[tuple[str, str]] = set()
        self.synced = False

    def fix_files(self, store: Store, scan: Scan) -> bool:
        """One round of file-level fixes; True when anything changed."""
        gone: list[str] = []  # paths moved or removed this round: findings below them go too
        acted = False
        first = (L.QUARANTINE, L.FORMAT)  # where moves go, and what lets the tree open
        for f in sorted(
            scan.findings,
            key=lambda f: (f.path not in first, _ORDER.get(f.code.repair, 0), f.path),
        ):
            if not f.repairable or (f.code, f.path) in self.failed:
                continue
            if by := next((g for g in gone if f.path == g or f.path.startswith(g + "/")), ""):
                self.done.append(replace(f, action=f"gone with {by}"))
                continue
            try:
                if f.code.repair is Repair.RESET_JOURNAL:
                    action = _reset_journal(store.root)
                else:
                    action = self._fix(store.fd, f, gone)
            except OSError as exc:
                self.failed.add((f.code, f.path))
                note = f"{f.message} (repair failed: {exc.strerror or exc})"
                self.done.append(replace(f, message=note))
                continue
            if action:
                self.done.append(replace(f, action=action))
                acted = True
        return acted

    def _fix(self, fd: int, f: Finding, gone: list[str]) -> str:
        how = f.code.repair
        if how is Repair.REWRITE_FORMAT:
            if f.path == L.FORMAT and fsio.lstat_at(fd, L.FORMAT) is not None:
                self._quarantine(fd, L.FORMAT)
            fsio.create_at(fd, L.FORMAT, FORMAT_LINE)
            return f"wrote {FORMAT_LINE.decode().strip()!r}"
        if how is Repair.QUARANTINE:
            target = _object_dir(f)
            gone.append(target)
            return f"moved {target} to {self._quarantine(fd, target)}"
        if how is Repair.DELETE:
            fsio.unlink_at(fd, f.path)
            return "deleted"
        if how is Repair.DELETE_TREE:
            fsio.delete_tree_at(fd, f.path)
            gone.append(f.path)
            return "deleted"
        if how is Repair.REMOVE_DIRECTORY:
            fsio.rmdir_at(fd, f.path)
            gone.append(f.path)
            return "removed"
        if how is Repair.SET_MODE:
            return f"mode set to {fsio.chmod_at(fd, f.path):04o}"
        return ""  # index and missing-state: the rebuild's

    def _quarantine(self, fd: int, rel: str) -> str:
        dest = L.quarantined(self.stamp, rel)
        return fsio.move_aside(fd, rel, dest)

    def rebuild(self, fs: FileStorage, scan: Scan) -> bool:
        """Write missing states and the index difference as one commit (lock held); False
        when there was nothing to write and nothing was moved before."""
        ops: list[Op] = []
        for f in scan.findings:
            if f.code.repair is Repair.FRESH_STATE and f.repairable:
                doc = _fresh_state(scan, f)
                ops.append(("put", f.path, codec.encode(doc)))
                shown = codec.encode_compact(doc).decode()
                self.done.append(replace(f, action=f"wrote a fresh state {shown}"))
        if not scan.hidden:  # a part of the tree the scan could not see: no index from it
            ops.extend(_index_ops(scan))
            rebuilt = [
                replace(f, action="index rebuilt")
                for f in scan.findings
                if f.code.repair is Repair.REBUILD_INDEX
            ]
            self.done.extend(rebuilt)
        if not ops and not self.done:
            return False
        fs.commit([*ops, NO_CHANGE])
        return True


def _reset_journal(root: str) -> str:
    """Empty a damaged journal, keeping the documents as they are (the lock is held)."""
    tree = fsio.Tree(root)
    try:
        journal = Journal(tree)
        try:
            top = journal.discard_damaged()
        finally:
            journal.close()
    finally:
        tree.close()
    return f"emptied, the documents kept as they are (generation {top})"


def _index_ops(scan: Scan) -> list[Op]:
    """Deletes (deepest first), then emptied directories, then puts: the index the documents
    imply, written over the one on disk."""
    extra = sorted(scan.index.keys() - scan.expected.keys(), reverse=True)
    ops: list[Op] = [("del", p) for p in extra]
    keep = {p.rsplit("/", i)[0] for p in scan.expected for i in range(1, p.count("/"))}
    emptied = {p.rsplit("/", i)[0] for p in extra for i in range(1, p.count("/") - 1)}
    ops += [("rmdir", d) for d in sorted(emptied - keep, key=lambda d: -d.count("/"))]
    for path, data in sorted(scan.expected.items()):
        if path not in scan.index or not same_entry(scan.index[path], data):
            ops.append(("put", path, data))
    return ops


def _fresh_state(scan: Scan, f: Finding) -> dict[str, Any]:
    if f.path.split("/")[0] == L.CONTAINERS.top:
        return dict(_FRESH_CONTAINER_STATE)
    # A pod's infra container is the member whose config says "pause" (libpod's IsInfra).
    infra = [
        cid
        for cid in sorted(scan.dirs[L.CONTAINERS.top])
        if (cfg := scan.docs.get(L.container_doc(cid, "config")))
        and cfg.get("pod") == f.object
        and cfg.get("pause") is True
    ]
    return {"cgroupPath": "", "InfraContainerID": infra[0] if infra else ""}


def _object_dir(f: Finding) -> str:
    """What to quarantine for ``f``: the whole object directory when its config is lost."""
    parts = f.path.split("/")
    kind = L.kind_of(parts[0])
    whole = f.code is Code.MISSING_CONFIG or defines_object(parts)
    return kind.dir(parts[1]) if kind is not None and len(parts) > 1 and whole else f.path
