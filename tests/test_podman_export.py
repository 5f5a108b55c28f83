"""Tests for fsstate.podman.export_db: the store written as Podman's db.sql (schema version 1).

The reference for tables, columns and constraints is the real Podman-written
``examples/data/osv-scalibr-real.db.sql``; documents come from importing ``podman-db.sql``.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from fsstate import Container, DBConfig, FileState, errors, podman

DATA = Path(__file__).parent.parent / "examples" / "data"
PODMAN_DB = DATA / "podman-db.sql"
OSV_DB = DATA / "osv-scalibr-real.db.sql"
OSV_BOLT = DATA / "osv-scalibr-real.bolt_state.db"

TABLES = [
    "ContainerConfig",
    "ContainerDependency",
    "ContainerExecSession",
    "ContainerExitCode",
    "ContainerState",
    "ContainerVolume",
    "DBConfig",
    "IDNamespace",
    "PodConfig",
    "PodState",
    "VolumeConfig",
    "VolumeState",
]
SAMPLE_POD = "86b3b5a947248a687c35bb7aed1ba6651070bf5c7ea335b1960240a92e7cb63f"
POD_LAB = "c9e69ccc929c8fc86be192caae9e8bce1459ff7b2b04d0f0cc4a992b7a7015c1"
INFRA = "916a0bcfdda6a20c8e7d27114542d501a4e35c1c813c66e115e8a8c147b21da7"
REDIS = "131aa7292b08471119a279dab59b1446b04ef8be661e1275ccd93a8d81e254dc"


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return conn.execute(sql).fetchall()


def ordered_dump(st: FileState) -> str:
    """Every document, registration and link of the store as one JSON text (order counts)."""
    out: dict[str, Any] = {"containers": [], "pods": [], "volumes": []}
    for ctr in st.all_containers():
        st.update_container(ctr)
        out["containers"].append(
            [ctr.config, ctr.state, st.get_container_exec_sessions(ctr), st.container_in_use(ctr)]
        )
    for pod in st.all_pods():
        st.update_pod(pod)
        out["pods"].append([pod.config, pod.state, st.pod_containers_by_id(pod)])
    for vol in st.all_volumes():
        out["volumes"].append([vol.config, vol.state, st.volume_in_use(vol)])
    out["db"] = vars(st.get_db_config())
    return json.dumps(out)


@pytest.fixture
def imported(state: FileState) -> FileState:
    podman.import_db(PODMAN_DB, state)
    return state


@pytest.fixture
def exported(imported: FileState, tmp_path: Path) -> Path:
    out = tmp_path / "out" / "db.sql"
    out.parent.mkdir()
    podman.export_db(imported, out)
    return out


@pytest.mark.parametrize("source", [PODMAN_DB, OSV_DB, OSV_BOLT], ids=lambda p: p.name)
def test_round_trip_is_identical(
    state: FileState,
    tmp_path: Path,
    store_opener: Callable[[Path], FileState],
    source: Path,
) -> None:
    """import → export → import into a fresh store gives back the same store."""
    podman.import_file(source, state)
    out = tmp_path / "db.sql"
    podman.export_db(state, out)
    again = store_opener(tmp_path / "again")
    report = podman.import_db(out, again)
    assert report.warnings == [] and report.skipped == []
    assert ordered_dump(again) == ordered_dump(state)
    assert again.all_exit_codes() == state.all_exit_codes()


def test_json_columns_byte_equal_to_podman(exported: Path) -> None:
    """Every table but PodState equals Podman's own rows, JSON text byte for byte; so does
    the exit-code table (ID, Unix-seconds time stamp, code)."""
    for table in TABLES:
        if table == "PodState":
            continue
        ours = sorted(query(exported, f"SELECT * FROM {table}"))
        assert ours == sorted(query(PODMAN_DB, f"SELECT * FROM {table}")), table
    assert query(exported, "SELECT * FROM ContainerExitCode") == [
        ("cf5abf1bc8e2fa589163f3e2964f9bb30f7a9dea978b432eb862c23f33cbd7d2", 1742468486, 0)
    ]


def test_pod_state_infra_column_from_json(exported: Path) -> None:
    """PodState.InfraContainerID is filled from the state JSON (NULL when empty); the JSON
    itself is Podman's text."""
    rows = dict(
        (pid, infra) for pid, infra in query(exported, "SELECT ID, InfraContainerID FROM PodState")
    )
    assert rows == {SAMPLE_POD: INFRA, POD_LAB: None}
    assert sorted(query(exported, "SELECT ID, JSON FROM PodState")) == sorted(
        query(PODMAN_DB, "SELECT ID, JSON FROM PodState")
    )


def test_container_state_columns_as_podman_inserts(exported: Path) -> None:
    """State/ExitCode hold what Podman writes at insert (configured, 0), never the live state."""
    assert set(query(exported, "SELECT State, ExitCode FROM ContainerState")) == {(1, 0)}


def test_integrity_and_foreign_keys(exported: Path) -> None:
    with closing(sqlite3.connect(exported)) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


@pytest.mark.parametrize("table", TABLES)
def test_table_shape_matches_podman(exported: Path, table: str) -> None:
    """Columns (name, type, NOT NULL, default, PK), foreign keys and DDL text as Podman's."""
    for pragma in ("table_info", "foreign_key_list", "index_list"):
        ours = query(exported, f"PRAGMA {pragma}({table})")
        assert sorted(ours) == sorted(query(OSV_DB, f"PRAGMA {pragma}({table})")), pragma
    sql = f"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
    assert query(exported, sql) == query(OSV_DB, sql)


def test_no_other_schema_objects(exported: Path) -> None:
    sql = "SELECT type, name FROM sqlite_master ORDER BY name"
    assert query(exported, sql) == query(OSV_DB, sql)


