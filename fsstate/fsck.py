"""Check a store: every way its files disagree with ``layout.py``, returned as values.

:func:`check` takes the store lock (opening a :class:`~fsstate.storage.FileStorage` first, which
replays the journal, so the recovered tree is checked), walks the whole tree once with
``O_NOFOLLOW`` descriptors — nothing is ever followed out of the store — and returns a
:class:`Report` of :class:`Finding` values. It writes nothing but what opening a store writes.
``repair.py`` acts on the findings. Paths in findings are relative to ``<static_dir>/fsstate``
(``""`` is that directory itself). One damaged object gives one finding: the index entries it
implied are not reported again, since repair rebuilds the index from what is left.

=====================  ==========  =====================================================
code                   repairable  meaning → what ``repair`` does
=====================  ==========  =====================================================
unknown-format         some        FORMAT missing, empty or NUL-filled → rewritten; newer or
                                   foreign, or no store at all → left alone (not repairable)
unsafe-entry           yes         symlink, device, FIFO or socket → quarantined (never followed)
invalid-name           yes         a name that fails ``layout.is_valid_name`` → quarantined
unexpected-entry       yes         a file or directory the layout has no place for → quarantined
stray-temp-file        yes         a writer's leftover temporary file → deleted
bad-permissions        yes         not exactly 0600 (file) / 0700 (directory) → set so
empty-document         yes         zero-length document → quarantined
nul-document           yes         NUL-filled document → quarantined
truncated-document     yes         JSON cut short → quarantined
invalid-json           yes         any other non-JSON → quarantined
schema-violation       yes         fails ``schema.problems`` or holds an unsafe name → quarantined
misplaced-document     yes         its ``id``/``name`` differs from its path → quarantined
missing-config         yes         object directory without its config → directory quarantined
missing-state          yes         container or pod without its state → a fresh state is written
orphan-directory       yes         object directory with no documents → removed
missing-index-entry    yes         a document implies an index file that is absent → index rebuilt
extra-index-entry      yes         an index file no document implies → index rebuilt
stale-index-entry      yes         an index file with the wrong contents → index rebuilt
dangling-dependency    no          a container depends on a container that does not exist
dangling-pod-member    no          a container's ``config.pod`` names no pod
dangling-volume-user   no          a container mounts a volume that does not exist
dangling-exec-session  yes         an exec record names no container → quarantined
name-clash             no          two containers/pods share a name (or an ID)
=====================  ==========  =====================================================
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from fsstate import codec, schema
from fsstate import layout as L
from fsstate.errors import CorruptDocumentError, LockTimeoutError
from fsstate.index import CONTAINER, POD, container_entries, pod_entries
from fsstate.lock import DEFAULT_TIMEOUT, StoreLock
from fsstate.model import Container, Pod
from fsstate.storage import FileStorage

__all__ = ["CODES", "NOT_REPAIRABLE", "QUARANTINE", "Finding", "Report", "Scan", "check", "locked"]

QUARANTINE = "quarantine"
#: The codes of the table above, in its order.
CODES = tuple(
    """unknown-format unsafe-entry invalid-name unexpected-entry stray-temp-file bad-permissions
    empty-document nul-document truncated-document invalid-json schema-violation
    misplaced-document missing-config missing-state orphan-directory missing-index-entry
    extra-index-entry stale-index-entry dangling-dependency dangling-pod-member
    dangling-volume-user dangling-exec-session name-clash""".split()  # noqa: SIM905
)
#: What repair leaves to the administrator (and unknown-format/unsafe-entry case by case).
NOT_REPAIRABLE = frozenset(
    {"dangling-dependency", "dangling-pod-member", "dangling-volume-user", "name-clash"}
)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
FORMAT_LINE = f"fsstate-layout {L.FORMAT_VERSION}\n".encode()
#: The documents of each kind of object directory; the first is the one that must exist.
OBJECTS = {
    "containers": ("config", "state", "networks"),
    "pods": ("config", "state"),
    "volumes": ("config", "state"),
}
_KIND = {"containers": "container", "pods": "pod", "volumes": "volume"}
_TOP = dict.fromkeys(L.CONTROL_FILES, "control") | dict.fromkeys([*OBJECTS, "exec", "index"], "dir")
_TOP |= {L.DBCONFIG: "doc", QUARANTINE: "skip"}
#: Below ``index/<kind>/``: ``d`` a named directory, ``k`` "containers" or "pods", ``f`` the entry.
_INDEX = {"names": "f", "containers": "df", "pods": "df", "namespaces": "dkf", "dependents": "df"}
_INDEX |= {"pod-members": "df", "volume-users": "df", "exec": "df"}
_ROLES = ("dir", "doc", "index", "control", "skip")
_WHY = {
    "invalid-name": "not a valid name ([a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 255 bytes)",
    "unexpected-entry": "the layout has no place for it",
}


@dataclass(frozen=True)
class Finding:
    """One problem: ``code`` (see the table above), the ``object`` it concerns (ID, name,
    session ID or ``""``), ``path`` relative to the store directory, a ``message`` for the
    administrator, whether ``repair`` can fix it, and — in a repair report — what it did."""

    code: str
    object: str
    path: str
    message: str
    repairable: bool
    action: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Report:
    """The findings of one check (or what one repair did) for the store directory ``store``
    (``<static_dir>/fsstate``), sorted by path."""

    store: str
    findings: tuple[Finding, ...] = ()

    @property
    def static_dir(self) -> str:
        return os.path.dirname(self.store)

    @property
    def clean(self) -> bool:
        """True when nothing is left to report (repaired findings count as reported)."""
        return not any(not f.action for f in self.findings)

    @property
    def repairable(self) -> tuple[Finding, ...]:
        """The findings ``repair`` would fix."""
        return tuple(f for f in self.findings if f.repairable and not f.action)

    def abspath(self, finding: Finding) -> str:
        return os.path.join(self.store, finding.path) if finding.path else self.store

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data: ``{"store", "clean", "findings": [Finding.to_json(), …]}``."""
        findings = [f.to_json() for f in self.findings]
        return {"store": self.store, "clean": self.clean, "findings": findings}


