"""Tests for fsstate.podman's importers: Podman's db.sql (SQLite) and bolt_state.db (BoltDB).

Inputs are the real files in ``examples/data/`` (provenance: ``shared/podman-real/README.md``):
``osv-scalibr-real.db.sql`` and ``osv-scalibr-real.bolt_state.db`` were written by Podman;
``podman-db.sql`` is the real one plus pods, a pod member with exec sessions, a sidecar and
named volumes added with Podman's own INSERT pattern. Broken inputs are made from copies in
``tmp_path``; Bolt files with pods and networks are written by the small writer below.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fsstate import DBConfig, FileState, errors, podman
from fsstate.podman import bolt_write
from fsstate.podman.bolt import BoltReader

DATA = Path(__file__).parent.parent / "examples" / "data"
PODMAN_DB = DATA / "podman-db.sql"
OSV_DB = DATA / "osv-scalibr-real.db.sql"
OSV_BOLT = DATA / "osv-scalibr-real.bolt_state.db"

REDIS = "131aa7292b08471119a279dab59b1446b04ef8be661e1275ccd93a8d81e254dc"
POSTGRES = "cac3a4126cf3093300de43d550fa6fedf9f929889f94be62b97bc4779f3f1cd2"
HELLO = "cf5abf1bc8e2fa589163f3e2964f9bb30f7a9dea978b432eb862c23f33cbd7d2"
JENKINS = "696684340ef09f0c725c693f2e493b0f25c2dbdb8811149acdd008b9a207b726"
INFRA = "916a0bcfdda6a20c8e7d27114542d501a4e35c1c813c66e115e8a8c147b21da7"
WEB = "93d2664f8091183a534138ae63e285f382271e6ecd604791ddf7eb660d115fd7"
SIDECAR = "3a3cd3b7b872c6dec76c42e199d0581424b0f8c345ff84761c0bdf1740d7cddc"
POD_LAB = "c9e69ccc929c8fc86be192caae9e8bce1459ff7b2b04d0f0cc4a992b7a7015c1"
SAMPLE_POD = "86b3b5a947248a687c35bb7aed1ba6651070bf5c7ea335b1960240a92e7cb63f"
EXEC_1 = "29c17ce8b5e4d95a00bba0650512c4e65beec677ea7017c4410673686b287d0d"
EXEC_2 = "b3dafb58a57837ed662dae829b1a58fdb31cf14d314da19de944216107f5b611"
ANON_REDIS = "379d3d8b92e2d1796c55e186c7e7d2e28871fbd6966d7e689fca83cc99ea1015"
ANON_POSTGRES = "c1cc5e6c64c615ceab818a244910ce878fa34422c804acc32db8c6d5143d8c5d"
BOLT_HELLO = "37948ee253b61cbfcc5e01416078909223e3e02d9b2a6d199f0521c861a60058"
BOLT_REDIS = "f2d9ac5a8800b2b449893e70a12d1e9987a16a689c04ab6c9b9994c0e9a21add"
BOLT_VOLUME = "121975a562b4fb9bafdb605ae748d36bb1df8e06ae99d193538dc19cc4e8ad2f"


# -- helpers ---------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def db_rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return conn.execute(sql).fetchall()


def db_docs(path: Path, table: str, key: str = "ID") -> dict[str, dict[str, Any]]:
    """The JSON column of ``table`` parsed, by row key (key order kept)."""
    return {k: json.loads(js) for k, js in db_rows(path, f"SELECT {key}, JSON FROM {table}")}


def assert_same_doc(got: dict[str, Any], want: dict[str, Any]) -> None:
    """Equal values, the same top-level key order, and the same order at every depth."""
    assert list(got.items()) == list(want.items())
    assert json.dumps(got) == json.dumps(want)


def mutated(src: Path, dst: Path, *statements: str) -> Path:
    """A copy of ``src`` with SQL ``statements`` applied (foreign keys off)."""
    shutil.copyfile(src, dst)
    with closing(sqlite3.connect(dst)) as conn:
        for sql in statements:
            conn.execute(sql)
        conn.commit()
    return dst


def ordered_dump(st: FileState) -> str:
    """Every document of the store as one JSON text: key order counts at every depth."""
    out: dict[str, Any] = {"containers": [], "pods": [], "volumes": []}
    for ctr in st.all_containers():
        st.update_container(ctr)
        out["containers"].append([ctr.config, ctr.state, st.get_container_exec_sessions(ctr)])
    for pod in st.all_pods():
        st.update_pod(pod)
        out["pods"].append([pod.config, pod.state, st.pod_containers_by_id(pod)])
    for vol in st.all_volumes():
        out["volumes"].append([vol.config, vol.state, st.volume_in_use(vol)])
    out["db"] = vars(st.get_db_config())
    return json.dumps(out)


BoltTree = dict[bytes, Any]  # a value is bytes or a nested BoltTree


def write_bolt(path: Path, tree: BoltTree, page_size: int = 4096) -> Path:
    """A bbolt file holding ``tree``, made by fsstate's own writer (tested in test_bolt_write)."""
    bolt_write.write(path, tree, page_size)
    return path


