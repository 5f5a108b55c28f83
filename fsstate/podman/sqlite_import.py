"""Reading Podman's SQLite ``db.sql`` into an :class:`~.plan.ImportPlan`
(``spec/podman-db-format.md`` §1 for opening it, §2 for its tables).

Only the JSON documents and the link tables are read: the other columns (``Name``, ``PodID``,
``State``, ``ExitCode``, ``InfraContainerID``, ``StorageID``) are indexes Podman itself lets go
stale, and where they disagree with the documents the report says so and the documents win.
The file is opened read-only (``mode=ro``) and read in one transaction.
"""

from __future__ import annotations

import os
import sqlite3
import struct
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import closing
from datetime import UTC, datetime
from typing import Any, NoReturn

from fsstate.errors import (
    CorruptDocumentError,
    InvalidArgumentError,
    LockTimeoutError,
    StateError,
)
from fsstate.model import Container, DBConfig, ExecSession, Pod, Volume
from fsstate.podman.gojson import parse_object
from fsstate.podman.plan import ImportPlan
from fsstate.podman.sniff import SQLITE_MAGIC, read_head
from fsstate.podman.tables import SCHEMA_VERSION, TABLES

_BUSY_TIMEOUT = 100.0  # seconds, as Podman's own default busy timeout


def read_sqlite(path: str) -> ImportPlan:
    """The contents of the ``db.sql`` at ``path``, parsed (errors: ``importer.import_db``)."""
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
        except UnicodeDecodeError:  # damage inside SQLite's own report (quick_check)
            raise CorruptDocumentError(
                f"{path}: damaged SQLite database (text that is not UTF-8)", path=path
            ) from None


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
    head = read_head(path)
    if not head.startswith(SQLITE_MAGIC):
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


class _SQLiteSource:
    """Reads one open ``db.sql`` into a plan."""

    def __init__(self, path: str, conn: sqlite3.Connection) -> None:
        self.path, self.conn = path, conn
        self.plan = ImportPlan(path, "sqlite")

    def read(self) -> ImportPlan:
        self._integrity()
        self._tables()
        self._db_config()
        self._volumes()
        self._pods()
        self._containers()
        self._exec_sessions()
        self._cross_check_links()
        self._exit_codes()
        return self.plan

    def _fail(self, message: str) -> NoReturn:
        raise CorruptDocumentError(f"{self.path}: {message}", path=self.path)

    def _integrity(self) -> None:
        rows = [r[0] for r in self.conn.execute("PRAGMA quick_check")]
        if rows != ["ok"]:
            self._fail(f"damaged SQLite database: {'; '.join(map(str, rows[:5]))}")

    def _tables(self) -> None:
        have = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master")}
        missing = [t for t in TABLES if t not in have]
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
            self.plan.warnings.append("DBConfig has no row: the store's DBConfig is not pinned")
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
        self.plan.db_config = DBConfig(*paths)

    def _rows(self, sql: str) -> Iterator[tuple[Any, ...]]:
        yield from self.conn.execute(sql)

    def _objects(
        self, kind: str, what: str | None, extra: str = "NULL"
    ) -> Iterator[tuple[Any, Any, dict[str, Any], dict[str, Any] | None]]:
        """``(key, extra, config, state)`` for each row of ``<kind>Config`` joined with
        ``<kind>State``, in key order, the config checked against the row's key; ``what``
        names the object when its state row is required (``None``: the state may be absent).
        """
        col, key = ("Name", "name") if kind == "Volume" else ("ID", "id")
        for row_key, extra_col, config_json, state_json in self._rows(
            f"SELECT c.{col}, {extra}, c.JSON, s.JSON FROM {kind}Config c "
            f"LEFT JOIN {kind}State s ON s.{col} = c.{col} ORDER BY c.{col}"
        ):
            config = self._doc(config_json, f"{kind}Config", row_key)
            self._same(config, key, row_key, f"{kind}Config")
            if state_json is None and what is not None:
                self._fail(f"{kind}State has no row for {what} {row_key}")
            state = None if state_json is None else self._doc(state_json, f"{kind}State", row_key)
            yield row_key, extra_col, config, state

    def _volumes(self) -> None:
        for _, _, config, state in self._objects("Volume", None):
            self.plan.volumes.append(Volume(config, state))

    def _pods(self) -> None:
        for _, _, config, state in self._objects("Pod", "pod"):
            self.plan.pods.append(Pod(config, state))

    def _containers(self) -> None:
        for cid, pod_col, config, state in self._objects("Container", "container", "c.PodID"):
            ctr = Container(config, state)
            if (pod_col or "") != ctr.pod_id:
                self.plan.warnings.append(
                    f"ContainerConfig row {cid}: PodID column {pod_col!r} differs from the "
                    f"config's pod {ctr.pod_id!r}; the config wins"
                )
            self.plan.containers.append(ctr)

    def _exec_sessions(self) -> None:
        for sid, cid in self._rows("SELECT ID, ContainerID FROM ContainerExecSession ORDER BY ID"):
            self.plan.exec_sessions.append(ExecSession(sid, cid))

    def _cross_check_links(self) -> None:
        """Podman derives these tables from the configs at insert; say if they disagree."""
        deps = {(c.id, d) for c in self.plan.containers for d in c.dependencies()}
        rows = set(self._rows("SELECT ID, DependencyID FROM ContainerDependency"))
        if rows != deps:
            self.plan.warnings.append(
                "ContainerDependency rows differ from the configs' dependencies; the configs win"
            )
        uses = {(c.id, v) for c in self.plan.containers for v in c.named_volumes()}
        if set(self._rows("SELECT ContainerID, VolumeName FROM ContainerVolume")) != uses:
            self.plan.warnings.append(
                "ContainerVolume rows differ from the configs' namedVolumes; the configs win"
            )

    def _exit_codes(self) -> None:
        """``ContainerExitCode`` rows (ID, Unix-seconds timestamp, code; NEWEST sq:967)."""
        rows = "SELECT ID, Timestamp, ExitCode FROM ContainerExitCode ORDER BY ID"
        for cid, stamp, code in self._rows(rows):
            if not (isinstance(cid, str) and isinstance(stamp, int) and isinstance(code, int)):
                self._fail(f"table ContainerExitCode, row {cid!r}: not (text, integer, integer)")
            self.plan.exit_codes.append((cid, code, datetime.fromtimestamp(stamp, UTC)))

    def _doc(self, raw: object, table: str, key: object) -> dict[str, Any]:
        return parse_object(raw, self.path, f"table {table}, row {key}")

    def _same(self, doc: Mapping[str, Any], key: str, column: object, table: str) -> None:
        if doc.get(key) != column:
            self._fail(
                f"table {table}, row {column}: the JSON's {key} {doc.get(key)!r} differs "
                "from the row's key"
            )