def check(static_dir: str | os.PathLike[str], *, lock_timeout: float = DEFAULT_TIMEOUT) -> Report:
    """Check the store under ``static_dir`` while holding its lock (module docstring).

    Raises :class:`~fsstate.errors.LockTimeoutError` when the lock is not free in time."""
    with locked(static_dir, lock_timeout) as store:
        return Report(store.root, tuple(store.scan().findings))


@dataclass
class Store:
    """A store opened for fsck: the directory's descriptor, and the FileStorage when the tree
    opens as one (else the lock file is locked directly, or — when the lock file itself is
    hostile — nothing is). ``fatal`` findings mean: look no further."""

    root: str
    fd: int
    fs: FileStorage | None
    fatal: list[Finding] = field(default_factory=list)
    early: list[Finding] = field(default_factory=list)

    def scan(self) -> Scan:
        scan = Scan(self.root, self.fd)
        scan.findings.extend(self.fatal or self.early)
        if not self.fatal:
            scan.run()
        return scan


@contextmanager
def locked(static_dir: str | os.PathLike[str], timeout: float) -> Iterator[Store]:
    """The store under ``static_dir``, its lock held for the block (see :class:`Store`).

    The lock is FileStorage's when the tree opens, so the journal is replayed first; a tree
    that does not open (missing FORMAT, hostile control file) is locked through the lock file."""
    root = os.path.join(os.fspath(static_dir), L.STORE_DIR)
    try:
        mode = os.lstat(root).st_mode
    except FileNotFoundError:
        msg = "no fsstate store here"
        yield Store(root, -1, None, [_f("unknown-format", "", msg, repairable=False)])
        return
    if not stat.S_ISDIR(mode):
        msg = "not a directory (a symlink?): put the real store directory here"
        yield Store(root, -1, None, [_f("unsafe-entry", "", msg, repairable=False)])
        return
    with ExitStack() as stack:
        fd = os.open(root, _DIR_FLAGS)
        stack.callback(os.close, fd)
        fmt, openable = _format(fd)
        if fmt is not None and not fmt.repairable:
            yield Store(root, fd, None, [fmt])
            return
        fs = _open_storage(static_dir, timeout) if openable else None
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
        yield Store(root, fd, fs, early=[fmt] if fmt else [])