def bolt_tree_from_sqlite(db: Path) -> BoltTree:
    """Podman's Bolt layout (spec §3.1/§3.2) holding what ``db`` holds: networks moved from
    each config's ``newNetworks`` into its ``networks`` sub-bucket, as Podman stores them."""
    tree: BoltTree = {b"ctr": {}, b"pod": {}, b"vol": {}, b"exec": {}, b"exit-code": {}}
    for name, config, state in db_rows(
        db, "SELECT c.Name, c.JSON, s.JSON FROM VolumeConfig c JOIN VolumeState s USING (Name)"
    ):
        tree[b"vol"][name.encode()] = {
            b"config": config.encode(),
            b"state": state.encode(),
            b"vol-dependencies": {},
        }
    for pid, config, state in db_rows(
        db, "SELECT c.ID, c.JSON, s.JSON FROM PodConfig c JOIN PodState s USING (ID)"
    ):
        tree[b"pod"][pid.encode()] = {
            b"config": config.encode(),
            b"state": state.encode(),
            b"containers": {},
        }
    for cid, config, state in db_rows(
        db, "SELECT c.ID, c.JSON, s.JSON FROM ContainerConfig c JOIN ContainerState s USING (ID)"
    ):
        doc = json.loads(config)
        networks = doc.pop("newNetworks", {})
        tree[b"ctr"][cid.encode()] = {
            b"config": json.dumps(doc, separators=(",", ":")).encode(),
            b"state": state.encode(),
            b"dependencies": {},
            b"networks": {
                k.encode(): json.dumps(v, separators=(",", ":")).encode()
                for k, v in networks.items()
            },
        }
    for sid, cid in db_rows(db, "SELECT ID, ContainerID FROM ContainerExecSession"):
        tree[b"exec"][sid.encode()] = cid.encode()
    tree[b"exit-code"][HELLO.encode()] = b"0"
    tree[b"runtime-config"] = {
        b"os": b"linux",
        b"static-dir": b"/var/lib/containers/storage/libpod",
        b"tmp-dir": b"/run/libpod",
        b"graph-root": b"/var/lib/containers/storage",
        b"run-root": b"/run/containers/storage",
        b"graph-driver-name": b"overlay",
        b"volume-path": b"/var/lib/containers/storage/volumes",
    }
    return tree


@pytest.fixture
def populated(state: FileState) -> FileState:
    """A store that already holds the real osv-scalibr db.sql."""
    podman.import_db(OSV_DB, state)
    return state


# -- the real db.sql files -------------------------------------------------------------------


def test_osv_real_counts_and_names(state: FileState) -> None:
    """The real Podman db.sql: 3 containers, 5 volumes, no pods, nothing renamed."""
    report = podman.import_db(OSV_DB, state)
    assert (report.containers, report.pods, report.volumes, report.exec_sessions) == (3, 0, 5, 0)
    assert report.format == "sqlite" and report.renamed_pods == [] and report.warnings == []
    assert sorted(c.name for c in state.all_containers()) == [
        "postgres-container",
        "redis_apple",
        "silly_aryabhata",
    ]
    assert state.all_pods() == []
    assert len(state.all_volumes()) == 5


def test_osv_real_volume_users(state: FileState) -> None:
    """ContainerVolume rows become volume users; the three unused anonymous volumes have none."""
    podman.import_db(OSV_DB, state)
    users = {v.name: state.volume_in_use(v) for v in state.all_volumes()}
    assert users.pop(ANON_REDIS) == [REDIS]
    assert users.pop(ANON_POSTGRES) == [POSTGRES]
    assert list(users.values()) == [[], [], []]


