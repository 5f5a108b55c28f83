"""fsstate against Podman's own SQLite state, measured in the same run on the same disk.

    python benchmarks/bench.py [--containers N] [--dir DIR]

Baseline: the libpod SQLite schema (``spec/podman-db-format.md``) with Podman's connection
settings — rollback journal, ``synchronous=FULL``, foreign keys on, ``BEGIN EXCLUSIVE`` per
call — doing the same work per call: insert a container (ID, config, state rows), select by
name and decode the config, update the state JSON, list and decode every container, delete.
Both sides store the same real 12 KB ContainerConfig (``sqlite-postgres-running``).

Prints the median cost per call of each operation on both sides and their ratio
(fsstate / SQLite: below 1 means fsstate is faster), then how the per-call cost changes from
the first to the last tenth of the store (flat means it does not grow with the store), and
the peak memory of listing every container. Per-call medians over many calls; the disk is
noisy, so compare ratios, not absolute numbers, across runs.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fsstate import Container, FileState

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "examples" / "data" / "podman-json" / "sqlite-postgres-running.ContainerConfig.json"
STATE = REPO / "examples" / "data" / "podman-json" / "sqlite-postgres-running.ContainerState.json"


def make_configs(n: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    base = json.loads(CONFIG.read_text())
    base.pop("namedVolumes", None)  # volumes are not part of this comparison
    state = json.loads(STATE.read_text())
    out = []
    for i in range(n):
        cid = hashlib.sha256(f"bench-{i}".encode()).hexdigest()  # random-looking, like Podman's
        cfg = dict(base, id=cid, name=f"ctr-{i}")
        out.append((cfg, state))
    return out


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


class Sqlite:
    """The subset of libpod's SQLiteState this comparison needs, with Podman's settings."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = self.connect()
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS IDNamespace(ID TEXT PRIMARY KEY NOT NULL);
            CREATE TABLE IF NOT EXISTS ContainerConfig(
                ID TEXT PRIMARY KEY NOT NULL, Name TEXT UNIQUE NOT NULL, PodID TEXT,
                JSON TEXT NOT NULL,
                FOREIGN KEY (ID) REFERENCES IDNamespace(ID) DEFERRABLE INITIALLY DEFERRED,
                FOREIGN KEY (ID) REFERENCES ContainerState(ID) DEFERRABLE INITIALLY DEFERRED);
            CREATE TABLE IF NOT EXISTS ContainerState(
                ID TEXT PRIMARY KEY NOT NULL, State INTEGER NOT NULL, ExitCode INTEGER,
                JSON TEXT NOT NULL,
                FOREIGN KEY (ID) REFERENCES ContainerConfig(ID) DEFERRABLE INITIALLY DEFERRED,
                CHECK (ExitCode BETWEEN -1 AND 255));
            """
        )

    def connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=100)
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("PRAGMA case_sensitive_like=ON")
        return db

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
        db.execute("COMMIT")

    def lookup(self, db: sqlite3.Connection, name: str) -> dict[str, Any]:
        db.execute("BEGIN")
        row = db.execute(
            "SELECT JSON FROM ContainerConfig WHERE Name=? OR ID LIKE ?", (name, name + "%")
        ).fetchone()
        db.execute("COMMIT")
        cfg: dict[str, Any] = json.loads(row[0])
        return cfg

    def save(self, cid: str, state: dict[str, Any]) -> None:
        self.db.execute("BEGIN EXCLUSIVE")
        self.db.execute("UPDATE ContainerState SET JSON=? WHERE ID=?", (json.dumps(state), cid))
        self.db.execute("COMMIT")

    def all(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT JSON FROM ContainerConfig ORDER BY ID").fetchall()
        return [json.loads(r[0]) for r in rows]

    def remove(self, cid: str) -> None:
        db = self.db
        db.execute("BEGIN EXCLUSIVE")
        for table in ("IDNamespace", "ContainerConfig", "ContainerState"):
            db.execute(f"DELETE FROM {table} WHERE ID=?", (cid,))
        db.execute("COMMIT")


class FsDriver:
    """The operations measured, on fsstate."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = FileState(root / "static", root / "tmp")
        self.objs: dict[str, Container] = {}

    def add(self, cfg: dict[str, Any], state: dict[str, Any]) -> None:
        self.state.add_container(Container(cfg, state))

    def lookup(self, key: str) -> None:
        self.state.lookup_container(key)

    def fresh_lookup(self, key: str) -> None:
        # What a CLI call does after the interpreter starts: open the store, look up, close.
        with FileState(self.root / "static", self.root / "tmp") as state:
            state.lookup_container(key)

    def save(self, cfg: dict[str, Any], state: dict[str, Any]) -> None:
        ctr = self.objs.setdefault(cfg["id"], self.state.container(cfg["id"]))
        ctr.state = state
        self.state.save_container(ctr)

    def all(self) -> None:
        self.state.all_containers()

    def remove(self, cfg: dict[str, Any]) -> None:
        self.state.remove_container(self.objs[cfg["id"]])


