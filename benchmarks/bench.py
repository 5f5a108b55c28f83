"""fsstate against Podman's own SQLite state, rollback journal and WAL, in one interleaved run.

    python benchmarks/bench.py [--sizes 100,1000,10000] [--huge] [--samples 200] [--dir DIR]

Baselines: the libpod SQLite schema (``spec/podman-db-format.md``) with Podman's connection
settings — foreign keys on, ``synchronous=FULL``, ``BEGIN EXCLUSIVE`` per write — once with the
rollback journal (``journal_mode=DELETE``, "SQLite") and once with ``journal_mode=WAL``
("SQLite-WAL"), each doing the same work per call as the matching ``FileState`` method (the
statements of spec §2 "Statements Podman issues"), JSON decoded with ``json.loads`` as Go's
``json.Unmarshal`` would. Every container stores the same real 12 KB ContainerConfig
(``sqlite-postgres-running``) under a random 64-hex ID and mounts the one named volume
``shared``, so a removal runs with N other users of its volume.

For each store size N (``--sizes``, default 10², 10³, 10⁴) the three stores are built (fsstate
in batched transactions, SQLite in one), then every call of the table is measured call by call
in rotation over the three stores (which goes first rotates too), so background writeback and
other load hit all alike. The lookups run twice over the same keys: first as the first read of
each key in the open store, then "warm" (read before, nothing changed since). ``--huge`` adds N
= 10⁵ for the reads and the listing (no writes: building takes minutes). A cold lookup opens the
store (a new ``FileState``, a new SQLite connection with the pragmas) for each call, as a
command-line call does once its interpreter runs. The new-process rows start an interpreter per
call: ``import fsstate`` (time of the import statement), a lookup by name (wall time: start,
import, open, look up) and ``ps -a`` (wall time of ``python -m fsstate ps -a``; SQLite's is a
Python script with Podman's query for ``ps``: every config and state, decoded, one line each).
They run with bytecode cached, as an installed package does (:data:`CHILD_ENV`).

Prints per N the median per call and the ratios fsstate / SQLite and fsstate / SQLite-WAL
(below 1: fsstate is faster), then the floors (:class:`Floor`: one durable commit, one new
file, the first read of a state file, a new interpreter bare and with orjson, the one
dependency a lookup imports) against SQLite's same calls in the same rotation, then each
call's cost at the largest N over the smallest (1.0: does not grow with the store).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from fsstate import Container, FileState, Pod, Volume
from fsstate.state import catalog

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "examples" / "data" / "podman-json"
CONFIG = DATA / "sqlite-postgres-running.ContainerConfig.json"
STATE = DATA / "sqlite-postgres-running.ContainerState.json"
VOLUME = "shared"
POD_ID = hashlib.sha256(b"bench-pod").hexdigest()
SCHEMA = """
CREATE TABLE IF NOT EXISTS IDNamespace(ID TEXT PRIMARY KEY NOT NULL);
CREATE TABLE IF NOT EXISTS ContainerConfig(
    ID TEXT PRIMARY KEY NOT NULL, Name TEXT UNIQUE NOT NULL, PodID TEXT, JSON TEXT NOT NULL,
    FOREIGN KEY (ID) REFERENCES IDNamespace(ID) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (ID) REFERENCES ContainerState(ID) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (PodID) REFERENCES PodConfig(ID));
CREATE TABLE IF NOT EXISTS ContainerState(
    ID TEXT PRIMARY KEY NOT NULL, State INTEGER NOT NULL, ExitCode INTEGER, JSON TEXT NOT NULL,
    FOREIGN KEY (ID) REFERENCES ContainerConfig(ID) DEFERRABLE INITIALLY DEFERRED,
    CHECK (ExitCode BETWEEN -1 AND 255));
CREATE TABLE IF NOT EXISTS ContainerDependency(
    ID TEXT NOT NULL, DependencyID TEXT NOT NULL,
    FOREIGN KEY (ID) REFERENCES ContainerConfig(ID) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (DependencyID) REFERENCES ContainerConfig(ID),
    PRIMARY KEY (ID, DependencyID), CHECK (ID <> DependencyID));