def test_podman_db_counts_and_names(state: FileState) -> None:
    """podman-db.sql: 7 containers, 2 pods, 7 volumes, 2 exec sessions, 1 exit code."""
    report = podman.import_db(PODMAN_DB, state)
    assert (report.containers, report.pods, report.volumes, report.exec_sessions) == (7, 2, 7, 2)
    assert report.db_config_pinned
    assert report.skipped == [] and report.exit_codes == 1
    exited = "cf5abf1bc8e2fa589163f3e2964f9bb30f7a9dea978b432eb862c23f33cbd7d2"
    assert state.get_container_exit_code(exited) == 0
    assert state.get_container_exit_code_timestamp(exited).timestamp() == 1742468486
    assert sorted(c.name for c in state.all_containers()) == [
        "jenkins",
        "postgres-container",
        "redis_apple",
        "redis_exporter",
        "sample-pod-infra",
        "sample-web",
        "silly_aryabhata",
    ]
    assert sorted(p.name for p in state.all_pods()) == ["pod_lab", "sample-pod"]
    assert sorted(v.name for v in state.all_volumes())[-2:] == ["lab_jenkins_home", "web-content"]
    assert state.lookup_container("sample-web").id == WEB
    assert state.lookup_pod("sample-pod").id == SAMPLE_POD


def test_podman_db_dependencies(state: FileState) -> None:
    """web depends on the infra container, the sidecar on redis; nothing else is in use."""
    podman.import_db(PODMAN_DB, state)
    in_use = {c.id: state.container_in_use(c) for c in state.all_containers()}
    assert in_use.pop(INFRA) == [WEB]
    assert in_use.pop(REDIS) == [SIDECAR]
    assert all(v == [] for v in in_use.values())
    assert state.container(WEB).dependencies() == [INFRA]
    assert state.container(SIDECAR).dependencies() == [REDIS]


def test_podman_db_pod_members(state: FileState) -> None:
    """Pod membership comes from the configs' ``pod`` key."""
    podman.import_db(PODMAN_DB, state)
    assert state.pod_containers_by_id(state.pod(SAMPLE_POD)) == sorted([INFRA, WEB])
    assert state.pod_containers_by_id(state.pod(POD_LAB)) == [JENKINS]
    assert state.container(REDIS).pod_id == ""


def test_podman_db_volume_users(state: FileState) -> None:
    """Every ContainerVolume row is a volume user; the other volumes have none."""
    podman.import_db(PODMAN_DB, state)
    users = {v.name: state.volume_in_use(v) for v in state.all_volumes()}
    assert users.pop("lab_jenkins_home") == [JENKINS]
    assert users.pop("web-content") == [WEB]
    assert users.pop(ANON_REDIS) == [REDIS]
    assert users.pop(ANON_POSTGRES) == [POSTGRES]
    assert list(users.values()) == [[], [], []]


def test_podman_db_exec_sessions(state: FileState) -> None:
    """ContainerExecSession rows become registrations of the web container."""
    podman.import_db(PODMAN_DB, state)
    assert state.get_container_exec_sessions(state.container(WEB)) == [EXEC_1, EXEC_2]
    assert state.get_exec_session(EXEC_1) == WEB
    assert state.get_exec_session(EXEC_2) == WEB
    assert state.get_container_exec_sessions(state.container(REDIS)) == []


def test_podman_db_config_pinned(state: FileState) -> None:
    """The DBConfig row is pinned field by field."""
    podman.import_db(PODMAN_DB, state)
    home = "/home/podmanusr/.local/share/containers/storage"
    assert state.get_db_config() == DBConfig(
        libpod_root=f"{home}/libpod",
        libpod_tmp="/run/user/1000/libpod/tmp",
        storage_root=home,
        storage_tmp="/run/user/1000/containers",
        graph_driver="overlay",
        volume_path=f"{home}/volumes",
    )