def test_constraints_enforced(exported: Path) -> None:
    """The CHECK and foreign-key constraints are live, not just present in the text."""
    with closing(sqlite3.connect(exported)) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO ContainerDependency VALUES (?, ?)", (REDIS, REDIS))
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO ContainerExitCode VALUES ('x', 0, 300)")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO ContainerVolume VALUES (?, 'no-such-volume')", (REDIS,))


def test_db_config_row(exported: Path) -> None:
    home = "/home/podmanusr/.local/share/containers/storage"
    assert query(exported, "SELECT * FROM DBConfig") == [
        (
            1,
            1,
            "linux",
            f"{home}/libpod",
            "/run/user/1000/libpod/tmp",
            home,
            "/run/user/1000/containers",
            "overlay",
            f"{home}/volumes",
        )
    ]


def test_podman_queries_answer_like_the_store(imported: FileState, exported: Path) -> None:
    """Podman's own "in use" queries on the export agree with the store."""
    for ctr in imported.all_containers():
        rows = query(
            exported, f"SELECT ID FROM ContainerDependency WHERE DependencyID = '{ctr.id}'"
        )
        assert sorted(r[0] for r in rows) == imported.container_in_use(ctr)
    for vol in imported.all_volumes():
        sql = f"SELECT ContainerID FROM ContainerVolume WHERE VolumeName = '{vol.name}'"
        assert sorted(r[0] for r in query(exported, sql)) == imported.volume_in_use(vol)


def test_current_state_is_exported(imported: FileState, tmp_path: Path) -> None:
    """A state saved after the import is what the export holds (getters return empty states;
    the exporter loads them)."""
    ctr = imported.container(REDIS)
    imported.update_container(ctr)
    ctr.state["state"] = 6
    ctr.state["exitCode"] = 137
    imported.save_container(ctr)
    out = tmp_path / "db.sql"
    podman.export_db(imported, out)
    (text,) = query(out, f"SELECT JSON FROM ContainerState WHERE ID = '{REDIS}'")[0]
    assert json.loads(text)["state"] == 6 and json.loads(text)["exitCode"] == 137
    assert text == podman.go_json(ctr.state)


def test_store_built_through_the_api(state: FileState, tmp_path: Path) -> None:
    """Objects added through the API (not imported) export and import back identically."""
    podman.import_db(OSV_DB, state)
    hello = state.lookup_container("silly_aryabhata")
    state.update_container(hello)
    config = dict(hello.config, id="ab" * 32, name="made-here", labels={"x": "a<b>&c-é"})
    state.add_container(Container(config, hello.state))
    out = tmp_path / "db.sql"
    podman.export_db(state, out)
    (text,) = query(out, "SELECT JSON FROM ContainerConfig WHERE ID = '" + "ab" * 32 + "'")[0]
    assert '"labels":{"x":"a\\u003cb\\u003e\\u0026c-é"}' in text
    fresh = FileState(tmp_path / "again", tmp_path / "again-tmp")
    try:
        podman.import_db(out, fresh)
        assert ordered_dump(fresh) == ordered_dump(state)
    finally:
        fresh.close()


def test_empty_store(state: FileState, tmp_path: Path) -> None:
    """An empty, never-pinned store: every table, no DBConfig row (Podman pins its own config
    on first start, as for a new database)."""
    out = tmp_path / "db.sql"
    podman.export_db(state, out)
    assert (
        sorted(r[0] for r in query(out, "SELECT name FROM sqlite_master WHERE type = 'table'"))
        == TABLES
    )
    assert all(query(out, f"SELECT count(*) FROM {t}") == [(0,)] for t in TABLES)
    podman.import_db(out, state)
    assert state.get_db_config() == DBConfig()


def test_refuses_to_overwrite(imported: FileState, exported: Path) -> None:
    before = exported.read_bytes()
    with pytest.raises(errors.OutputExistsError) as info:
        podman.export_db(imported, exported)
    assert isinstance(info.value, errors.InvalidArgumentError)  # as before it had a class
    assert info.value.path == str(exported) and str(exported) in str(info.value)
    assert exported.read_bytes() == before
    assert os.listdir(exported.parent) == ["db.sql"]


def test_overwrite_replaces(imported: FileState, exported: Path) -> None:
    exported.write_bytes(b"old")
    podman.export_db(imported, exported, overwrite=True)
    assert query(exported, "SELECT count(*) FROM ContainerConfig") == [(7,)]
    assert os.listdir(exported.parent) == ["db.sql"]


def test_missing_directory(imported: FileState, tmp_path: Path) -> None:
    with pytest.raises(errors.InvalidArgumentError):
        podman.export_db(imported, tmp_path / "no" / "such" / "db.sql")


def test_failure_leaves_no_file(imported: FileState, tmp_path: Path) -> None:
    """A store that breaks Podman's constraints (export of a closed store here) writes nothing:
    no target, no temporary file."""
    imported.close()
    with pytest.raises(errors.StateClosedError):
        podman.export_db(imported, tmp_path / "db.sql")
    assert not (tmp_path / "db.sql").exists()
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")] == []


def test_go_json() -> None:
    """Go's encoding/json: compact, order kept, <>& escaped, non-ASCII raw."""
    doc = {"b": 1, "a": ["<x>", "&", "é", "\u2028"], "c": None, "d": True, "e": {"z": 0, "y": 1}}
    assert podman.go_json(doc) == (
        '{"b":1,"a":["\\u003cx\\u003e","\\u0026","é","\\u2028"],"c":null,"d":true,'
        '"e":{"z":0,"y":1}}'
    )
    assert json.loads(podman.go_json(doc)) == doc