class SqliteDriver:
    """The same operations on Podman's SQLite state."""

    def __init__(self, root: Path) -> None:
        self.db = Sqlite(root / "db.sql")

    def add(self, cfg: dict[str, Any], state: dict[str, Any]) -> None:
        self.db.add(cfg, state)

    def lookup(self, key: str) -> None:
        self.db.lookup(self.db.db, key)

    def fresh_lookup(self, key: str) -> None:
        conn = self.db.connect()
        self.db.lookup(conn, key)
        conn.close()

    def save(self, cfg: dict[str, Any], state: dict[str, Any]) -> None:
        self.db.save(cfg["id"], state)

    def all(self) -> None:
        self.db.all()

    def remove(self, cfg: dict[str, Any]) -> None:
        self.db.remove(cfg["id"])


def run(base: Path, configs: list[Any]) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Every operation on both stores, call by call in alternation (which side goes first
    alternates too), so background writeback and other load hit both sides alike."""
    fs, sq = FsDriver(base / "fs"), SqliteDriver(base / "sq")
    drivers: tuple[Any, Any] = (fs, sq)
    sample = configs[:: max(1, len(configs) // 500)]
    saved = dict(configs[0][1], exitCode=7)
    times: tuple[dict[str, list[float]], dict[str, list[float]]] = ({}, {})

    def phase(name: str, items: list[Any], call: Callable[[Any, Any], object]) -> None:
        for i, item in enumerate(items):
            order = (0, 1) if i % 2 == 0 else (1, 0)
            for side in order:
                driver = drivers[side]
                times[side].setdefault(name, []).append(
                    timed(lambda d=driver, x=item: call(d, x))  # type: ignore[misc]
                )

    phase("add", configs, lambda d, c: d.add(*c))
    phase("lookup name (warm)", sample, lambda d, c: d.lookup(c[0]["name"]))
    phase("lookup name (new process)", sample[:200], lambda d, c: d.fresh_lookup(c[0]["name"]))
    phase("lookup ID prefix", sample, lambda d, c: d.lookup(c[0]["id"][:12]))
    phase("save state", sample, lambda d, c: d.save(c[0], saved))
    phase("all containers", [None] * 3, lambda d, _: d.all())
    phase("remove", sample, lambda d, c: d.remove(c[0]))
    fs.state.close()
    sq.db.db.close()
    return times


def peak_memory(fn: Callable[[], object]) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--containers", type=int, default=2000)
    ap.add_argument("--dir", default=None, help="where to put the stores (default: a temp dir)")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="fsstate-bench-", dir=args.dir))
    configs = make_configs(args.containers)
    try:
        fs, sq = run(base, configs)
        n = len(configs)
        print(f"{n} containers, real 12 KB config; median per call; ratio = fsstate / SQLite\n")
        print(f"{'operation':28} {'fsstate':>11} {'SQLite':>11} {'ratio':>7}")
        for op in fs:
            a, b = statistics.median(fs[op]), statistics.median(sq[op])
            print(f"{op:28} {_fmt(a):>11} {_fmt(b):>11} {a / b:7.2f}")
        tenth = max(1, n // 10)
        print("\nper-call cost, first tenth → last tenth of the adds (flat = does not grow):")
        for name, t in (("fsstate add", fs["add"]), ("SQLite add", sq["add"])):
            first, last = statistics.median(t[:tenth]), statistics.median(t[-tenth:])
            print(f"  {name:14} {_fmt(first):>10} → {_fmt(last):>10}  ({last / first:.2f}×)")
        with FileState(base / "fs" / "static", base / "fs" / "tmp") as state:
            mem_fs = peak_memory(state.all_containers)
        db = Sqlite(base / "sq" / "db.sql")
        mem_sq = peak_memory(db.all)
        print(f"\npeak memory of listing every container: fsstate {mem_fs:.1f} MiB, "
              f"SQLite {mem_sq:.1f} MiB (ratio {mem_fs / mem_sq:.2f})")  # fmt: skip
        print(f"store size on disk: fsstate {_du(base / 'fs') / 2**20:.1f} MiB, "
              f"SQLite {_du(base / 'sq') / 2**20:.1f} MiB")  # fmt: skip
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.1f} µs"


def _du(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            total += os.lstat(os.path.join(dirpath, f)).st_blocks * 512
    return total


if __name__ == "__main__":
    main()