@pytest.mark.parametrize("db", [OSV_DB, PODMAN_DB], ids=lambda p: p.name)
def test_every_document_equal_to_the_database(state: FileState, db: Path) -> None:
    """Every config and state equals its JSON column: every key, every value, key order."""
    podman.import_db(db, state)
    for cid, want in db_docs(db, "ContainerConfig").items():
        ctr = state.container(cid)
        assert_same_doc(ctr.config, want)
        state.update_container(ctr)
        assert_same_doc(ctr.state, db_docs(db, "ContainerState")[cid])
    for pid, want in db_docs(db, "PodConfig").items():
        pod = state.pod(pid)
        assert_same_doc(pod.config, want)
        state.update_pod(pod)
        assert_same_doc(pod.state, db_docs(db, "PodState")[pid])
    for name, want in db_docs(db, "VolumeConfig", "Name").items():
        vol = state.volume(name)
        assert_same_doc(vol.config, want)
        assert_same_doc(vol.state, db_docs(db, "VolumeState", "Name")[name])


def test_truth_comes_from_json_not_stale_columns(state: FileState) -> None:
    """ContainerState.State says configured (1) for all; the JSON says running/exited/created.
    PodState.InfraContainerID is NULL; the JSON names the infra container."""
    assert {r[0] for r in db_rows(PODMAN_DB, "SELECT State FROM ContainerState")} == {1}
    podman.import_db(PODMAN_DB, state)
    states = {}
    for ctr in state.all_containers():
        state.update_container(ctr)
        states[ctr.name] = ctr.state["state"]
    assert states["redis_apple"] == 3 and states["silly_aryabhata"] == 6
    assert states["redis_exporter"] == 2
    pod = state.pod(SAMPLE_POD)
    state.update_pod(pod)
    assert pod.state["InfraContainerID"] == INFRA


def test_source_file_not_modified(state: FileState, tmp_path: Path) -> None:
    """The db.sql is opened read-only: same bytes, no journal or WAL file next to it."""
    src = tmp_path / "src"
    src.mkdir()
    db = src / "db.sql"
    shutil.copyfile(PODMAN_DB, db)
    before, mtime = sha256(db), db.stat().st_mtime_ns
    podman.import_db(db, state)
    assert sha256(db) == before and db.stat().st_mtime_ns == mtime
    assert [p.name for p in src.iterdir()] == ["db.sql"]


def test_dependency_order_is_not_id_order(state: FileState, tmp_path: Path) -> None:
    """A depended-on container whose ID sorts after its dependent's is still added first."""
    late = "ff" + REDIS[2:]
    tables = {
        "IDNamespace": ["ID"],
        "ContainerConfig": ["ID", "JSON"],
        "ContainerState": ["ID", "JSON"],
        "ContainerDependency": ["DependencyID"],
        "ContainerVolume": ["ContainerID"],
    }
    db = mutated(
        PODMAN_DB,
        tmp_path / "db.sql",
        *(
            f"UPDATE {t} SET {c} = replace({c}, '{REDIS}', '{late}')"
            for t, cols in tables.items()
            for c in cols
        ),
    )
    podman.import_db(db, state)
    assert state.container_in_use(state.container(late)) == [SIDECAR]
    assert late > SIDECAR


# -- name clashes between a container and a pod (Podman >= 4.8 allows them) ------------------


def clash_db(tmp_path: Path, pod_name: str, *extra: str) -> Path:
    return mutated(
        PODMAN_DB,
        tmp_path / "clash.sql",
        f"UPDATE PodConfig SET Name = '{pod_name}', JSON = json_set(JSON, '$.name', "
        f"'{pod_name}') WHERE ID = '{POD_LAB}'",
        *extra,
    )


def test_name_clash_is_refused_naming_both(state: FileState, tmp_path: Path) -> None:
    """A pod named like a container: InvalidArgumentError naming both IDs and names."""
    db = clash_db(tmp_path, "redis_apple")
    with pytest.raises(errors.InvalidArgumentError) as info:
        podman.import_db(db, state)
    assert type(info.value) is errors.InvalidArgumentError
    message = str(info.value)
    assert str(db) in message and REDIS in message and POD_LAB in message
    assert "redis_apple" in message
    assert state.all_containers() == [] and state.all_pods() == [] and state.all_volumes() == []


def test_name_clash_renamed_on_request(state: FileState, tmp_path: Path) -> None:
    """With rename_pods_on_clash the pod becomes <name>-pod in its config and the report."""
    db = clash_db(tmp_path, "redis_apple")
    report = podman.import_db(db, state, rename_pods_on_clash=True)
    assert report.renamed_pods == [podman.RenamedPod(POD_LAB, "redis_apple", "redis_apple-pod")]
    pod = state.pod(POD_LAB)
    assert pod.name == "redis_apple-pod"
    want = db_docs(db, "PodConfig")[POD_LAB]
    want["name"] = "redis_apple-pod"
    assert_same_doc(pod.config, want)
    assert state.lookup_container("redis_apple").id == REDIS
    assert state.pod_containers_by_id(pod) == [JENKINS]