def _open_storage(static_dir: str | os.PathLike[str], timeout: float) -> FileStorage | None:
    try:
        return FileStorage(os.fspath(static_dir), lock_timeout=timeout)
    except LockTimeoutError:
        raise
    except (CorruptDocumentError, OSError):
        return None  # a hostile journal, generation file or pending record: the scan says which


def _format(fd: int) -> tuple[Finding | None, bool]:
    """The unknown-format finding (or ``None``), and whether FileStorage may open the tree:
    not when FORMAT is missing, since FileStorage would write it and check writes nothing."""
    try:
        data = _read(fd, L.FORMAT)
    except OSError:
        return None, False  # not a regular file: the scan reports the unsafe entry
    if not data:
        return _f("unknown-format", L.FORMAT, "FORMAT is missing or empty"), False
    if not data.strip(b"\x00 \t\r\n"):
        return _f("unknown-format", L.FORMAT, "FORMAT is NUL-filled"), False
    parts = data.split()
    version = int(parts[1]) if len(parts) == 2 and parts[1].isdigit() else -1
    if parts[:1] != [b"fsstate-layout"] or version < 1:
        line = FORMAT_LINE.decode().strip()
        msg = f"not an fsstate FORMAT file; if this is an fsstate store, write {line!r} into it"
        return _f("unknown-format", L.FORMAT, msg, repairable=False), False
    if version > L.FORMAT_VERSION:
        msg = f"layout version {version} is newer than this fsstate ({L.FORMAT_VERSION}); upgrade"
        return _f("unknown-format", L.FORMAT, msg, repairable=False), False
    return None, True