CREATE TABLE IF NOT EXISTS ContainerVolume(
    ContainerID TEXT NOT NULL, VolumeName TEXT NOT NULL,
    FOREIGN KEY (ContainerID) REFERENCES ContainerConfig(ID) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (VolumeName) REFERENCES VolumeConfig(Name),
    PRIMARY KEY (ContainerID, VolumeName));
CREATE TABLE IF NOT EXISTS ContainerExecSession(
    ID TEXT PRIMARY KEY NOT NULL, ContainerID TEXT NOT NULL,
    FOREIGN KEY (ContainerID) REFERENCES ContainerConfig(ID));
CREATE TABLE IF NOT EXISTS PodConfig(
    ID TEXT PRIMARY KEY NOT NULL, Name TEXT UNIQUE NOT NULL, JSON TEXT NOT NULL,
    FOREIGN KEY (ID) REFERENCES IDNamespace(ID) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (ID) REFERENCES PodState(ID) DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE IF NOT EXISTS PodState(
    ID TEXT PRIMARY KEY NOT NULL, InfraContainerID TEXT, JSON TEXT NOT NULL,
    FOREIGN KEY (ID) REFERENCES PodConfig(ID) DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE IF NOT EXISTS VolumeConfig(
    Name TEXT PRIMARY KEY NOT NULL, StorageID TEXT, JSON TEXT NOT NULL,
    FOREIGN KEY (Name) REFERENCES VolumeState(Name) DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE IF NOT EXISTS VolumeState(
    Name TEXT PRIMARY KEY NOT NULL, JSON TEXT NOT NULL,
    FOREIGN KEY (Name) REFERENCES VolumeConfig(Name) DEFERRABLE INITIALLY DEFERRED);
"""


# -- documents -------------------------------------------------------------------------------


class Docs:
    """The real config and state, and containers made from them."""

    def __init__(self) -> None:
        self.config = json.loads(CONFIG.read_text())
        self.config["namedVolumes"] = [dict(self.config["namedVolumes"][0], volumeName=VOLUME)]
        self.state = json.loads(STATE.read_text())

    def make(self, tag: str, i: int) -> tuple[dict[str, Any], dict[str, Any]]:
        cid = hashlib.sha256(f"{tag}-{i}".encode()).hexdigest()  # random-looking, like Podman's
        return dict(self.config, id=cid, name=f"{tag}-{i}"), self.state


# -- the stores ------------------------------------------------------------------------------


class Sqlite:
    """The subset of libpod's SQLiteState the table needs, with Podman's settings."""

    def __init__(self, path: Path, *, wal: bool) -> None:
        self.path, self.wal = path, wal
        self.db = self.connect()

    def connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=100)
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(f"PRAGMA journal_mode={'WAL' if self.wal else 'DELETE'}")
        db.execute("PRAGMA case_sensitive_like=ON")
        return db

    @staticmethod
    def build(path: Path, docs: Docs, n: int) -> None:
        db = sqlite3.connect(path, isolation_level=None)
        db.executescript(SCHEMA)
        db.execute("BEGIN")
        db.execute("INSERT INTO VolumeConfig VALUES (?, NULL, ?)", (VOLUME, '{"name":"shared"}'))
        db.execute("INSERT INTO VolumeState VALUES (?, '{}')", (VOLUME,))
        db.execute("INSERT INTO IDNamespace VALUES (?)", (POD_ID,))
        db.execute("INSERT INTO PodConfig VALUES (?, 'bench-pod', ?)", (POD_ID, "{}"))
        db.execute("INSERT INTO PodState VALUES (?, NULL, '{}')", (POD_ID,))
        state = json.dumps(docs.state)
        rows = [docs.make("ctr", i) for i in range(n)]
        db.executemany("INSERT INTO IDNamespace VALUES (?)", [(c["id"],) for c, _ in rows])
        db.executemany(
            "INSERT INTO ContainerConfig VALUES (?, ?, NULL, ?)",
            [(c["id"], c["name"], json.dumps(c)) for c, _ in rows],
        )
        db.executemany(
            "INSERT INTO ContainerState VALUES (?, 1, 0, ?)", [(c["id"], state) for c, _ in rows]
        )
        db.executemany(
            "INSERT INTO ContainerVolume VALUES (?, ?)", [(c["id"], VOLUME) for c, _ in rows]
        )
        db.execute("COMMIT")
        db.close()

    # LookupContainer: exact ID, then name or unique ID prefix, then decode the config.
    def lookup(self, key: str, db: sqlite3.Connection | None = None) -> dict[str, Any]:
        db = db or self.db
        db.execute("BEGIN")
        rows = db.execute(
            "SELECT ID, Name, JSON FROM ContainerConfig WHERE Name=? OR ID LIKE ?",
            (key, key + "%"),
        ).fetchall()
        db.execute("COMMIT")
        exact = [r for r in rows if r[1] == key]
        rows = exact or rows
        if len(rows) != 1:
            raise LookupError(key)
        cfg: dict[str, Any] = json.loads(rows[0][2])
        return cfg

    def fresh_lookup(self, key: str) -> None:
        db = self.connect()
        self.lookup(key, db)
        db.close()

    def container(self, cid: str) -> dict[str, Any]:
        row = self.db.execute("SELECT JSON FROM ContainerConfig WHERE ID=?", (cid,)).fetchone()
        cfg: dict[str, Any] = json.loads(row[0])
        return cfg

    def has_container(self, cid: str) -> bool:
        row = self.db.execute("SELECT 1 FROM ContainerConfig WHERE ID=?", (cid,)).fetchone()
        return row is not None

    def has_pod(self, pid: str) -> bool:
        row = self.db.execute("SELECT 1 FROM PodConfig WHERE ID=?", (pid,)).fetchone()
        return row is not None

    def update(self, cid: str) -> dict[str, Any]:
        row = self.db.execute("SELECT JSON FROM ContainerState WHERE ID=?", (cid,)).fetchone()
        state: dict[str, Any] = json.loads(row[0])
        return state

    def all(self, load_state: bool = False) -> list[Any]:
        if load_state:
            rows = self.db.execute(
                "SELECT ContainerConfig.JSON, ContainerState.JSON FROM ContainerConfig "
                "INNER JOIN ContainerState ON ContainerConfig.ID = ContainerState.ID"
            ).fetchall()
            return [(json.loads(c), json.loads(s)) for c, s in rows]
        rows = self.db.execute("SELECT JSON FROM ContainerConfig").fetchall()
        return [json.loads(r[0]) for r in rows]

    def add(self, cfg: dict[str, Any], state: dict[str, Any]) -> None:
        db = self.db
        db.execute("BEGIN EXCLUSIVE")
        if db.execute("SELECT 1 FROM ContainerConfig WHERE Name=?", (cfg["name"],)).fetchone():
            raise ValueError("name in use")
        db.execute("INSERT INTO IDNamespace VALUES (?)", (cfg["id"],))
        db.execute(
            "INSERT INTO ContainerConfig VALUES (?, ?, NULL, ?)",
            (cfg["id"], cfg["name"], json.dumps(cfg)),
        )
        db.execute("INSERT INTO ContainerState VALUES (?, 1, 0, ?)", (cfg["id"], json.dumps(state)))
        db.execute("INSERT INTO ContainerVolume VALUES (?, ?)", (cfg["id"], VOLUME))
        db.execute("COMMIT")

    def save(self, cid: str, state: dict[str, Any]) -> None:
        self.db.execute("BEGIN EXCLUSIVE")
        cur = self.db.execute(
            "UPDATE ContainerState SET JSON=? WHERE ID=?", (json.dumps(state), cid)
        )
        if cur.rowcount != 1:
            raise LookupError(cid)
        self.db.execute("COMMIT")

    def remove(self, cid: str) -> None:
        db = self.db
        db.execute("BEGIN EXCLUSIVE")
        for table in ("IDNamespace", "ContainerConfig", "ContainerState"):
            if db.execute(f"DELETE FROM {table} WHERE ID=?", (cid,)).rowcount != 1:
                raise LookupError(cid)
        db.execute("DELETE FROM ContainerDependency WHERE ID=?", (cid,))
        db.execute("DELETE FROM ContainerVolume WHERE ContainerID=?", (cid,))
        db.execute("DELETE FROM ContainerExecSession WHERE ContainerID=?", (cid,))
        db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()


class Fs:
    """The same calls on fsstate."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = FileState(root / "static", root / "tmp")
        self.objs: dict[str, Container] = {}

    @staticmethod
    def build(root: Path, docs: Docs, n: int) -> None:
        with FileState(root / "static", root / "tmp") as state:
            state.add_volume(Volume({"name": VOLUME, "lockID": 0}))
            state.add_pod(Pod({"id": POD_ID, "name": "bench-pod", "lockID": 1}, {}))
            for start in range(0, n, 250):
                with state.transaction():
                    for i in range(start, min(n, start + 250)):
                        state.add_container(Container(*docs.make("ctr", i)))

    def obj(self, cid: str) -> Container:
        if cid not in self.objs:
            self.objs[cid] = self.state.container(cid)
        return self.objs[cid]

    def lookup(self, key: str) -> Container:
        return self.state.lookup_container(key)

    def fresh_lookup(self, key: str) -> None:
        # What a CLI call does once the interpreter runs: open the store, look up, close; and
        # as in a new process, with no config checked before (fsstate/state/checked.py).
        catalog._CHECKED.clear()
        with FileState(self.root / "static", self.root / "tmp") as state:
            state.lookup_container(key)

    def container(self, cid: str) -> Container:
        return self.state.container(cid)

    def has_container(self, cid: str) -> bool:
        return self.state.has_container(cid)

    def has_pod(self, pid: str) -> bool:
        return self.state.has_pod(pid)

    def update(self, cid: str) -> None:
        self.state.update_container(self.obj(cid))

    def all(self) -> list[Container]:
        return self.state.all_containers()

    def add(self, cfg: dict[str, Any], state: dict[str, Any]) -> None:
        ctr = Container(cfg, state)
        self.state.add_container(ctr)
        self.objs[ctr.id] = ctr

    def save(self, cid: str, state: dict[str, Any]) -> None:
        ctr = self.obj(cid)
        ctr.state = state
        self.state.save_container(ctr)

    def remove(self, cid: str) -> None:
        self.state.remove_container(self.obj(cid))

    def close(self) -> None:
        self.state.close()


# -- floors ----------------------------------------------------------------------------------


#: The index entries of a container that :meth:`Floor.remove_files` deletes with its documents:
#: its name, its registry shard entry, its entry as the user of a named volume.
_FLOOR_INDEXES = ("names", "shard", "users")


class Floor:
    """What no store written in Python on this disk goes below, for the rows whose goal it
    decides: one durable commit is an append and an ``fdatasync`` (SQLite-WAL's commit; a
    store whose documents are plain files still has to write them), and the first read of a
    state is an open, a read, a close and a decode (no generation check, no shape check); a
    document's new inode (a temporary file created, written and renamed) is what an add pays
    per new file on top of the commit; a remove's file operations (:meth:`remove_files`) are
    what this layout pays to delete a container. Timed in the same rotation as SQLite's same
    calls (its add for the first two write floors, its remove for the last), in the
    ``fsstate`` column of a "floor:" row."""

    def __init__(self, base: Path, docs: Docs, samples: int) -> None:
        self.log = os.open(base / "floor.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.record = json.dumps(docs.state).encode()  # the size of a state save's record
        self.dir = base / "floor-reads"
        self.dir.mkdir()
        for i in range(samples):
            (self.dir / f"{i}.json").write_bytes(self.record)
        self.files = [str(self.dir / f"{i}.json") for i in range(samples)]
        self.next = self.made = 0
        # What remove_files deletes, per sample: a container's two documents as the store
        # writes them (pretty-printed) in a directory of their own, and three index entries.
        self.gone = base / "floor-removes"
        config = json.dumps(docs.config, indent=2).encode()
        state = json.dumps(docs.state, indent=2).encode()
        for index in ("c", *_FLOOR_INDEXES):
            (self.gone / index).mkdir(parents=True)
        for i in range(samples):
            (self.gone / "c" / str(i)).mkdir()
            (self.gone / "c" / str(i) / "config.json").write_bytes(config)
            (self.gone / "c" / str(i) / "state.json").write_bytes(state)
            for index in _FLOOR_INDEXES:
                (self.gone / index / str(i)).write_bytes(b"")
        self.removed = 0

    def commit(self) -> None:
        os.write(self.log, self.record)
        os.fdatasync(self.log)

    def new_file(self) -> None:
        """A document's new inode, as a commit makes it: create a temporary file, write it,
        rename it into place (no fsync: the commit's one ``fdatasync`` is ``commit``)."""
        tmp, final = self.dir / f"new-{self.made}.tmp", self.dir / f"new-{self.made}.json"
        self.made += 1
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, self.record)
        finally:
            os.close(fd)
        os.rename(tmp, final)

    def remove_files(self) -> None:
        """A remove's file operations in fsstate's order, and nothing else: the commit (an
        append and an ``fdatasync``), each of the five files renamed aside (so that a failure
        can put it back), the container's directory removed, the five files unlinked."""
        i, self.removed = str(self.removed), self.removed + 1
        self.commit()
        where = self.gone / "c" / i
        paths = [where / "config.json", where / "state.json"]
        paths += [self.gone / index / i for index in _FLOOR_INDEXES]
        kept = [self.gone / f"kept-{i}-{k}" for k in range(len(paths))]
        for path, aside in zip(paths, kept, strict=True):
            os.rename(path, aside)
        os.rmdir(where)
        for aside in kept:
            os.unlink(aside)

    def first_read(self) -> None:
        fd = os.open(self.files[self.next], os.O_RDONLY)
        self.next += 1
        try:
            orjson.loads(os.read(fd, 1 << 16))
        finally:
            os.close(fd)

    def close(self) -> None:
        os.close(self.log)
        shutil.rmtree(self.dir)
        shutil.rmtree(self.gone)


# -- fresh processes -------------------------------------------------------------------------

_FS_LOOKUP = """
import sys
from fsstate import FileState
with FileState(sys.argv[1], sys.argv[2]) as s:
    s.lookup_container(sys.argv[3])
"""
_SQ_LOOKUP = """
import sys, json, sqlite3
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=100)
for p in ("foreign_keys=ON", "synchronous=FULL", "journal_mode=" + sys.argv[2],
          "case_sensitive_like=ON"):
    db.execute("PRAGMA " + p)
db.execute("BEGIN")
rows = db.execute("SELECT ID, Name, JSON FROM ContainerConfig WHERE Name=? OR ID LIKE ?",
                  (sys.argv[3], sys.argv[3] + "%")).fetchall()
db.execute("COMMIT")
json.loads(rows[0][2])
"""
_SQ_PS = """
import sys, json, sqlite3
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=100)
for p in ("foreign_keys=ON", "synchronous=FULL", "journal_mode=" + sys.argv[2]):
    db.execute("PRAGMA " + p)
rows = db.execute("SELECT ContainerConfig.JSON, ContainerState.JSON FROM ContainerConfig "
                  "INNER JOIN ContainerState ON ContainerConfig.ID = ContainerState.ID").fetchall()
out = []
for c, s in rows:
    c, s = json.loads(c), json.loads(s)
    out.append(f"{c['id'][:12]}  {c.get('rootfsImageName', '')}  {s.get('state')}  {c['name']}")
sys.stdout.write("\\n".join(sorted(out)) + "\\n")
"""
_IMPORT = "import time; t = time.perf_counter(); import fsstate; print(time.perf_counter() - t)"


#: The new processes' environment: bytecode cached as an installed package has it (pip compiles
#: it at install), even where the caller set ``PYTHONDONTWRITEBYTECODE`` — else each process
#: would compile every module it imports (35 ms of ``import fsstate`` here).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def child_time(args: list[str]) -> float:
    out = subprocess.run(
        [sys.executable, *args], check=True, capture_output=True, text=True, env=CHILD_ENV
    ).stdout
    return float(out.split()[-1])


def wall_time(args: list[str], env: dict[str, str] | None = None) -> float:
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, *args], check=True, stdout=subprocess.DEVNULL, env=env or CHILD_ENV
    )
    return time.perf_counter() - t


# -- one size --------------------------------------------------------------------------------

SIDES = ("fsstate", "SQLite", "SQLite-WAL")
Times = dict[str, dict[str, list[float]]]  # call → side → seconds per call


def measure(base: Path, docs: Docs, n: int, samples: int, *, writes: bool) -> Times:
    t = time.perf_counter()
    Fs.build(base / "fs", docs, n)
    Sqlite.build(base / "sq.db", docs, n)
    shutil.copy(base / "sq.db", base / "wal.db")
    built = time.perf_counter() - t
    print(f"  built the three stores of {n} containers in {built:.1f} s", file=sys.stderr)
    fs = Fs(base / "fs")
    sq, wal = Sqlite(base / "sq.db", wal=False), Sqlite(base / "wal.db", wal=True)
    stores: tuple[Any, Any, Any] = (fs, sq, wal)
    times: Times = {}
    keys = [docs.make("ctr", i)[0] for i in range(0, n, max(1, n // samples))][:samples]
    new = [docs.make("new", i) for i in range(samples)]
    saved = dict(docs.state, exitCode=7)

    def phase(name: str, items: list[Any], call: Callable[[Any, Any], object]) -> None:
        row = times.setdefault(name, {s: [] for s in SIDES})
        for i, item in enumerate(items):
            for k in range(3):
                side = (i + k) % 3
                store = stores[side]
                t = time.perf_counter()
                call(store, item)
                row[SIDES[side]].append(time.perf_counter() - t)

    phase("container(full ID)", keys, lambda s, c: s.container(c["id"]))
    phase("lookup by name", keys, lambda s, c: s.lookup(c["name"]))
    phase("cold lookup by name (new FileState)", keys, lambda s, c: s.fresh_lookup(c["name"]))
    phase("lookup by 12-char ID prefix", keys, lambda s, c: s.lookup(c["id"][:12]))
    # Warm: the same keys again, nothing changed since (issue 10's "warm" rows).
    phase("container(full ID), warm", keys, lambda s, c: s.container(c["id"]))
    phase("lookup by name, warm", keys, lambda s, c: s.lookup(c["name"]))
    phase("lookup by 12-char ID prefix, warm", keys, lambda s, c: s.lookup(c["id"][:12]))
    phase("has_container", keys, lambda s, c: s.has_container(c["id"]))
    phase("has_pod", keys, lambda s, _: s.has_pod(POD_ID))
    for c in keys:
        fs.obj(c["id"])  # the Container objects a caller holds, loaded outside the timing
    phase("update_container", keys, lambda s, c: s.update(c["id"]))
    phase("all_containers", [None] * (3 if n <= 10_000 else 1), lambda s, _: s.all())
    if writes:
        phase("add (durable)", new, lambda s, c: s.add(*c))
        phase("save state (durable)", new, lambda s, c: s.save(c[0]["id"], saved))
        phase("remove (durable)", new, lambda s, c: s.remove(c[0]["id"]))
    # The floors, against SQLite's same calls (fresh keys: each is a first read or a new row).
    floor = Floor(base, docs, samples)
    stores = (floor, sq, wal)

    def against(
        floor_call: Callable[[], None], sql_call: Callable[[Any, Any], object]
    ) -> Callable[[Any, Any], object]:
        """The floor in the fsstate column, SQLite's same call in the others."""
        return lambda s, c: floor_call() if s is floor else sql_call(s, c)

    # SQLite's side: its update_container as in its own row, its add of a new row
    update = against(floor.first_read, lambda s, c: s.update(c["id"]))
    phase("floor: first read of a state file", keys, update)
    if writes:
        extra = [docs.make("floor", i) for i in range(samples)]
        phase("floor: one durable commit", extra, against(floor.commit, lambda s, c: s.add(*c)))
        more = [docs.make("floor-file", i) for i in range(samples)]
        phase(
            "floor: one new file, not synced", more, against(floor.new_file, lambda s, c: s.add(*c))
        )
        # SQLite's side removes the rows the row above added
        remove = against(floor.remove_files, lambda s, c: s.remove(c[0]["id"]))
        phase("floor: a remove's file operations", more, remove)
    for store in (fs, sq, wal, floor):
        store.close()

    # fresh processes
    fresh = max(5, min(15, samples // 10))
    name = keys[len(keys) // 2]["name"]
    static, tmp = str(base / "fs" / "static"), str(base / "fs" / "tmp")
    cold: dict[str, Callable[[], float]] = {
        "fsstate": lambda: wall_time(["-c", _FS_LOOKUP, static, tmp, name]),
        "SQLite": lambda: wall_time(["-c", _SQ_LOOKUP, str(base / "sq.db"), "DELETE", name]),
        "SQLite-WAL": lambda: wall_time(["-c", _SQ_LOOKUP, str(base / "wal.db"), "WAL", name]),
    }
    env = dict(CHILD_ENV, FSSTATE_TMP=tmp)
    ps: dict[str, Callable[[], float]] = {
        "fsstate": lambda: wall_time(["-m", "fsstate", "--root", static, "ps", "-a"], env),
        "SQLite": lambda: wall_time(["-c", _SQ_PS, str(base / "sq.db"), "DELETE"]),
        "SQLite-WAL": lambda: wall_time(["-c", _SQ_PS, str(base / "wal.db"), "WAL"]),
    }
    bare = dict(cold, fsstate=lambda: wall_time(["-c", "pass"]))
    deps = dict(cold, fsstate=lambda: wall_time(["-c", "import orjson"]))
    for label, fns, reps in (
        ("lookup by name (new interpreter, wall)", cold, fresh),
        ("floor: a new interpreter, nothing imported (wall)", bare, fresh),
        ("floor: a new interpreter importing orjson (wall)", deps, fresh),
        ("`ps -a` (new process, wall)", ps, 3 if n <= 10_000 else 1),
    ):
        row = times.setdefault(label, {s: [] for s in SIDES})
        for i in range(reps):
            for k in range(3):
                side = SIDES[(i + k) % 3]
                row[side].append(fns[side]())
    shutil.rmtree(base / "fs")
    for f in base.iterdir():
        f.unlink()
    return times


# -- report ----------------------------------------------------------------------------------


def fmt(seconds: float) -> str:
    if seconds >= 0.1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1e3:.3f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.1f} µs"


def _row(call: str, row: dict[str, list[float]]) -> str:
    fs, sq, wal = (statistics.median(row[s]) for s in SIDES)
    return f"| {call} | {fmt(fs)} | {fmt(sq)} | {fmt(wal)} | {fs / sq:.2f} | {fs / wal:.2f} |"


def report(results: dict[int, Times], import_times: list[float]) -> None:
    for n, times in results.items():
        print(f"\nN = {n:,} containers (real 12 KB config, one shared volume); median per call")
        print("| call | fsstate | SQLite | SQLite-WAL | fs/SQLite | fs/WAL |")
        print("|---|---|---|---|---|---|")
        for call, row in times.items():
            if not call.startswith("floor:"):
                print(_row(call, row))
        floors = [call for call in times if call.startswith("floor:")]
        if floors:
            print("\nfloors (class Floor) against SQLite's same call, same run")
            print("| floor | time | SQLite | SQLite-WAL | floor/SQLite | floor/WAL |")
            print("|---|---|---|---|---|---|")
            for call in floors:
                print(_row(call.removeprefix("floor: "), times[call]))
    sizes = sorted(n for n in results if n <= 10_000)
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]
        print(f"\ncost at N = {hi:,} over N = {lo:,} (1.0: does not grow)")
        print("| call | fsstate | SQLite | SQLite-WAL |")
        print("|---|---|---|---|")
        for call in results[lo]:
            if call in ("all_containers", "`ps -a` (new process, wall)"):
                continue  # grows with N by definition
            if call.startswith("floor:"):
                continue
            ratios = [
                statistics.median(results[hi][call][s]) / statistics.median(results[lo][call][s])
                for s in SIDES
            ]
            print(f"| {call} | " + " | ".join(f"{r:.2f}" for r in ratios) + " |")
    print(f"\n`import fsstate` in a new process: {fmt(statistics.median(import_times))} (median)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100,1000,10000", help="store sizes, comma-separated")
    ap.add_argument("--huge", action="store_true", help="also N = 100,000 (reads and listing)")
    ap.add_argument("--samples", type=int, default=200, help="calls per row and size")
    ap.add_argument("--dir", default=None, help="where to put the stores (default: a temp dir)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.huge:
        sizes.append(100_000)
    docs = Docs()
    base = Path(tempfile.mkdtemp(prefix="fsstate-bench-", dir=args.dir))
    try:
        child_time(["-c", _IMPORT + "; import fsstate.cli.app, fsstate.cli.commands"])  # caches
        import_times = [child_time(["-c", _IMPORT]) for _ in range(15)]
        results = {}
        for n in sizes:
            results[n] = measure(base, docs, n, args.samples, writes=n <= 10_000)
        report(results, import_times)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