def test_name_clash_rename_skips_taken_names(state: FileState, tmp_path: Path) -> None:
    """If <name>-pod is taken too, the pod becomes <name>-pod-2."""
    db = clash_db(
        tmp_path,
        "redis_apple",
        "UPDATE ContainerConfig SET Name = 'redis_apple-pod', JSON = json_set(JSON, '$.name', "
        f"'redis_apple-pod') WHERE ID = '{HELLO}'",
    )
    report = podman.import_db(db, state, rename_pods_on_clash=True)
    assert [r.new_name for r in report.renamed_pods] == ["redis_apple-pod-2"]
    assert state.pod(POD_LAB).name == "redis_apple-pod-2"


# -- bad input: a clear error naming the file, and the target store unchanged ---------------


def assert_refused(
    store: FileState,
    call: Callable[[], object],
    error: type[errors.StateError],
    *needles: str,
) -> errors.StateError:
    before = ordered_dump(store)
    with pytest.raises(error) as info:
        call()
    assert type(info.value) is error
    for needle in needles:
        assert needle in str(info.value)
    assert ordered_dump(store) == before
    return info.value


def test_not_a_sqlite_file(populated: FileState, tmp_path: Path) -> None:
    bad = tmp_path / "db.sql"
    bad.write_text("this is not a database\n" * 10)
    assert_refused(
        populated, lambda: podman.import_db(bad, populated), errors.InvalidArgumentError, str(bad)
    )


def test_missing_file(populated: FileState, tmp_path: Path) -> None:
    gone = tmp_path / "nope.sql"
    assert_refused(
        populated, lambda: podman.import_db(gone, populated), errors.InvalidArgumentError, str(gone)
    )


def test_truncated_db(populated: FileState, tmp_path: Path) -> None:
    bad = tmp_path / "db.sql"
    data = PODMAN_DB.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    err = assert_refused(
        populated, lambda: podman.import_db(bad, populated), errors.CorruptDocumentError, str(bad)
    )
    assert "truncated" in str(err) and err.path == str(bad)


def test_truncated_header(populated: FileState, tmp_path: Path) -> None:
    bad = tmp_path / "db.sql"
    bad.write_bytes(PODMAN_DB.read_bytes()[:50])
    assert_refused(
        populated, lambda: podman.import_db(bad, populated), errors.CorruptDocumentError, str(bad)
    )


def test_damaged_page(populated: FileState, tmp_path: Path) -> None:
    """A b-tree page overwritten with garbage (same size) is caught by SQLite's checks."""
    bad = tmp_path / "db.sql"
    data = bytearray(PODMAN_DB.read_bytes())
    data[4096 * 3 : 4096 * 4] = b"\xa5" * 4096
    bad.write_bytes(bytes(data))
    assert_refused(
        populated, lambda: podman.import_db(bad, populated), errors.CorruptDocumentError, str(bad)
    )


@pytest.mark.parametrize(
    ("table", "key", "row"),
    [
        ("ContainerConfig", "ID", WEB),
        ("ContainerState", "ID", SIDECAR),
        ("PodConfig", "ID", SAMPLE_POD),
        ("PodState", "ID", POD_LAB),
        ("VolumeConfig", "Name", "web-content"),
        ("VolumeState", "Name", ANON_REDIS),
    ],
)
def test_broken_json_row(
    populated: FileState, tmp_path: Path, table: str, key: str, row: str
) -> None:
    """A JSON column cut in half: CorruptDocumentError naming the file, the table and the row."""
    db = mutated(
        PODMAN_DB,
        tmp_path / "db.sql",
        f"UPDATE {table} SET JSON = substr(JSON, 1, length(JSON) / 2) WHERE {key} = '{row}'",
    )
    assert_refused(
        populated,
        lambda: podman.import_db(db, populated),
        errors.CorruptDocumentError,
        str(db),
        table,
        row,
    )


def test_json_not_an_object(populated: FileState, tmp_path: Path) -> None:
    db = mutated(
        PODMAN_DB,
        tmp_path / "db.sql",
        f"UPDATE ContainerState SET JSON = '[1, 2]' WHERE ID = '{REDIS}'",
    )
    assert_refused(
        populated,
        lambda: podman.import_db(db, populated),
        errors.CorruptDocumentError,
        "ContainerState",
        REDIS,
    )