class Scan:
    """One walk of the tree: the findings, plus the documents and index repair works from."""

    def __init__(self, root: str, fd: int) -> None:
        self.root, self.fd = root, fd
        self.findings: list[Finding] = []
        self.docs: dict[str, dict[str, Any]] = {}  # valid documents by path
        self.present: set[str] = set()  # every document path seen, valid or not
        self.dirs: dict[str, set[str]] = {top: set() for top in OBJECTS}
        self.index: dict[str, bytes] = {}  # index files and their contents
        self.expected: dict[str, bytes] = {}  # the index the valid documents imply
        self.damaged: set[str] = set()  # objects whose documents are unusable
        self.hidden: list[str] = []  # paths the scan could not look into

    def add(self, code: str, path: str, obj: str, message: str) -> None:
        self.findings.append(_f(code, path, message, obj=obj))

    def run(self) -> None:
        if (mode := os.fstat(self.fd).st_mode & 0o777) != 0o700:
            self.add("bad-permissions", "", "", f"mode {mode:04o}")
        self._walk(self.fd, "")
        self._relate()
        self.findings.sort(key=lambda f: (f.path, f.code, f.object, f.message))

    # -- the walk --------------------------------------------------------------------------

    def _walk(self, fd: int, rel: str) -> None:
        with os.scandir(fd) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            path = f"{rel}/{entry.name}" if rel else entry.name
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed under an unlocked scan
            self._visit(fd, path, entry.name, st)

    def _visit(self, fd: int, path: str, name: str, st: os.stat_result) -> None:
        parts = path.split("/")
        is_dir = stat.S_ISDIR(st.st_mode)
        if not is_dir and not stat.S_ISREG(st.st_mode):
            return self._unsafe(path, "a symlink, device, FIFO or socket")
        if not is_dir and L.is_temp_name(name):
            return self.add("stray-temp-file", path, "", "a crashed writer's temporary file")
        role = _place(parts, is_dir)
        if role == "extra-index-entry":
            role = "index"  # misplaced in the index: the comparison reports it, repair drops it
        if role not in _ROLES:
            return self.add(role, path, _obj(parts), _WHY[role])
        mode = st.st_mode & 0o777
        if mode != (0o700 if is_dir else 0o600):
            self.add("bad-permissions", path, _obj(parts), f"mode {mode:04o}")
        if role == "dir":
            try:
                sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                return self._unreadable(path, role, exc)
            if len(parts) == 2 and parts[0] in OBJECTS:
                self.dirs[parts[0]].add(name)
            try:
                self._walk(sub, path)
            finally:
                os.close(sub)
        elif role == "index" and st.st_size == 0:
            self.index[path] = b""  # a marker: nothing to read
        elif role in ("doc", "index"):
            try:
                data = _read(fd, name)
            except OSError as exc:
                return self._unreadable(path, role, exc)
            if data is not None and role == "doc":
                self._document(path, parts, data)
            elif data is not None:
                self.index[path] = data

    def _unsafe(self, path: str, what: str) -> None:
        parts = path.split("/")
        role = next((r for r in (_place(parts, True), _place(parts, False)) if r in _ROLES), "")
        self._hide(path, role)
        self.add("unsafe-entry", path, _obj(parts), f"{what}; never followed")

    def _unreadable(self, path: str, role: str, exc: OSError) -> None:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EISDIR):
            return self._unsafe(path, "replaced by something else while it was read")
        self._hide(path, role)
        if not any(f.path == path and f.code == "bad-permissions" for f in self.findings):
            self.add("bad-permissions", path, _obj(path.split("/")), str(exc.strerror))

    def _hide(self, path: str, role: str) -> None:
        """Note a path the scan cannot look into: its object is damaged, not missing, and no
        index difference below it is reported (nor rebuilt)."""
        parts = path.split("/")
        self.hidden.append(path)
        if role == "doc":
            self.present.add(path)
        if _defines(parts) if role == "doc" else (role == "dir" and parts[0] in OBJECTS):
            self.damaged.add(_obj(parts))

    def _document(self, path: str, parts: list[str], data: bytes) -> None:
        self.present.add(path)
        code, message, doc = _decode(data)
        kind = _schema_kind(parts)
        if code is None:
            problems = schema.problems(kind, doc) + _unsafe_names(kind, doc)
            code, message = ("schema-violation", "; ".join(problems)) if problems else (None, "")
        if code is None and (wrong := _misplaced(parts, doc)):
            code, message = "misplaced-document", wrong
        if code is None:
            self.docs[path] = doc
            return
        self.add(code, path, _obj(parts), message)
        if _defines(parts):
            self.damaged.add(_obj(parts))

    # -- relations between documents, and the index they imply ------------------------------

    def _relate(self) -> None:
        ctrs = {i: Container(c) for i, c in self._objects("containers").items()}
        pods = {i: Pod(c) for i, c in self._objects("pods").items()}
        vols = self._objects("volumes")
        # A hostile top-level directory hides objects: that finding explains the differences.
        partial = any(_TOP.get(p) == "dir" for p in self.hidden)
        for cid, ctr in ctrs.items():
            self.expected |= container_entries(ctr)
            for dep in ctr.dependencies():
                if dep not in ctrs and not partial:
                    msg = f"depends on {dep}, which is not a container: restore it or remove {cid}"
                    self.add("dangling-dependency", _cfg("containers", cid), cid, msg)
            if ctr.pod_id and ctr.pod_id not in pods and not partial:
                msg = (
                    f"member of pod {ctr.pod_id}, which does not exist: restore the pod, or "
                    f"move containers/{cid} into quarantine/ by hand and run fsck --repair"
                )
                self.add("dangling-pod-member", _cfg("containers", cid), cid, msg)
            for vol in ctr.named_volumes():
                if vol not in vols and not partial:
                    msg = f"mounts volume {vol}, which does not exist: create it or remove {cid}"
                    self.add("dangling-volume-user", _cfg("containers", cid), cid, msg)
        for pod in pods.values():
            self.expected |= pod_entries(pod)
        for path, doc in self.docs.items():
            if path.startswith("exec/"):
                sid, cid = doc["id"], doc["containerId"]
                self.expected[f"{L.exec_index(cid)}/{sid}"] = b""
                if cid not in ctrs and not partial:
                    msg = f"registered to container {cid}, which does not exist"
                    self.add("dangling-exec-session", path, sid, msg)
        self._names(ctrs, pods)
        if not partial:
            self._compare_index()

    def _objects(self, top: str) -> dict[str, dict[str, Any]]:
        """The configs of the objects of one kind, reporting directories without one."""
        found: dict[str, dict[str, Any]] = {}
        for oid in sorted(self.dirs[top]):
            config, state, *_ = docs = [f"{top}/{oid}/{d}.json" for d in OBJECTS[top]]
            if config in self.docs:
                found[oid] = self.docs[config]
                if state not in self.present and top != "volumes":  # old volumes have none
                    self.add("missing-state", state, oid, f"the {_KIND[top]} has no state")
            elif not self.present.intersection(docs):
                self.add("orphan-directory", f"{top}/{oid}", oid, "a directory with no documents")
                self.damaged.add(oid)
            elif config not in self.present:
                self.add("missing-config", config, oid, f"the {_KIND[top]} has no config")
                self.damaged.add(oid)
        return found

    def _names(self, ctrs: dict[str, Container], pods: dict[str, Pod]) -> None:
        """Give each name one owner (the one the index names, else the least); report the rest."""
        claims: dict[str, list[tuple[str, str]]] = {}
        for kind, objs in ((CONTAINER, ctrs), (POD, pods)):
            for oid, obj in objs.items():
                claims.setdefault(obj.name, []).append((kind, oid))
        for name, owners in claims.items():
            held = _pair(self.index.get(L.name_index(name), b""))
            owner = held if held in owners else min(owners)
            self.expected[L.name_index(name)] = codec.encode({"kind": owner[0], "id": owner[1]})
            for kind, oid in owners:
                if (kind, oid) != owner:
                    msg = f"name {name} is also held by {owner[0]} {owner[1]}: rename one of them"
                    self.add("name-clash", _cfg(f"{kind}s", oid), oid, msg)
        for pid in sorted(set(ctrs) & set(pods)):
            msg = f"ID {pid} is both a container and a pod: remove one of them"
            self.add("name-clash", _cfg("pods", pid), pid, msg)

    def _compare_index(self) -> None:
        for path in sorted(self.expected.keys() - self.index.keys()):
            if not any(path.startswith(h + "/") for h in self.hidden):
                owner = _owner(path, self.expected[path])
                self.add("missing-index-entry", path, owner, "absent; the documents imply it")
        for path in sorted(self.index.keys() - self.expected.keys()):
            owner = _owner(path, self.index[path])
            if owner not in self.damaged:
                self.add("extra-index-entry", path, owner, "no document implies it")
        for path in sorted(self.index.keys() & self.expected.keys()):
            if not same_entry(self.index[path], self.expected[path]):
                owner = _owner(path, self.expected[path])
                self.add("stale-index-entry", path, owner, "its contents differ from the documents")


