"""Import from and export to Podman's own state databases.

Podman keeps its libpod State in one of two files (``spec/podman-db-format.md``):

* ``db.sql`` — SQLite, schema version 1 (Podman 4.8 and later; the default since 5.0). Each
  object is a JSON document in a ``JSON`` column. The other columns (``Name``, ``PodID``,
  ``State``, ``ExitCode``, ``InfraContainerID``, ``StorageID``) are indexes Podman itself lets
  go stale, so the importer reads only the JSON documents and the link tables, and the
  exporter fills the index columns from the documents the way Podman does at insert.
* ``bolt_state.db`` — BoltDB (Podman up to 4.x), read through :mod:`fsstate.bolt`.

Import runs in two phases. First the file is read and checked completely into a
:class:`_Snapshot` without touching the store: every document parsed, every reference
resolved, every name clash found. Then everything is added inside one
``state.transaction()``, so the target store gets all of it or none of it. The source file is
opened read-only (SQLite ``mode=ro``; the Bolt reader opens it ``rb``) and never changes.

JSON documents travel as parsed dicts, which keep their key order, and are written back the way
Go's ``encoding/json`` writes them (:func:`go_json`), so a document survives
``db.sql`` → fsstate → ``db.sql`` byte for byte.
"""

from __future__ import annotations

import heapq
import json
import os
import sqlite3
import struct
import tempfile
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from fsstate import codec
from fsstate.errors import (
    CorruptDocumentError,
    InternalError,
    InvalidArgumentError,
    LockTimeoutError,
    StateError,
)
from fsstate.model import Container, DBConfig, ExecSession, Pod, Volume

if TYPE_CHECKING:
    from fsstate.bolt import Bucket
    from fsstate.state import FileState

__all__ = [
    "ImportReport",
    "RenamedPod",
    "detect_format",
    "export_db",
    "go_json",
    "import_bolt",
    "import_db",
    "import_file",
]

#: ``progress(what, done, total)``: called while importing or exporting objects.
ProgressFn = Callable[[str, int, int], None]
StrPath = str | os.PathLike[str]

SCHEMA_VERSION = 1
_SQLITE_MAGIC = b"SQLite format 3\x00"
# bbolt meta page magic 0xED0CDAED right after the 16-byte page header; little-endian on
# every platform Podman ships for but s390x, hence both byte orders when sniffing.
_BOLT_MAGICS = (b"\xed\xda\x0c\xed", b"\xed\x0c\xda\xed")
_BUSY_TIMEOUT = 100.0  # seconds, as Podman's own default busy timeout

# Podman's tables, with the DDL text of a real Podman-written db.sql (whitespace included), so
# an exported file's sqlite_master reads like Podman's own. Podman creates them from a Go map,
# so its table order is random; this is the order of the real file.
_TABLES: dict[str, str] = {
    "IDNamespace": """CREATE TABLE IDNamespace(
                ID TEXT PRIMARY KEY NOT NULL
        )""",
    "ContainerConfig": """CREATE TABLE ContainerConfig(
                ID              TEXT    PRIMARY KEY NOT NULL,
                Name            TEXT    UNIQUE NOT NULL,
                PodID           TEXT,
                JSON            TEXT    NOT NULL,
                FOREIGN KEY (ID)    REFERENCES IDNamespace(ID)    DEFERRABLE INITIALLY DEFERRED,
                FOREIGN KEY (ID)    REFERENCES ContainerState(ID) DEFERRABLE INITIALLY DEFERRED,
                FOREIGN KEY (PodID) REFERENCES PodConfig(ID)
        )""",
    "ContainerExitCode": """CREATE TABLE ContainerExitCode(
                ID        TEXT    PRIMARY KEY NOT NULL,
                Timestamp INTEGER NOT NULL,
                ExitCode  INTEGER NOT NULL,
                CHECK (ExitCode BETWEEN -1 AND 255)
        )""",
    "PodConfig": """CREATE TABLE PodConfig(
                ID              TEXT    PRIMARY KEY NOT NULL,
                Name            TEXT    UNIQUE NOT NULL,
                JSON            TEXT    NOT NULL,
                FOREIGN KEY (ID) REFERENCES IDNamespace(ID) DEFERRABLE INITIALLY DEFERRED,
                FOREIGN KEY (ID) REFERENCES PodState(ID)    DEFERRABLE INITIALLY DEFERRED
        )""",
    "PodState": """CREATE TABLE PodState(
                ID               TEXT PRIMARY KEY NOT NULL,
                InfraContainerID TEXT,
                JSON             TEXT NOT NULL,
                FOREIGN KEY (ID)               REFERENCES PodConfig(ID)       DEFERRABLE INITIALLY DEFERRED,
                FOREIGN KEY (InfraContainerID) REFERENCES ContainerConfig(ID) DEFERRABLE INITIALLY DEFERRED
        )""",  # noqa: E501 (Podman's own text)
    "VolumeConfig": """CREATE TABLE VolumeConfig(
                Name            TEXT    PRIMARY KEY NOT NULL,
                StorageID       TEXT,
                JSON            TEXT    NOT NULL,
                FOREIGN KEY (Name) REFERENCES VolumeState(Name) DEFERRABLE INITIALLY DEFERRED
        )""",
    "DBConfig": """CREATE TABLE DBConfig(
                ID            INTEGER PRIMARY KEY NOT NULL,
                SchemaVersion INTEGER NOT NULL,
                OS            TEXT    NOT NULL,
                StaticDir     TEXT    NOT NULL,
                TmpDir        TEXT    NOT NULL,
                GraphRoot     TEXT    NOT NULL,
                RunRoot       TEXT    NOT NULL,
                GraphDriver   TEXT    NOT NULL,
                VolumeDir     TEXT    NOT NULL,
                CHECK (ID IN (1))
        )""",
    "ContainerExecSession": """CREATE TABLE ContainerExecSession(
                ID          TEXT PRIMARY KEY NOT NULL,
                ContainerID TEXT NOT NULL,
                FOREIGN KEY (ContainerID) REFERENCES ContainerConfig(ID)
        )""",
    "ContainerDependency": """CREATE TABLE ContainerDependency(
                ID           TEXT NOT NULL,
                DependencyID TEXT NOT NULL,
                PRIMARY KEY (ID, DependencyID),
                FOREIGN KEY (ID)           REFERENCES ContainerConfig(ID) DEFERRABLE INITIALLY DEFERRED,
                FOREIGN KEY (DependencyID) REFERENCES ContainerConfig(ID),
                CHECK (ID <> DependencyID)
        )""",  # noqa: E501 (Podman's own text)
    "ContainerVolume": """CREATE TABLE ContainerVolume(
                ContainerID TEXT NOT NULL,
                VolumeName  TEXT NOT NULL,
                PRIMARY KEY (ContainerID, VolumeName),
                FOREIGN KEY (ContainerID) REFERENCES ContainerConfig(ID) DEFERRABLE INITIALLY DEFERRED,
                FOREIGN KEY (VolumeName)  REFERENCES VolumeConfig(Name)
        )""",  # noqa: E501 (Podman's own text)
    "VolumeState": """CREATE TABLE VolumeState(
                Name TEXT PRIMARY KEY NOT NULL,
                JSON TEXT NOT NULL,
                FOREIGN KEY (Name) REFERENCES VolumeConfig(Name) DEFERRABLE INITIALLY DEFERRED
        )""",
    "ContainerState": """CREATE TABLE ContainerState(
                ID       TEXT    PRIMARY KEY NOT NULL,
                State    INTEGER NOT NULL,
                ExitCode INTEGER,
                JSON     TEXT    NOT NULL,
                FOREIGN KEY (ID) REFERENCES ContainerConfig(ID) DEFERRABLE INITIALLY DEFERRED,
                CHECK (ExitCode BETWEEN -1 AND 255)
        )""",
}