@pytest.mark.parametrize("version", [0, 2])
def test_schema_version_not_1(populated: FileState, tmp_path: Path, version: int) -> None:
    db = mutated(PODMAN_DB, tmp_path / "db.sql", f"UPDATE DBConfig SET SchemaVersion = {version}")
    assert_refused(
        populated,
        lambda: podman.import_db(db, populated),
        errors.InvalidArgumentError,
        str(db),
        "schema version",
    )


def test_sqlite_but_not_podman(populated: FileState, tmp_path: Path) -> None:
    db = tmp_path / "other.sqlite"
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
    assert_refused(
        populated,
        lambda: podman.import_db(db, populated),
        errors.InvalidArgumentError,
        str(db),
        "DBConfig",
    )


def test_dangling_dependency(populated: FileState, tmp_path: Path) -> None:
    """A dependency missing from the file is caught before anything is added."""
    db = mutated(
        PODMAN_DB, tmp_path / "db.sql", f"DELETE FROM ContainerConfig WHERE ID = '{INFRA}'"
    )
    assert_refused(
        populated, lambda: podman.import_db(db, populated), errors.CorruptDocumentError, INFRA
    )


def test_rollback_when_the_store_refuses_midway(state: FileState, tmp_path: Path) -> None:
    """The store already holds one of the file's volumes (the last one added): the six added
    before it inside the transaction are rolled back."""
    podman.import_db(
        mutated(
            PODMAN_DB,
            tmp_path / "one.sql",
            "DELETE FROM ContainerVolume",
            "DELETE FROM ContainerExecSession",
            "DELETE FROM ContainerDependency",
            "DELETE FROM ContainerState",
            "DELETE FROM ContainerConfig",
            "DELETE FROM PodState",
            "DELETE FROM PodConfig",
            "DELETE FROM IDNamespace",
            "DELETE FROM VolumeState WHERE Name <> 'web-content'",
            "DELETE FROM VolumeConfig WHERE Name <> 'web-content'",
        ),
        state,
    )
    assert [v.name for v in state.all_volumes()] == ["web-content"]
    err = assert_refused(
        state,
        lambda: podman.import_db(PODMAN_DB, state),
        errors.VolumeExistsError,
        str(PODMAN_DB),
        "web-content",
    )
    assert err.name == "web-content"


def test_rollback_when_a_container_name_is_taken(state: FileState, tmp_path: Path) -> None:
    """Volumes and pods go in first; a container whose name is taken fails the import late,
    and everything added before it inside the transaction is rolled back."""
    other = "ab" + HELLO[2:]
    db = mutated(
        OSV_DB,
        tmp_path / "one.sql",
        "DELETE FROM ContainerVolume",
        "DELETE FROM VolumeState",
        "DELETE FROM VolumeConfig",
        *(f"DELETE FROM {t} WHERE ID <> '{HELLO}'" for t in ("ContainerState", "ContainerConfig")),
        f"DELETE FROM IDNamespace WHERE ID <> '{HELLO}'",
        f"UPDATE IDNamespace SET ID = '{other}'",
        *(
            f"UPDATE {t} SET ID = '{other}', JSON = replace(JSON, '{HELLO}', '{other}')"
            for t in ("ContainerState", "ContainerConfig")
        ),
        "UPDATE ContainerConfig SET Name = 'sample-web', "
        "JSON = json_set(JSON, '$.name', 'sample-web')",
    )
    podman.import_db(db, state)
    assert [c.name for c in state.all_containers()] == ["sample-web"]
    assert_refused(
        state,
        lambda: podman.import_db(PODMAN_DB, state),
        errors.ContainerExistsError,
        str(PODMAN_DB),
        "sample-web",
    )
    assert state.all_pods() == [] and state.all_volumes() == []


def test_db_config_mismatch_leaves_store_unchanged(state: FileState) -> None:
    state.validate_db_config(DBConfig(libpod_root="/elsewhere", graph_driver="vfs"))
    assert_refused(
        state,
        lambda: podman.import_db(PODMAN_DB, state),
        errors.DBConfigMismatchError,
        str(PODMAN_DB),
    )


