"""One walk of the store's tree (``O_NOFOLLOW`` descriptors throughout), and the relations
between the documents it found: the findings, plus what repair works from.

The walk gives each path its role (:mod:`.places`) and judges each document (:mod:`.documents`
and :mod:`fsstate.state.schema`); then the documents are related — dangling references, names held
twice — and the index they imply is compared with the one on disk.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from typing import Any

from fsstate.fsck.documents import (
    decode,
    entry_owner,
    name_entry,
    same_entry,
    unsafe_names,
)
from fsstate.fsck.findings import Code, Finding, finding
from fsstate.fsck.places import (
    ROLES,
    WHY,
    defines_object,
    misplaced,
    object_of,
    place,
    schema_kind,
)
from fsstate.model import Container, Pod
from fsstate.state import schema
from fsstate.state.catalog import (
    CONTAINER,
    POD,
    container_entries,
    exec_entries,
    name_path,
    pod_entries,
    volume_entries,
)
from fsstate.state.semantics import BOLT, NAMES, Semantics
from fsstate.store import codec, fsio
from fsstate.store import layout as L

#: ``(what, done, total)``, as :data:`fsstate.podman.ProgressFn`; ``total`` 0: not known ahead.
ProgressFn = Callable[[str, int, int], None]


class Scan:
    """One walk of the tree: the findings, plus the documents and index repair works from."""

    def __init__(self, root: str, fd: int, progress: ProgressFn | None = None) -> None:
        self.root, self.fd = root, fd
        self.progress = progress  # told ("checking", entries seen, 0) as the walk goes
        self.seen = 0
        self.findings: list[Finding] = []
        self.docs: dict[str, dict[str, Any]] = {}  # valid documents by path
        self.present: set[str] = set()  # every document path seen, valid or not
        self.dirs: dict[str, set[str]] = {kind.top: set() for kind in L.KINDS}
        self.index: dict[str, bytes] = {}  # index files and their contents
        self.expected: dict[str, bytes] = {}  # the index the valid documents imply
        self.empty_index_dirs: list[str] = []  # below index/<kind>/, found empty
        self.damaged: set[str] = set()  # objects whose documents are unusable
        self.hidden: list[str] = []  # paths the scan could not look into

    def add(self, code: Code, path: str, obj: str, message: str) -> None:
        self.findings.append(finding(code, path, message, obj=obj))

    def run(self) -> None:
        if (mode := fsio.fd_mode(self.fd) & 0o777) != fsio.DIR_MODE:
            self.add(Code.BAD_PERMISSIONS, "", "", f"mode {mode:04o}")
        self._walk(self.fd, "")
        self._relate()
        self._empty_index_dirs()
        self.findings.sort(key=lambda f: (f.path, f.code, f.object, f.message))

    # -- the walk --------------------------------------------------------------------------

    def _walk(self, fd: int, rel: str) -> int:
        """Visit every entry of directory ``fd`` (at ``rel``); return how many there were."""
        seen = 0
        for entry in fsio.entries(fd):
            path = f"{rel}/{entry.name}" if rel else entry.name
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed under an unlocked scan
            seen += 1
            self.seen += 1
            if self.progress is not None:
                self.progress("checking", self.seen, 0)
            self._visit(fd, path, entry.name, st)
        return seen

    def _visit(self, fd: int, path: str, name: str, st: os.stat_result) -> None:
        parts = path.split("/")
        is_dir = stat.S_ISDIR(st.st_mode)
        if not is_dir and not stat.S_ISREG(st.st_mode):
            return self._unsafe(path, "a symlink, device, FIFO or socket")
        if not is_dir and L.is_temp_name(name):
            return self.add(Code.STRAY_TEMP_FILE, path, "", "a crashed writer's temporary file")
        role = place(parts, is_dir)
        if role == Code.EXTRA_INDEX_ENTRY:
            role = "index"  # misplaced in the index: the comparison reports it, repair drops it
        if role not in ROLES:
            return self.add(Code(role), path, object_of(parts), WHY[Code(role)])
        mode = st.st_mode & 0o777
        if mode != (fsio.DIR_MODE if is_dir else fsio.FILE_MODE):
            self.add(Code.BAD_PERMISSIONS, path, object_of(parts), f"mode {mode:04o}")
        if role == "trash":  # each entry reported, none looked into
            try:
                sub = fsio.open_dir(name, dir_fd=fd)
            except OSError as exc:
                return self._unreadable(path, role, exc)
            try:
                for entry in fsio.entries(sub):
                    what = "set aside by a commit (journal record " + entry.name + ")"
                    self.add(Code.TRASH, f"{path}/{entry.name}", "", f"{what}; not deleted yet")
            finally:
                fsio.close(sub)
        elif role == "dir":
            try:
                sub = fsio.open_dir(name, dir_fd=fd)
            except OSError as exc:
                return self._unreadable(path, role, exc)
            if len(parts) == 2 and parts[0] in self.dirs:
                self.dirs[parts[0]].add(name)
            try:
                seen = self._walk(sub, path)
            finally:
                fsio.close(sub)
            if not seen and parts[0] == L.INDEX_DIR and len(parts) == 3:
                self.empty_index_dirs.append(path)
        elif role == "index" and st.st_size == 0:
            self.index[path] = b""  # a marker: nothing to read
        elif role in ("doc", "index"):
            try:
                data = fsio.read_regular(name, fd)
            except OSError as exc:
                return self._unreadable(path, role, exc)
            if data is not None and role == "doc":
                self._document(path, parts, data)
            elif data is not None:
                self.index[path] = data

    def _unsafe(self, path: str, what: str) -> None:
        parts = path.split("/")
        role = next((r for r in (place(parts, True), place(parts, False)) if r in ROLES), "")
        self._hide(path, role)
        self.add(Code.UNSAFE_ENTRY, path, object_of(parts), f"{what}; never followed")

    def _unreadable(self, path: str, role: str, exc: OSError) -> None:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EISDIR):
            return self._unsafe(path, "replaced by something else while it was read")
        self._hide(path, role)
        if not any(f.path == path and f.code == Code.BAD_PERMISSIONS for f in self.findings):
            self.add(Code.BAD_PERMISSIONS, path, object_of(path.split("/")), str(exc.strerror))

    def _hide(self, path: str, role: str) -> None:
        """Note a path the scan cannot look into: its object is damaged, not missing, and no
        index difference below it is reported (nor rebuilt)."""
        parts = path.split("/")
        self.hidden.append(path)
        if role == "doc":
            self.present.add(path)
        if defines_object(parts) if role == "doc" else (role == "dir" and parts[0] in self.dirs):
            self.damaged.add(object_of(parts))

    def _document(self, path: str, parts: list[str], data: bytes) -> None:
        self.present.add(path)
        code, message, doc = decode(data)
        kind = schema_kind(parts)
        if code is None:
            problems = schema.problems(kind, doc) + unsafe_names(kind, doc)
            code, message = (Code.SCHEMA_VIOLATION, "; ".join(problems)) if problems else (None, "")
        if code is None and (wrong := misplaced(parts, doc)):
            code, message = Code.MISPLACED_DOCUMENT, wrong
        if code is None:
            self.docs[path] = doc
            return
        self.add(code, path, object_of(parts), message)
        if defines_object(parts):
            self.damaged.add(object_of(parts))

    def _empty_index_dirs(self) -> None:
        """An empty per-object index directory (``index/<kind>/<owner>``) whose owner is gone
        and below which no entry is expected: a copy taken while it was emptied left it."""
        alive = set().union(*self.dirs.values())
        per_object = {
            where("x").split("/")[1]
            for where in (L.dependents_dir, L.pod_members_dir, L.volume_users_dir, L.exec_index)
        }
        for path in self.empty_index_dirs:
            parts = path.split("/")
            below = path + "/"
            if parts[1] not in per_object or parts[2] in alive:
                continue
            if not any(p.startswith(below) for p in self.expected):
                msg = "an empty index directory"
                self.add(Code.ORPHAN_DIRECTORY, path, object_of(parts), msg)

    # -- relations between documents, and the index they imply ------------------------------

    def _relate(self) -> None:
        ctrs = {i: Container(c) for i, c in self._objects(L.CONTAINERS).items()}
        pods = {i: Pod(c) for i, c in self._objects(L.PODS).items()}
        vols = self._objects(L.VOLUMES)
        # A hostile top-level directory hides objects: that finding explains the differences.
        partial = any(L.place([p], True) == "dir" for p in self.hidden)
        rules = self._semantics()
        for cid, ctr in ctrs.items():
            self.expected |= container_entries(ctr, rules)
            config = L.container_doc(cid, "config")
            for dep in ctr.dependencies():
                if dep not in ctrs and not partial:
                    msg = f"depends on {dep}, which is not a container"
                    self.add(Code.DANGLING_DEPENDENCY, config, cid, msg)
            if ctr.pod_id and ctr.pod_id not in pods and not partial:
                msg = f"member of pod {ctr.pod_id}, which does not exist"
                self.add(Code.DANGLING_POD_MEMBER, config, cid, msg)
            for vol in ctr.named_volumes():
                if vol not in vols and not partial:
                    msg = f"mounts volume {vol}, which does not exist"
                    self.add(Code.DANGLING_VOLUME_USER, config, cid, msg)
        for pod in pods.values():
            self.expected |= pod_entries(pod, rules)
        for name, vol_config in vols.items():
            self.expected |= volume_entries(name, vol_config)
        for path, doc in self.docs.items():
            if path.split("/")[0] == L.EXIT_CODES and doc["id"] not in ctrs:
                self.expected[L.EXIT_ORPHANS.path(doc["id"])] = b""
            if path.split("/")[0] == L.EXEC:
                sid, cid = doc["id"], doc["containerId"]
                self.expected |= exec_entries(sid, cid)
                if cid not in ctrs and not partial:
                    msg = f"registered to container {cid}, which does not exist"
                    self.add(Code.DANGLING_EXEC_SESSION, path, sid, msg)
        self._names(ctrs, pods, rules)
        if not partial:
            self._compare_index()

    def _objects(self, kind: L.Kind) -> dict[str, dict[str, Any]]:
        """The configs of the objects of one kind, reporting directories without one, and
        the documents the layout requires that are missing (a state: ``missing-state``)."""
        found: dict[str, dict[str, Any]] = {}
        for oid in sorted(self.dirs[kind.top]):
            config, *_ = docs = [kind.doc(oid, d) for d in kind.docs]
            if config in self.docs:
                found[oid] = self.docs[config]
                for doc in kind.required[1:]:
                    if kind.doc(oid, doc) not in self.present:
                        msg = f"the {kind.name} has no {doc}"
                        self.add(Code.MISSING_STATE, kind.doc(oid, doc), oid, msg)
            elif not self.present.intersection(docs):
                msg = "a directory with no documents"
                self.add(Code.ORPHAN_DIRECTORY, kind.dir(oid), oid, msg)
                self.damaged.add(oid)
            elif config not in self.present:
                self.add(Code.MISSING_CONFIG, config, oid, f"the {kind.name} has no config")
                self.damaged.add(oid)
        return found

    def _semantics(self) -> Semantics:
        """The store's semantics: its pin when readable, else ``"bolt"`` (as FileState)."""
        doc = self.docs.get(L.SEMANTICS)
        return NAMES.get(doc["semantics"], BOLT) if doc is not None else BOLT

    def _names(self, ctrs: dict[str, Container], pods: dict[str, Pod], rules: Semantics) -> None:
        """Give each name one owner in its registry (the one the index names, else the least);
        report the rest."""
        claims: dict[str, list[tuple[str, str]]] = {}  # registry entry → claimants
        for kind, objs in ((CONTAINER, ctrs), (POD, pods)):
            for oid, obj in objs.items():
                claims.setdefault(name_path(kind, obj.name, rules), []).append((kind, oid))
        for path, owners in claims.items():
            name = path.rpartition("/")[2]
            held = name_entry(self.index.get(path, b""))
            owner = held if held in owners else min(owners)
            self.expected[path] = codec.encode({"kind": owner[0], "id": owner[1]})
            for kind, oid in owners:
                if (kind, oid) != owner:
                    msg = f"name {name} is also held by {owner[0]} {owner[1]}: rename one of them"
                    where = L.container_doc if kind == CONTAINER else L.pod_doc
                    self.add(Code.NAME_CLASH, where(oid, "config"), oid, msg)
        for pid in sorted(set(ctrs) & set(pods)):
            msg = f"ID {pid} is both a container and a pod: remove one of them"
            self.add(Code.NAME_CLASH, L.pod_doc(pid, "config"), pid, msg)

    def _compare_index(self) -> None:
        for path in sorted(self.expected.keys() - self.index.keys()):
            if not any(path.startswith(h + "/") for h in self.hidden):
                owner = entry_owner(path, self.expected[path])
                self.add(Code.MISSING_INDEX_ENTRY, path, owner, "absent; the documents imply it")
        for path in sorted(self.index.keys() - self.expected.keys()):
            owner = entry_owner(path, self.index[path])
            if owner not in self.damaged:
                self.add(Code.EXTRA_INDEX_ENTRY, path, owner, "no document implies it")
        for path in sorted(self.index.keys() & self.expected.keys()):
            if not same_entry(self.index[path], self.expected[path]):
                owner = entry_owner(path, self.expected[path])
                msg = "its contents differ from the documents"
                self.add(Code.STALE_INDEX_ENTRY, path, owner, msg)