# What Podman writes in ContainerState.State / .ExitCode: the values at insert time
# (configured, 0). It never updates them; readers take the state from the JSON.
_INSERT_STATE, _INSERT_EXIT_CODE = 1, 0


# -- reports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenamedPod:
    """A pod renamed on import because a container had its name."""

    id: str
    old_name: str
    new_name: str


@dataclass
class ImportReport:
    """What an import added to the store, and what it left out or changed."""

    source: str
    format: Literal["sqlite", "bolt"]
    containers: int = 0
    pods: int = 0
    volumes: int = 0
    exec_sessions: int = 0
    db_config_pinned: bool = False
    renamed_pods: list[RenamedPod] = field(default_factory=list)
    #: Data the source holds that the State has no place for (exit codes, …), one line each.
    skipped: list[str] = field(default_factory=list)
    #: Inconsistencies between the source's derived data and its documents, one line each.
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as human-readable lines (the CLI prints them)."""
        out = [
            f"imported {self.containers} containers, {self.pods} pods, {self.volumes} volumes "
            f"and {self.exec_sessions} exec sessions from {self.source} ({self.format})"
        ]
        out += [f"renamed pod {r.id}: {r.old_name} -> {r.new_name}" for r in self.renamed_pods]
        out += [f"skipped: {s}" for s in self.skipped]
        out += [f"warning: {w}" for w in self.warnings]
        return out


@dataclass
class _Snapshot:
    """Everything one source file holds, checked, before any of it reaches the store."""

    path: str
    format: Literal["sqlite", "bolt"]
    db_config: DBConfig | None = None
    volumes: list[Volume] = field(default_factory=list)
    pods: list[Pod] = field(default_factory=list)
    containers: list[Container] = field(default_factory=list)
    exec_sessions: list[ExecSession] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# -- Go-compatible JSON ----------------------------------------------------------------------

# Go's encoding/json escapes these even inside otherwise raw UTF-8 strings (HTML safety, and
# the two JavaScript line terminators). They can only occur inside strings, so translating the
# encoded text is safe.
_GO_ESCAPES = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


def go_json(doc: Any) -> str:
    """``doc`` as Go's ``encoding/json.Marshal`` writes it (Podman's JSON columns): compact,
    keys in the given order, non-ASCII raw, ``<``/``>``/``&`` escaped."""
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_GO_ESCAPES)


def _parse_object(raw: object, path: str, where: str) -> dict[str, Any]:
    """Parse one JSON document (through :mod:`fsstate.codec`, the store's own decoder);
    ``where`` names its table/bucket and row for errors."""
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if not isinstance(data, bytes):
        raise CorruptDocumentError(
            f"{path}: {where}: expected JSON text, found {type(raw).__name__}",
            path=path,
            where=where,
        )
    try:
        doc = codec.decode(data, where)
    except CorruptDocumentError as exc:
        raise CorruptDocumentError(f"{path}: {exc.message}", path=path, where=where) from None
    if not isinstance(doc, dict):
        raise CorruptDocumentError(
            f"{path}: {where}: expected a JSON object, found {type(doc).__name__}",
            path=path,
            where=where,
        )
    return doc


# -- file sniffing ---------------------------------------------------------------------------


def _read_head(path: str, size: int = 100) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except FileNotFoundError:
        raise InvalidArgumentError(f"{path}: no such file", path=path) from None
    except IsADirectoryError:
        raise InvalidArgumentError(f"{path}: is a directory", path=path) from None
    except OSError as exc:
        raise InvalidArgumentError(f"{path}: cannot read: {exc.strerror}", path=path) from None


def detect_format(path: StrPath) -> Literal["sqlite", "bolt"]:
    """``"sqlite"`` for a ``db.sql``, ``"bolt"`` for a ``bolt_state.db``, by magic bytes.

    Raises :class:`InvalidArgumentError` if the file is missing or is neither.
    """
    spath = os.fspath(path)
    head = _read_head(spath)
    if head.startswith(_SQLITE_MAGIC):
        return "sqlite"
    if head[16:20] in _BOLT_MAGICS:
        return "bolt"
    raise InvalidArgumentError(
        f"{spath}: neither a SQLite database (db.sql) nor a BoltDB file (bolt_state.db)",
        path=spath,
    )


# -- import: entry points --------------------------------------------------------------------


def import_file(
    path: StrPath,
    state: FileState,
    *,
    rename_pods_on_clash: bool = False,
    progress: ProgressFn | None = None,
) -> ImportReport:
    """:func:`import_db` or :func:`import_bolt`, chosen by the file's magic bytes."""
    if detect_format(path) == "bolt":
        return import_bolt(
            path, state, rename_pods_on_clash=rename_pods_on_clash, progress=progress
        )
    return import_db(path, state, rename_pods_on_clash=rename_pods_on_clash, progress=progress)


def import_db(
    db_path: StrPath,
    state: FileState,
    *,
    rename_pods_on_clash: bool = False,
    progress: ProgressFn | None = None,
) -> ImportReport:
    """Add everything in Podman's ``db.sql`` to ``state``, all or nothing.

    Adds every volume (config and state), pod, container (config and state; depended-on
    containers first) and exec-session registration, and pins the file's DBConfig with
    ``state.validate_db_config``. The file is opened read-only and never changes.

    Errors (nothing is added when any is raised):

    * :class:`InvalidArgumentError` — the file is missing or not a SQLite file, is not a
      Podman database, has a schema version other than 1, or a container and a pod share a
      name and ``rename_pods_on_clash`` is false (the message names both objects).
    * :class:`CorruptDocumentError` — the file is truncated or damaged, a JSON column does not
      parse (the message names the table and row), or rows point at objects that are missing.
    * :class:`LockTimeoutError` — Podman held the database locked for the whole busy timeout.
    * any :class:`StateError` the store raises while adding (an object already in the store,
      a DBConfig mismatch …), its message prefixed with the file name.
    """
    path = os.fspath(db_path)
    snap = _read_sqlite(path)
    return _import(snap, state, rename_pods_on_clash, progress)


def import_bolt(
    bolt_path: StrPath,
    state: FileState,
    *,
    rename_pods_on_clash: bool = False,
    progress: ProgressFn | None = None,
) -> ImportReport:
    """:func:`import_db` for a legacy ``bolt_state.db``.

    Reads the ``ctr``, ``pod``, ``vol``, ``exec`` and ``runtime-config`` buckets; the networks
    of each container (its ``networks`` sub-bucket) go back into its config as
    ``newNetworks``, as Podman's Bolt-to-SQLite migration does. Exit codes are not part of the
    State and are skipped (listed in the report). Same errors as :func:`import_db`; a damaged
    file raises :class:`CorruptDocumentError` naming the page.
    """
    path = os.fspath(bolt_path)
    snap = _read_bolt(path)
    return _import(snap, state, rename_pods_on_clash, progress)


def _import(
    snap: _Snapshot, state: FileState, rename: bool, progress: ProgressFn | None
) -> ImportReport:
    ordered = _check(snap, rename)
    report = ImportReport(snap.path, snap.format, skipped=snap.skipped, warnings=snap.warnings)
    try:
        with state.transaction():
            _add_all(snap, ordered, state, rename, report, progress)
    except StateError as exc:
        if snap.path in str(exc):
            raise
        raise _in_context(exc, f"importing {snap.path}") from exc
    return report


def _in_context(exc: StateError, prefix: str) -> StateError:
    """The same error class and fields, its message prefixed (callers match on the class)."""
    return type(exc)(f"{prefix}: {exc.message}", **exc.fields)


# -- import: checks shared by both formats ---------------------------------------------------


class _Problems:
    """Every problem found in a source file, so one error can list them all."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.corrupt: list[str] = []
        self.invalid: list[str] = []

    def raise_any(self) -> None:
        for cls, found in (
            (CorruptDocumentError, self.corrupt),
            (InvalidArgumentError, self.invalid),
        ):
            if found:
                shown = found[:10] + ([f"and {len(found) - 10} more"] if len(found) > 10 else [])
                raise cls(f"{self.path}: {'; '.join(shown)}", path=self.path)


def _check(snap: _Snapshot, rename: bool) -> list[Container]:
    """Check the snapshot is self-consistent; return its containers in insertion order."""
    problems = _Problems(snap.path)
    ctrs = {c.id: c for c in snap.containers}
    pods = {p.id: p for p in snap.pods}
    vols = {v.name for v in snap.volumes}
    for shared in sorted(ctrs.keys() & pods.keys()):
        problems.corrupt.append(f"ID {shared} belongs to both a container and a pod")
    for ctr in snap.containers:
        _check_container(ctr, ctrs, pods, vols, problems)
    for sess in snap.exec_sessions:
        if sess.container_id not in ctrs:
            problems.corrupt.append(
                f"exec session {sess.id} belongs to container {sess.container_id}, "
                "which is not in the database"
            )
    if not rename:
        _check_name_clashes(snap, problems)
    problems.raise_any()
    ordered = _dependency_order(snap.containers, problems)
    problems.raise_any()
    return ordered


def _check_container(
    ctr: Container,
    ctrs: Mapping[str, Container],
    pods: Mapping[str, Pod],
    vols: set[str],
    problems: _Problems,
) -> None:
    what = f"container {ctr.id} ({ctr.name})"
    if ctr.pod_id and ctr.pod_id not in pods:
        problems.corrupt.append(f"{what} is in pod {ctr.pod_id}, which is not in the database")
    for dep in ctr.dependencies():
        if dep == ctr.id:
            problems.invalid.append(f"{what} depends on itself, which fsstate refuses")
        elif dep not in ctrs:
            problems.corrupt.append(
                f"{what} depends on container {dep}, which is not in the database"
            )
    for vol in _named_volumes(ctr.config):
        if vol not in vols:
            problems.corrupt.append(f"{what} mounts volume {vol}, which is not in the database")


def _check_name_clashes(snap: _Snapshot, problems: _Problems) -> None:
    by_name = {c.name: c for c in snap.containers}
    for pod in snap.pods:
        ctr = by_name.get(pod.name)
        if ctr is not None:
            problems.invalid.append(
                f"container {ctr.id} ({ctr.name}) and pod {pod.id} ({pod.name}) share the name "
                f"{pod.name!r}, but fsstate keeps one name registry for containers and pods "
                "(rename the pod, or import with rename_pods_on_clash / --rename-pods-on-clash)"
            )


def _dependency_order(containers: list[Container], problems: _Problems) -> list[Container]:
    """Containers with every dependency before its dependents; among the ready ones the
    smallest ID first, so the order is deterministic (Kahn's algorithm over a heap)."""
    by_id = {c.id: c for c in containers}
    waiting = {c.id: {d for d in c.dependencies() if d in by_id and d != c.id} for c in containers}
    dependents: dict[str, list[str]] = {}
    for cid, deps in waiting.items():
        for dep in deps:
            dependents.setdefault(dep, []).append(cid)
    ready = [cid for cid, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    ordered: list[Container] = []
    while ready:
        cid = heapq.heappop(ready)
        ordered.append(by_id[cid])
        for dependent in dependents.get(cid, ()):
            waiting[dependent].discard(cid)
            if not waiting[dependent]:
                heapq.heappush(ready, dependent)
    stuck = sorted(set(by_id) - {c.id for c in ordered})
    if stuck:
        problems.corrupt.append(f"containers {', '.join(stuck)} depend on each other in a cycle")
    return ordered


def _named_volumes(config: Mapping[str, Any]) -> list[str]:
    """Distinct ``namedVolumes[].volumeName`` values, sorted (``spec/podman-state.md`` §2.6)."""
    entries = config.get("namedVolumes")
    if not isinstance(entries, list):
        return []
    names = {e.get("volumeName") for e in entries if isinstance(e, Mapping)}
    return sorted(n for n in names if isinstance(n, str) and n)


# -- import: adding to the store -------------------------------------------------------------


def _add_all(
    snap: _Snapshot,
    ordered: list[Container],
    state: FileState,
    rename: bool,
    report: ImportReport,
    progress: ProgressFn | None,
) -> None:
    """Add the snapshot; the caller holds ``state.transaction()``."""
    if rename:
        report.renamed_pods = _rename_clashing_pods(snap, state)
    if snap.db_config is not None:
        state.validate_db_config(snap.db_config)
        report.db_config_pinned = True
    total = len(snap.volumes) + len(snap.pods) + len(ordered) + len(snap.exec_sessions)
    tick = _ticker("importing", total, progress)
    for vol in snap.volumes:
        state.add_volume(vol)
        report.volumes += 1
        tick()
    pods = {}
    for pod in snap.pods:
        state.add_pod(pod)
        pods[pod.id] = pod
        report.pods += 1
        tick()
    ctrs = {}
    for ctr in ordered:
        if ctr.pod_id:
            state.add_container_to_pod(pods[ctr.pod_id], ctr)
        else:
            state.add_container(ctr)
        ctrs[ctr.id] = ctr
        report.containers += 1
        tick()
    for sess in snap.exec_sessions:
        state.add_exec_session(ctrs[sess.container_id], sess)
        report.exec_sessions += 1
        tick()


def _rename_clashing_pods(snap: _Snapshot, state: FileState) -> list[RenamedPod]:
    """Give every pod whose name a container holds (in the file or the store) a free name:
    ``<name>-pod``, then ``<name>-pod-2``, ``-pod-3`` …; the pod's config is changed."""
    ctr_names = {c.name for c in snap.containers} | {c.name for c in state.all_containers()}
    taken = ctr_names | {p.name for p in snap.pods} | {p.name for p in state.all_pods()}
    renamed = []
    for pod in snap.pods:
        if pod.name not in ctr_names:
            continue
        new, n = f"{pod.name}-pod", 1
        while new in taken:
            n += 1
            new = f"{pod.name}-pod-{n}"
        taken.add(new)
        renamed.append(RenamedPod(pod.id, pod.name, new))
        pod.config["name"] = new  # same key, so the config keeps its key order
    return renamed


def _ticker(what: str, total: int, progress: ProgressFn | None) -> Callable[[], None]:
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(what, done, total)

    return tick


# -- import: SQLite --------------------------------------------------------------------------


def _sqlite_error(path: str, exc: sqlite3.Error) -> StateError:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (5, 6):  # SQLITE_BUSY, SQLITE_LOCKED
        return LockTimeoutError(f"{path}: database is locked by another process", path=path)
    if code is not None and code & 0xFF == 14:  # SQLITE_CANTOPEN
        return InvalidArgumentError(f"{path}: cannot open the database ({exc})", path=path)
    return CorruptDocumentError(f"{path}: damaged SQLite database ({exc})", path=path)


def _check_sqlite_header(path: str) -> None:
    """The magic, and the size the header promises (SQLite itself reads the missing tail of a
    truncated file as zeros and may not notice)."""
    head = _read_head(path)
    if not head.startswith(_SQLITE_MAGIC):
        raise InvalidArgumentError(f"{path}: not a SQLite database", path=path)
    if len(head) < 100:
        raise CorruptDocumentError(f"{path}: truncated SQLite header", path=path)
    raw_size, change, pages, valid_for = (
        struct.unpack_from(">H", head, 16)[0],
        *struct.unpack_from(">I", head, 24),
        *struct.unpack_from(">I", head, 28),
        *struct.unpack_from(">I", head, 92),
    )
    page_size = 65536 if raw_size == 1 else raw_size
    if change != valid_for or pages == 0:
        return  # the in-header size is not maintained: SQLite uses the file size
    size = os.path.getsize(path)
    if size < pages * page_size:
        raise CorruptDocumentError(
            f"{path}: truncated SQLite file: the header promises {pages} pages of {page_size} "
            f"bytes ({pages * page_size} bytes) but the file has {size} bytes",
            path=path,
        )


def _read_sqlite(path: str) -> _Snapshot:
    _check_sqlite_header(path)
    uri = f"file:{urllib.parse.quote(os.path.abspath(path))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=_BUSY_TIMEOUT, isolation_level=None)
    except sqlite3.Error as exc:
        raise _sqlite_error(path, exc) from None
    with closing(conn):
        try:
            conn.execute("BEGIN")  # one read transaction: a consistent snapshot
            return _SQLiteSource(path, conn).read()
        except sqlite3.Error as exc:
            raise _sqlite_error(path, exc) from None


class _SQLiteSource:
    """Reads one open ``db.sql`` into a snapshot."""

    def __init__(self, path: str, conn: sqlite3.Connection) -> None:
        self.path, self.conn = path, conn
        self.snap = _Snapshot(path, "sqlite")

    def read(self) -> _Snapshot:
        self._integrity()
        self._tables()
        self._db_config()
        self._volumes()
        self._pods()
        self._containers()
        self._exec_sessions()
        self._cross_check_links()
        self._exit_codes()
        return self.snap

    def _fail(self, message: str) -> NoReturn:
        raise CorruptDocumentError(f"{self.path}: {message}", path=self.path)

    def _integrity(self) -> None:
        rows = [r[0] for r in self.conn.execute("PRAGMA quick_check")]
        if rows != ["ok"]:
            self._fail(f"damaged SQLite database: {'; '.join(map(str, rows[:5]))}")

    def _tables(self) -> None:
        have = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master")}
        missing = [t for t in _TABLES if t not in have]
        if missing:
            raise InvalidArgumentError(
                f"{self.path}: not a Podman state database (no table {', '.join(missing)})",
                path=self.path,
            )

    def _db_config(self) -> None:
        rows = self.conn.execute(
            "SELECT SchemaVersion, StaticDir, TmpDir, GraphRoot, RunRoot, GraphDriver, "
            "VolumeDir FROM DBConfig WHERE ID = 1"
        ).fetchall()
        if not rows:
            self.snap.warnings.append("DBConfig has no row: the store's DBConfig is not pinned")
            return
        version, *paths = rows[0]
        if version != SCHEMA_VERSION:
            raise InvalidArgumentError(
                f"{self.path}: schema version {version!r} is not supported (fsstate reads "
                f"Podman's db.sql schema version {SCHEMA_VERSION})",
                path=self.path,
            )
        if not all(isinstance(p, str) for p in paths):
            self._fail("DBConfig row 1: a path column is not text")
        self.snap.db_config = DBConfig(*paths)

    def _rows(self, sql: str) -> Iterator[tuple[Any, ...]]:
        yield from self.conn.execute(sql)

    def _volumes(self) -> None:
        for name, config_json, state_json in self._rows(
            "SELECT c.Name, c.JSON, s.JSON FROM VolumeConfig c "
            "LEFT JOIN VolumeState s ON s.Name = c.Name ORDER BY c.Name"
        ):
            config = self._doc(config_json, "VolumeConfig", name)
            self._same(config, "name", name, "VolumeConfig")
            state = None if state_json is None else self._doc(state_json, "VolumeState", name)
            self.snap.volumes.append(Volume(config, state))

    def _pods(self) -> None:
        for pid, config_json, state_json in self._rows(
            "SELECT c.ID, c.JSON, s.JSON FROM PodConfig c "
            "LEFT JOIN PodState s ON s.ID = c.ID ORDER BY c.ID"
        ):
            config = self._doc(config_json, "PodConfig", pid)
            self._same(config, "id", pid, "PodConfig")
            if state_json is None:
                self._fail(f"PodState has no row for pod {pid}")
            self.snap.pods.append(Pod(config, self._doc(state_json, "PodState", pid)))

    def _containers(self) -> None:
        for cid, pod_col, config_json, state_json in self._rows(
            "SELECT c.ID, c.PodID, c.JSON, s.JSON FROM ContainerConfig c "
            "LEFT JOIN ContainerState s ON s.ID = c.ID ORDER BY c.ID"
        ):
            config = self._doc(config_json, "ContainerConfig", cid)
            self._same(config, "id", cid, "ContainerConfig")
            if state_json is None:
                self._fail(f"ContainerState has no row for container {cid}")
            ctr = Container(config, self._doc(state_json, "ContainerState", cid))
            if (pod_col or "") != ctr.pod_id:
                self.snap.warnings.append(
                    f"ContainerConfig row {cid}: PodID column {pod_col!r} differs from the "
                    f"config's pod {ctr.pod_id!r}; the config wins"
                )
            self.snap.containers.append(ctr)

    def _exec_sessions(self) -> None:
        for sid, cid in self._rows("SELECT ID, ContainerID FROM ContainerExecSession ORDER BY ID"):
            self.snap.exec_sessions.append(ExecSession(sid, cid))

    def _cross_check_links(self) -> None:
        """Podman derives these tables from the configs at insert; say if they disagree."""
        deps = {(c.id, d) for c in self.snap.containers for d in c.dependencies()}
        rows = set(self._rows("SELECT ID, DependencyID FROM ContainerDependency"))
        if rows != deps:
            self.snap.warnings.append(
                "ContainerDependency rows differ from the configs' dependencies; the configs win"
            )
        uses = {(c.id, v) for c in self.snap.containers for v in _named_volumes(c.config)}
        if set(self._rows("SELECT ContainerID, VolumeName FROM ContainerVolume")) != uses:
            self.snap.warnings.append(
                "ContainerVolume rows differ from the configs' namedVolumes; the configs win"
            )

    def _exit_codes(self) -> None:
        (count,) = self.conn.execute("SELECT count(*) FROM ContainerExitCode").fetchone()
        if count:
            self.snap.skipped.append(
                f"ContainerExitCode: {count} exit code(s) not imported "
                "(fsstate's State keeps no exit codes)"
            )

    def _doc(self, raw: object, table: str, key: object) -> dict[str, Any]:
        return _parse_object(raw, self.path, f"table {table}, row {key}")

    def _same(self, doc: Mapping[str, Any], key: str, column: object, table: str) -> None:
        if doc.get(key) != column:
            self._fail(
                f"table {table}, row {column}: the JSON's {key} {doc.get(key)!r} differs "
                "from the row's key"
            )


# -- import: BoltDB --------------------------------------------------------------------------

# ContainerConfig keys that follow ``newNetworks`` in Go's struct order (libpod v5.8.2, up to
# ``createdTime``, which is never omitted): networks merged back from the Bolt ``networks``
# sub-bucket go before the first of them present.
_AFTER_NEW_NETWORKS = (
    "networks",
    "networkMode",
    "network_options",
    "userVolumes",
    "entrypoint",
    "command",
    "stdin",
    "labels",
    "stopSignal",
    "stopTimeout",
    "timeout",
    "createdTime",
)
# ContainerState keys that follow ``netns`` in Go's struct order (up to the first ones that
# are never omitted), from libpod v5.8.2.
_AFTER_NETNS = (
    "networkStatus",
    "bindMounts",
    "stoppedByUser",
    "restartPolicyMatch",
    "restartCount",
    "startupHCPassed",
    "startupHCSuccessCount",
    "startupHCFailureCount",
    "hcUnitName",
    "extensionStageHooks",
    "networkDescriptions",
    "Service",
    "checkpointedTime",
    "restoredTime",
)
_BOLT_SKIPPED = {
    b"exit-code": "exit code(s)",
    b"exit-code-time-stamp": "exit-code time stamp(s)",
}
_RUNTIME_CONFIG = (
    ("libpod_root", b"static-dir"),
    ("libpod_tmp", b"tmp-dir"),
    ("storage_root", b"graph-root"),
    ("storage_tmp", b"run-root"),
    ("graph_driver", b"graph-driver-name"),
    ("volume_path", b"volume-path"),
)


def _insert_before(doc: dict[str, Any], key: str, value: Any, before: Iterable[str]) -> None:
    """Set ``doc[key]``; a new key goes before the first of ``before`` present (Go order)."""
    if key in doc:
        doc[key] = value
        return
    anchor = next((k for k in before if k in doc), None)
    items = list(doc.items())
    at = len(items) if anchor is None else [k for k, _ in items].index(anchor)
    items.insert(at, (key, value))
    doc.clear()
    doc.update(items)


def _read_bolt(path: str) -> _Snapshot:
    from fsstate.bolt import BoltReader  # imported here: only Bolt imports need the reader

    if detect_format(path) != "bolt":
        raise InvalidArgumentError(f"{path}: not a BoltDB file (bolt_state.db)", path=path)
    try:
        with BoltReader(path) as reader:
            return _BoltSource(path, reader.root()).read()
    except OSError as exc:
        raise InvalidArgumentError(f"{path}: cannot read: {exc.strerror}", path=path) from None


class _BoltSource:
    """Reads one open ``bolt_state.db`` (its root bucket) into a snapshot."""

    def __init__(self, path: str, root: Bucket) -> None:
        self.path, self.root = path, root
        self.snap = _Snapshot(path, "bolt")

    def read(self) -> _Snapshot:
        top = {name for name, _ in self.root.buckets()}
        if not top & {b"ctr", b"pod", b"vol", b"id-registry"}:
            raise InvalidArgumentError(
                f"{self.path}: not a Podman bolt_state.db (no ctr, pod or vol bucket)",
                path=self.path,
            )
        self._runtime_config()
        self._volumes()
        self._pods()
        self._containers()
        self._exec_sessions()
        for name, what in _BOLT_SKIPPED.items():
            count = sum(1 for _ in self._top(name).items()) if name in top else 0
            if count:
                self.snap.skipped.append(
                    f"{name.decode()}: {count} {what} not imported "
                    "(fsstate's State keeps no exit codes)"
                )
        return self.snap

    def _top(self, name: bytes) -> Bucket:
        found = self.root.bucket(name)
        if found is None:
            raise self._corrupt(f"bucket {name.decode()} disappeared")
        return found

    def _sub_buckets(self, name: bytes) -> Iterator[tuple[str, Bucket]]:
        top = self.root.bucket(name)
        if top is not None:
            for key, bucket in top.buckets():
                yield self._text(key, name.decode()), bucket

    def _corrupt(self, message: str) -> CorruptDocumentError:
        return CorruptDocumentError(f"{self.path}: {message}", path=self.path)

    def _text(self, raw: bytes, where: str) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self._corrupt(f"{where}: {raw!r} is not UTF-8 text") from None

    def _doc(self, bucket: Bucket, key: bytes, where: str, required: bool = True) -> Any:
        raw = bucket.get(key)
        if raw is None:
            if required:
                raise self._corrupt(f"bucket {where} has no {key.decode()} key")
            return None
        return _parse_object(raw, self.path, f"bucket {where}, key {key.decode()}")

    def _runtime_config(self) -> None:
        bucket = self.root.bucket(b"runtime-config")
        if bucket is None:
            self.snap.warnings.append("no runtime-config bucket: the DBConfig is not pinned")
            return
        values = {}
        for attr, key in _RUNTIME_CONFIG:
            raw = bucket.get(key)
            values[attr] = "" if raw is None else self._text(raw, f"runtime-config/{key.decode()}")
        self.snap.db_config = DBConfig(**values)

    def _volumes(self) -> None:
        for name, bucket in self._sub_buckets(b"vol"):
            where = f"vol/{name}"
            config = self._doc(bucket, b"config", where)
            if config.get("name") != name:
                raise self._corrupt(f"{where}: the config's name {config.get('name')!r} differs")
            self.snap.volumes.append(Volume(config, self._doc(bucket, b"state", where, False)))

    def _pods(self) -> None:
        for pid, bucket in self._sub_buckets(b"pod"):
            where = f"pod/{pid}"
            config = self._doc(bucket, b"config", where)
            if config.get("id") != pid:
                raise self._corrupt(f"{where}: the config's id {config.get('id')!r} differs")
            self.snap.pods.append(Pod(config, self._doc(bucket, b"state", where)))

    def _containers(self) -> None:
        for cid, bucket in self._sub_buckets(b"ctr"):
            where = f"ctr/{cid}"
            config = self._doc(bucket, b"config", where)
            if config.get("id") != cid:
                raise self._corrupt(f"{where}: the config's id {config.get('id')!r} differs")
            state = self._doc(bucket, b"state", where)
            networks = self._networks(bucket, where)
            if networks:
                _insert_before(config, "newNetworks", networks, _AFTER_NEW_NETWORKS)
            netns = bucket.get(b"netns")
            if netns and not state.get("netns"):  # legacy key, read only as a fallback
                _insert_before(state, "netns", self._text(netns, where), _AFTER_NETNS)
            self.snap.containers.append(Container(config, state))

    def _networks(self, bucket: Bucket, where: str) -> dict[str, Any]:
        """The ``networks`` sub-bucket as ``newNetworks``: name → PerNetworkOptions, sorted.
        Pre-4.0 entries hold a placeholder instead of JSON; their aliases come from the
        ``aliases`` sub-bucket and interfaces are numbered ``eth0``… as Podman migrates them."""
        nets = bucket.bucket(b"networks")
        if nets is None:
            return {}
        aliases = bucket.bucket(b"aliases")
        out: dict[str, Any] = {}
        for i, (key, raw) in enumerate(nets.items()):
            name = self._text(key, f"{where}/networks")
            if raw.lstrip().startswith(b"{"):
                out[name] = _parse_object(raw, self.path, f"bucket {where}/networks, key {name}")
                continue
            legacy: dict[str, Any] = {}
            names = aliases.bucket(key) if aliases is not None else None
            if names is not None:
                found = [self._text(a, f"{where}/aliases/{name}") for a, _ in names.items()]
                if found:
                    legacy["aliases"] = found
            legacy["interface_name"] = f"eth{i}"
            out[name] = legacy
        return out

    def _exec_sessions(self) -> None:
        found: dict[str, str] = {}
        top = self.root.bucket(b"exec")
        pairs = list(top.items()) if top is not None else []
        for _, bucket in self._sub_buckets(b"ctr"):  # per-container copies (SEED)
            sub = bucket.bucket(b"exec")
            pairs += list(sub.items()) if sub is not None else []
        for key, value in pairs:
            sid, cid = self._text(key, "exec"), self._text(value, "exec")
            if found.setdefault(sid, cid) != cid:
                raise self._corrupt(f"exec session {sid} is registered to two containers")
        self.snap.exec_sessions = [ExecSession(s, c) for s, c in sorted(found.items())]


# -- export ----------------------------------------------------------------------------------


@dataclass
class _StoreCopy:
    db_config: DBConfig
    volumes: list[Volume]
    pods: list[Pod]
    containers: list[Container]
    exec_sessions: list[ExecSession]


def export_db(
    state: FileState,
    db_path: StrPath,
    *,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
) -> None:
    """Write the whole store as a Podman ``db.sql`` (schema version 1) at ``db_path``.

    Podman's tables, columns and constraints exactly; JSON columns as Go writes them; index
    columns as Podman fills them at insert (``ContainerState.State`` 1 and ``ExitCode`` 0,
    ``PodState.InfraContainerID`` from the pod state, ``VolumeConfig.StorageID`` from the
    config). The ``DBConfig`` row holds the store's pinned config with OS ``linux``; a store
    never pinned gets no row, so Podman pins its own config on first start as it does for a
    new database. ``ContainerExitCode`` stays empty. The store is read in one transaction; the
    file is written to a temporary file in the same directory, synced, and renamed into place.

    Raises :class:`InvalidArgumentError` if ``db_path`` exists and ``overwrite`` is false, or
    its directory does not exist; :class:`InternalError` if the store's data break one of
    Podman's constraints.
    """
    path = os.path.abspath(os.fspath(db_path))
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        raise InvalidArgumentError(f"{path}: directory {parent} does not exist", path=path)
    if os.path.lexists(path) and not overwrite:
        raise InvalidArgumentError(
            f"{path}: file exists (export with overwrite / --force to replace it)", path=path
        )
    copy = _read_store(state)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=parent)
    os.close(fd)
    try:
        _write_sqlite(tmp, copy, progress)
        _publish(tmp, path, overwrite)
    finally:
        for leftover in (tmp, tmp + "-journal"):
            if os.path.lexists(leftover):
                os.unlink(leftover)


def _read_store(state: FileState) -> _StoreCopy:
    with state.transaction():  # one consistent view of the store
        volumes = state.all_volumes()
        pods = state.all_pods()
        for pod in pods:
            state.update_pod(pod)
        containers = state.all_containers()
        sessions = []
        for ctr in containers:
            state.update_container(ctr)
            sessions += [ExecSession(s, ctr.id) for s in state.get_container_exec_sessions(ctr)]
        return _StoreCopy(state.get_db_config(), volumes, pods, containers, sessions)


def _write_sqlite(tmp: str, copy: _StoreCopy, progress: ProgressFn | None) -> None:
    problems = _Problems(tmp)
    ordered = _dependency_order(copy.containers, problems)
    if problems.corrupt:
        raise InternalError(f"cannot export: {'; '.join(problems.corrupt)}")
    try:
        with closing(sqlite3.connect(tmp, isolation_level=None)) as conn:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = OFF")  # the whole file is synced before rename
            conn.execute("BEGIN EXCLUSIVE")
            for ddl in _TABLES.values():
                conn.execute(ddl)
            _insert_all(conn, copy, ordered, progress)
            conn.execute("COMMIT")  # deferred foreign keys are checked here
    except sqlite3.Error as exc:
        raise InternalError(f"cannot export the store as a Podman database: {exc}") from None


def _insert_all(
    conn: sqlite3.Connection,
    copy: _StoreCopy,
    ordered: list[Container],
    progress: ProgressFn | None,
) -> None:
    cfg = copy.db_config
    if any(getattr(cfg, f) for f in DBConfig.field_names()):
        conn.execute(
            "INSERT INTO DBConfig VALUES (1, ?, 'linux', ?, ?, ?, ?, ?, ?)",
            (SCHEMA_VERSION, cfg.libpod_root, cfg.libpod_tmp, cfg.storage_root,
             cfg.storage_tmp, cfg.graph_driver, cfg.volume_path),
        )  # fmt: skip
    total = len(copy.volumes) + len(copy.pods) + len(ordered) + len(copy.exec_sessions)
    tick = _ticker("exporting", total, progress)
    for vol in copy.volumes:
        storage_id = vol.config.get("storageID") or None
        conn.execute(
            "INSERT INTO VolumeConfig VALUES (?, ?, ?)",
            (vol.name, storage_id, go_json(vol.config)),
        )
        conn.execute("INSERT INTO VolumeState VALUES (?, ?)", (vol.name, go_json(vol.state)))
        tick()
    ctr_ids = {c.id for c in ordered}
    for pod in copy.pods:
        infra = pod.state.get("InfraContainerID")
        infra = infra if isinstance(infra, str) and infra in ctr_ids else None
        conn.execute("INSERT INTO IDNamespace VALUES (?)", (pod.id,))
        conn.execute(
            "INSERT INTO PodConfig VALUES (?, ?, ?)", (pod.id, pod.name, go_json(pod.config))
        )
        conn.execute("INSERT INTO PodState VALUES (?, ?, ?)", (pod.id, infra, go_json(pod.state)))
        tick()
    for ctr in ordered:
        _insert_container(conn, ctr)
        tick()
    for sess in copy.exec_sessions:
        conn.execute("INSERT INTO ContainerExecSession VALUES (?, ?)", (sess.id, sess.container_id))
        tick()


def _insert_container(conn: sqlite3.Connection, ctr: Container) -> None:
    """Podman's "add container" statements (``spec/podman-db-format.md`` §2)."""
    conn.execute("INSERT INTO IDNamespace VALUES (?)", (ctr.id,))
    conn.execute(
        "INSERT INTO ContainerConfig VALUES (?, ?, ?, ?)",
        (ctr.id, ctr.name, ctr.pod_id or None, go_json(ctr.config)),
    )
    conn.execute(
        "INSERT INTO ContainerState VALUES (?, ?, ?, ?)",
        (ctr.id, _INSERT_STATE, _INSERT_EXIT_CODE, go_json(ctr.state)),
    )
    conn.executemany(
        "INSERT INTO ContainerDependency VALUES (?, ?)",
        [(ctr.id, dep) for dep in ctr.dependencies()],
    )
    conn.executemany(
        "INSERT INTO ContainerVolume VALUES (?, ?)",
        [(ctr.id, vol) for vol in _named_volumes(ctr.config)],
    )


def _publish(tmp: str, path: str, overwrite: bool) -> None:
    """Make the finished temporary file durable and give it its name."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    if overwrite:
        os.replace(tmp, path)
    else:
        try:  # link(2) fails if the name appeared meanwhile: never clobber a file
            os.link(tmp, path)
        except FileExistsError:
            raise InvalidArgumentError(f"{path}: file exists", path=path) from None
        except OSError:  # a file system without hard links: check, then rename
            if os.path.lexists(path):
                raise InvalidArgumentError(f"{path}: file exists", path=path) from None
            os.replace(tmp, path)
    dfd = os.open(os.path.dirname(path), os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