def test_importing_twice_is_refused(populated: FileState) -> None:
    assert_refused(populated, lambda: podman.import_db(OSV_DB, populated), errors.VolumeExistsError)


# -- Bolt ------------------------------------------------------------------------------------


def test_bolt_real_two_containers(state: FileState) -> None:
    """The real bolt_state.db: 2 containers, 1 volume used by redis, exit codes skipped."""
    before = sha256(OSV_BOLT)
    report = podman.import_bolt(OSV_BOLT, state)
    assert sha256(OSV_BOLT) == before
    assert (report.format, report.containers, report.pods, report.volumes) == ("bolt", 2, 0, 1)
    assert report.skipped == [] and report.exit_codes == 1
    # exit-code bucket: "0"; exit-code-time-stamp: "2025-03-25T18:04:50.675556901+01:00"
    assert state.get_container_exit_code(BOLT_HELLO) == 0
    stamp = state.get_container_exit_code_timestamp(BOLT_HELLO)
    assert stamp == datetime(2025, 3, 25, 17, 4, 50, tzinfo=UTC)
    assert {c.id: c.name for c in state.all_containers()} == {
        BOLT_HELLO: "angry_archimedes",
        BOLT_REDIS: "redis_apple",
    }
    assert state.volume_in_use(state.volume(BOLT_VOLUME)) == [BOLT_REDIS]
    assert state.get_db_config().graph_driver == "overlay"


def test_bolt_real_documents_equal(state: FileState) -> None:
    """Each config and state equals the bucket's JSON, key order included."""
    podman.import_bolt(OSV_BOLT, state)
    with BoltReader(OSV_BOLT) as reader:
        ctrs = reader.bucket(b"ctr")
        assert ctrs is not None
        for cid, bucket in ctrs.buckets():
            ctr = state.container(cid.decode())
            assert_same_doc(ctr.config, json.loads(bucket.get(b"config") or b""))
            state.update_container(ctr)
            assert_same_doc(ctr.state, json.loads(bucket.get(b"state") or b""))


def test_bolt_with_pods_matches_sqlite_import(
    state: FileState, tmp_path: Path, store_opener: Callable[[Path], FileState]
) -> None:
    """podman-db.sql rewritten in Podman's Bolt layout imports to the same store, networks
    merged back into the configs where Podman's Go order puts them."""
    bolt = write_bolt(tmp_path / "bolt_state.db", bolt_tree_from_sqlite(PODMAN_DB))
    report = podman.import_bolt(bolt, state)
    assert (report.containers, report.pods, report.volumes, report.exec_sessions) == (7, 2, 7, 2)
    other = store_opener(tmp_path / "other")
    podman.import_db(PODMAN_DB, other)
    ours, theirs = json.loads(ordered_dump(state)), json.loads(ordered_dump(other))
    del ours["db"], theirs["db"]
    assert json.dumps(ours) == json.dumps(theirs)


def test_bolt_legacy_networks_and_netns(state: FileState, tmp_path: Path) -> None:
    """Pre-4.0 placeholders become PerNetworkOptions with aliases; a legacy netns key fills a
    state without netns and never overrides one."""
    tree = bolt_tree_from_sqlite(OSV_DB)
    redis: Any = tree[b"ctr"][REDIS.encode()]
    redis[b"networks"] = {b"alpha": REDIS.encode(), b"beta": REDIS.encode()}
    redis[b"aliases"] = {b"beta": {b"cache": REDIS.encode(), b"db": REDIS.encode()}}
    redis[b"netns"] = b"/run/netns/cni-1234"
    tree[b"ctr"][HELLO.encode()][b"netns"] = b"/run/netns/cni-5678"
    podman.import_bolt(write_bolt(tmp_path / "bolt_state.db", tree), state)
    ctr = state.container(REDIS)
    assert ctr.config["newNetworks"] == {
        "alpha": {"interface_name": "eth0"},
        "beta": {"aliases": ["cache", "db"], "interface_name": "eth1"},
    }
    keys = list(ctr.config)
    assert keys.index("newNetworks") == keys.index("networkMode") - 1
    state.update_container(ctr)
    assert ctr.state["netns"].startswith("/run/user/1000/netns/")
    hello = state.container(HELLO)
    state.update_container(hello)
    assert hello.state["netns"] == "/run/netns/cni-5678"
    keys = list(hello.state)
    assert keys.index("netns") < keys.index("Service")


