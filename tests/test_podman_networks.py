"""Per-network options through Podman's two file formats, and which semantics an import pins.

Spec: API.md "Today's Podman" (get_network_options, network_connect(options=),
network_modify; an import of a ``db.sql`` makes a "sqlite" store, of a ``bolt_state.db`` a
"bolt" one, nothing renamed), ``spec/podman-state-newest.md`` #18-21 and
``spec/podman-db-format.md``. What a store's network calls changed must come back from an
export, in setup order where the format keeps one (``db.sql``: ``orderedNetworks``; Bolt keeps
its ``networks`` bucket sorted by name, as Podman 4.x does).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from conftest import new_container, new_pod

from fsstate import Container, FileState, errors, podman

STATIC: dict[str, Any] = {
    "static_ips": ["10.89.0.7"],
    "aliases": ["web", "www"],
    "static_mac": "02:42:ac:11:00:07",
    "interface_name": "eth2",
    "options": {"mtu": "1400"},
}


def store(root: Path, semantics: str | None = None) -> FileState:
    return FileState(root / "static", root / "tmp", semantics=semantics)


def changed_networks(state: FileState) -> Container:
    """Container 1 on c, a, b; then ``d`` joined with every option, ``a`` modified, ``b``
    left: the live list is c, a(modified), d — not what its config said."""
    if state.semantics == "bolt":
        keys: dict[str, Any] = {"networks": ["c", "a", "b"], "network_alises": {"a": ["x"]}}
    else:
        keys = {"orderedNetworks": [{"name": "c"}, {"name": "a", "aliases": ["x"]}, {"name": "b"}]}
    ctr = new_container(1, networkMode="bridge", **keys)
    state.add_container(ctr)
    state.network_connect(ctr, "d", options=STATIC)
    state.network_modify(ctr, "a", {"aliases": ["x", "y"], "interface_name": "eth1"})
    state.network_disconnect(ctr, "b")
    return ctr


EXPECTED: list[tuple[str, dict[str, Any]]] = [
    ("c", {}),
    ("a", {"aliases": ["x", "y"], "interface_name": "eth1"}),
    ("d", STATIC),
]


def options(state: FileState, cid: str) -> list[tuple[str, dict[str, Any]]]:
    return list(state.get_network_options(state.container(cid)).items())


@pytest.mark.semantics("bolt", "sqlite")
def test_db_sql_round_trip_keeps_options_in_setup_order(semantics: str, tmp_path: Path) -> None:
    """Store → db.sql → new store: every option, in setup order (``orderedNetworks``); the
    new store is "sqlite"."""
    src = store(tmp_path / "src", semantics)
    ctr = changed_networks(src)
    assert options(src, ctr.id) == EXPECTED
    podman.export_db(src, tmp_path / "db.sql")
    dst = store(tmp_path / "dst")
    podman.import_db(tmp_path / "db.sql", dst)
    assert dst.semantics == "sqlite"
    assert options(dst, ctr.id) == EXPECTED
    assert dst.get_networks(ctr) == ["c", "a", "d"]
    config = dst.get_container_config(ctr.id)
    assert config["orderedNetworks"] == [{"name": n, **o} for n, o in EXPECTED]


@pytest.mark.semantics("bolt", "sqlite")
def test_bolt_round_trip_keeps_options(semantics: str, tmp_path: Path) -> None:
    """Store → bolt_state.db → new store: every option; the ``networks`` bucket is sorted by
    name, as Podman 4.x keeps it; the new store is "bolt"."""
    src = store(tmp_path / "src", semantics)
    ctr = changed_networks(src)
    podman.export_bolt(src, tmp_path / "bolt_state.db")
    dst = store(tmp_path / "dst")
    podman.import_bolt(tmp_path / "bolt_state.db", dst)
    assert dst.semantics == "bolt"
    assert options(dst, ctr.id) == sorted(EXPECTED)
    assert dst.get_all_network_aliases(ctr) == {"a": ["x", "y"], "d": ["web", "www"]}
    assert "orderedNetworks" not in dst.get_container_config(ctr.id)


def test_unchanged_bolt_config_is_exported_as_it_is(tmp_path: Path) -> None:
    """A "bolt" container whose live list is still the one its config gives keeps its config
    byte for byte in the export (no newNetworks added to a 2020 config)."""
    src = store(tmp_path / "src", "bolt")
    ctr = new_container(1, networkMode="bridge", networks=["a"], network_alises={"a": ["x"]})
    src.add_container(ctr)
    podman.export_db(src, tmp_path / "db.sql")
    dst = store(tmp_path / "dst", "bolt")
    podman.import_db(tmp_path / "db.sql", dst)
    assert dst.get_container_config(ctr.id) == ctr.config
    assert dst.get_all_network_aliases(ctr) == {"a": ["x"]}


# -- which semantics an import pins -----------------------------------------------------------


def clashing_store(tmp_path: Path) -> Path:
    """A db.sql (made by a "sqlite" store) holding pod ``same`` and container ``same``, the
    container a member of the pod."""
    src = store(tmp_path / "src", "sqlite")
    pod = new_pod(1, name="same")
    src.add_pod(pod)
    src.add_container(new_container(1, name="same", pod=pod.id))
    src.add_container(new_container(2))
    out = tmp_path / "db.sql"
    podman.export_db(src, out)
    return out


def test_db_sql_makes_a_sqlite_store_and_renames_nothing(tmp_path: Path) -> None:
    db = clashing_store(tmp_path)
    for flag in (False, True):
        dst = store(tmp_path / f"dst{flag}")
        report = podman.import_db(db, dst, rename_pods_on_clash=flag)
        assert report.renamed_pods == []
        assert dst.semantics == "sqlite"
        assert dst.lookup_pod("same").name == "same"
        assert dst.lookup_container("same").name == "same"
        reopened = store(tmp_path / f"dst{flag}")
        assert reopened.semantics == "sqlite"


def test_import_into_a_bolt_store_keeps_its_semantics(tmp_path: Path) -> None:
    """A store already pinned keeps its semantics: a clash in a "bolt" store is refused as
    before (one name registry), naming both objects."""
    db = clashing_store(tmp_path)
    dst = store(tmp_path / "dst", "bolt")
    with pytest.raises(errors.InvalidArgumentError) as exc:
        podman.import_db(db, dst)
    assert type(exc.value) is errors.InvalidArgumentError
    assert "same" in str(exc.value)
    assert dst.semantics == "bolt" and dst.all_containers() == [] and dst.all_pods() == []


def test_bolt_file_makes_a_bolt_store(tmp_path: Path) -> None:
    src = store(tmp_path / "src", "sqlite")
    src.add_container(new_container(1))
    podman.export_bolt(src, tmp_path / "bolt_state.db")
    dst = store(tmp_path / "dst")
    podman.import_bolt(tmp_path / "bolt_state.db", dst)
    assert dst.semantics == "bolt"
    assert store(tmp_path / "dst").semantics == "bolt"


def test_empty_file_still_pins(tmp_path: Path) -> None:
    """An empty db.sql still makes a "sqlite" store (the pin is the import's commit)."""
    src = store(tmp_path / "src", "sqlite")
    podman.export_db(src, tmp_path / "db.sql")
    dst = store(tmp_path / "dst")
    podman.import_db(tmp_path / "db.sql", dst)
    assert store(tmp_path / "dst").semantics == "sqlite"
    with pytest.raises(errors.DBConfigMismatchError):
        store(tmp_path / "dst", "bolt")


def test_failed_import_leaves_a_new_store_unpinned(tmp_path: Path) -> None:
    """An import refused inside its transaction (a member of a pod the file lacks) leaves the
    new store as it was: no pin, so it can still become either semantics."""
    db = clashing_store(tmp_path)
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("DELETE FROM PodState")
        conn.execute("DELETE FROM PodConfig")
        conn.commit()
    fresh = store(tmp_path / "fresh")
    with pytest.raises(errors.CorruptDocumentError):
        podman.import_db(db, fresh)
    assert fresh.all_containers() == []
    fresh.close()
    assert store(tmp_path / "fresh", "bolt").semantics == "bolt"