def same_entry(actual: bytes, expected: bytes) -> bool:
    """An index file holds what is expected (a name entry may be spelt differently)."""
    return actual == expected or (bool(expected) and _json(actual) == _json(expected))


def _place(parts: list[str], is_dir: bool) -> str:
    """The role of a path in the layout (one of ``_ROLES``), or the finding code it earns."""
    top, depth, name = parts[0], len(parts), parts[-1]
    if depth == 1:
        role = _TOP.get(name, "")
        return role if role and (role in ("dir", "skip")) == is_dir else "unexpected-entry"
    if not L.is_valid_name(_exec_sid(name) if top == "exec" else name):
        return "invalid-name"
    if top in OBJECTS:
        if depth == 2:
            return "dir" if is_dir else "unexpected-entry"
        docs = {f"{d}.json" for d in OBJECTS[top]}
        return "doc" if depth == 3 and not is_dir and name in docs else "unexpected-entry"
    if top == "exec":
        return "unexpected-entry" if is_dir else "doc"
    other = "unexpected-entry" if is_dir else "extra-index-entry"
    shape, below = _INDEX.get(parts[1]), depth - 3  # position of ``name`` within the shape
    if shape is None or below >= len(shape):
        return other
    if below < 0:
        return "dir" if is_dir else other
    if shape[below] == "k" and name not in ("containers", "pods"):
        return other
    if (shape[below] != "f") != is_dir:
        return other
    return "dir" if is_dir else "index"


def _exec_sid(name: str) -> str:
    """The session ID an ``exec/`` file name stands for (``""`` when none)."""
    prefix, suffix = L.exec_doc("\0").split("\0")
    rel = f"exec/{name}"
    ok = rel.startswith(prefix) and rel.endswith(suffix) and len(rel) > len(prefix + suffix)
    return rel[len(prefix) : len(rel) - len(suffix)] if ok else ""