def test_bolt_volume_without_state(state: FileState, tmp_path: Path) -> None:
    """Very old Bolt files may lack a volume's state: it imports with an empty state."""
    tree = bolt_tree_from_sqlite(OSV_DB)
    del tree[b"vol"][ANON_REDIS.encode()][b"state"]
    podman.import_bolt(write_bolt(tmp_path / "bolt_state.db", tree), state)
    assert state.volume(ANON_REDIS).state == {}
    assert state.volume_in_use(state.volume(ANON_REDIS)) == [REDIS]


def test_bolt_not_podman(state: FileState, tmp_path: Path) -> None:
    bolt = write_bolt(tmp_path / "other.db", {b"widgets": {b"a": b"1"}})
    assert_refused(
        state, lambda: podman.import_bolt(bolt, state), errors.InvalidArgumentError, str(bolt)
    )


def test_bolt_broken_json(populated: FileState, tmp_path: Path) -> None:
    """A config whose JSON is damaged in place: the error names the file and the bucket."""
    bad = tmp_path / "bolt_state.db"
    data = OSV_BOLT.read_bytes()
    at = data.index(b'{"spec":')
    bad.write_bytes(data[:at] + b'{"spec" ' + data[at + 8 :])
    assert_refused(
        populated,
        lambda: podman.import_bolt(bad, populated),
        errors.CorruptDocumentError,
        str(bad),
        "bucket ctr/",
    )


def test_bolt_truncated(populated: FileState, tmp_path: Path) -> None:
    bad = tmp_path / "bolt_state.db"
    bad.write_bytes(OSV_BOLT.read_bytes()[: 4096 * 5])
    assert_refused(
        populated, lambda: podman.import_bolt(bad, populated), errors.CorruptDocumentError, str(bad)
    )


def test_bolt_every_broken_page(
    populated: FileState, tmp_path: Path, store_opener: Callable[[Path], FileState]
) -> None:
    """Any one page (after the metas) overwritten with garbage: the import either succeeds
    identically (a free page) or fails with CorruptDocumentError naming the file, and the
    target store is unchanged."""
    reference = store_opener(tmp_path / "reference")
    podman.import_bolt(OSV_BOLT, reference)
    want = ordered_dump(reference)
    data = OSV_BOLT.read_bytes()
    failures = 0
    for pgid in range(2, len(data) // 4096):
        bad = tmp_path / f"page{pgid}.db"
        bad.write_bytes(data[: pgid * 4096] + b"\xa5" * 4096 + data[(pgid + 1) * 4096 :])
        fresh = store_opener(tmp_path / f"store{pgid}")
        try:
            podman.import_bolt(bad, fresh)
        except errors.CorruptDocumentError as exc:
            assert type(exc) is errors.CorruptDocumentError and str(bad) in str(exc)
            assert fresh.all_containers() == [] and fresh.all_volumes() == []
            failures += 1
            continue
        assert ordered_dump(fresh) == want
    assert failures > 0


def test_import_file_sniffs_the_format(state: FileState, tmp_path: Path) -> None:
    assert podman.detect_format(PODMAN_DB) == "sqlite"
    assert podman.detect_format(OSV_BOLT) == "bolt"
    assert podman.import_file(OSV_BOLT, state).format == "bolt"
    other = tmp_path / "x"
    other.write_bytes(b"\0" * 200)
    with pytest.raises(errors.InvalidArgumentError):
        podman.detect_format(other)


def test_randomly_damaged_db_sql_gives_only_state_errors(tmp_path: Path) -> None:
    """Bytes overwritten anywhere in a real db.sql: the import either succeeds or raises a
    StateError naming the file, and a failed import leaves the target store empty."""
    import random

    from fsstate import errors

    original = (DATA / "podman-db.sql").read_bytes()
    for attempt in range(60):  # seed 8 damages the text of SQLite's own integrity report
        rng = random.Random(attempt)
        damaged = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(100, len(damaged))
            damaged[at : at + 16] = rng.randbytes(16)
        path = tmp_path / f"damaged-{attempt}.sql"
        path.write_bytes(bytes(damaged))
        with FileState(tmp_path / f"s{attempt}", tmp_path / f"t{attempt}") as state:
            try:
                podman.import_db(path, state)
            except errors.StateError as exc:
                assert str(path) in str(exc)
                assert state.all_containers() == [] and state.all_volumes() == []