def _defines(parts: list[str]) -> bool:
    """Whether the document at ``parts`` is the one an object stands or falls with."""
    return parts[0] == "exec" or (parts[0] in OBJECTS and parts[2:] == ["config.json"])


def _cfg(top: str, oid: str) -> str:
    return f"{top}/{oid}/config.json"


def _obj(parts: list[str]) -> str:
    if parts[0] == "exec" and len(parts) == 2:
        return _exec_sid(parts[1]) or parts[1]
    if parts[0] == "index" and len(parts) > 2:
        return parts[-1]
    return parts[1] if parts[0] in OBJECTS and len(parts) > 1 else ""


def _owner(path: str, data: bytes) -> str:
    """The object an index entry stands for: a name entry's ``id``, else its last component."""
    if path.startswith("index/names/"):
        held = _pair(data)
        return held[1] if held else ""
    return path.rsplit("/", 1)[-1]


def _schema_kind(parts: list[str]) -> str:
    if parts[0] == L.DBCONFIG:
        return "db-config"
    if parts[0] == "exec":
        return "exec-session"
    doc = parts[2].removesuffix(".json")
    return "networks" if doc == "networks" else f"{_KIND[parts[0]]}-{doc}"


def _decode(data: bytes) -> tuple[str | None, str, Any]:
    """``(code, message, document)``; code ``None`` when ``data`` is JSON."""
    if not data:
        return "empty-document", "zero-length file", None
    if not data.strip(b" \t\r\n\x00"):
        return "nul-document", "NUL-filled file", None
    try:
        return None, "", codec.decode(data, "")
    except CorruptDocumentError:
        pass
    try:
        json.loads(data.rstrip(b" \t\r\n\x00").decode("utf-8"))
        return "invalid-json", "JSON followed by NUL bytes", None
    except UnicodeDecodeError:
        return "invalid-json", "not UTF-8 text", None
    except json.JSONDecodeError as exc:
        if exc.pos >= len(exc.doc) or exc.msg.startswith("Unterminated string"):
            return "truncated-document", f"JSON cut short ({exc.msg})", None
        return "invalid-json", f"not JSON ({exc.msg} at character {exc.pos})", None


def _unsafe_names(kind: str, doc: Any) -> list[str]:
    """Values the store turns into paths that the schemas leave untyped (API.md Decision 10)."""
    if kind not in ("container-config", "pod-config") or not isinstance(doc, dict):
        return []
    values = {"/namespace": doc.get("namespace") or ""}
    if kind == "container-config":
        values |= {f"/namedVolumes ({v!r})": v for v in Container(doc).named_volumes()}
    return [f"{p}: {v!r} is not a name" for p, v in values.items() if v and not L.is_valid_name(v)]


def _misplaced(parts: list[str], doc: dict[str, Any]) -> str:
    if parts[0] == "exec":
        key, want = "id", _exec_sid(parts[1])
    elif len(parts) == 3 and parts[2] == "config.json":
        key, want = ("name" if parts[0] == "volumes" else "id"), parts[1]
    else:
        return ""
    return f"its {key} is {doc.get(key)!r}, not {want!r}" if doc.get(key) != want else ""


def _json(data: bytes) -> Any:
    try:
        return codec.decode(data, "")
    except CorruptDocumentError:
        return None


def _pair(data: bytes) -> tuple[str, str] | None:
    """``(kind, id)`` of a name entry, ``None`` when it is not one."""
    held = _json(data)
    if isinstance(held, dict) and isinstance(held.get("kind"), str):
        return held["kind"], str(held.get("id"))
    return None


def _read(dfd: int, name: str) -> bytes | None:
    """The bytes of regular file ``name`` in ``dfd``; ``None`` when absent; ``OSError`` when it
    is a symlink (``O_NOFOLLOW``: ELOOP) or not a regular file."""
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dfd)
    except FileNotFoundError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise IsADirectoryError(name)
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _f(code: str, path: str, message: str, *, obj: str = "", repairable: bool = True) -> Finding:
    return Finding(
        code, obj, path, f"{path or '.'}: {message}", repairable and code not in NOT_REPAIRABLE
    )
