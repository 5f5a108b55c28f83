"""Tests for fsstate.state.catalog: documents and indexes over one transaction, on real files.

Each test records changes through a Catalog, commits them, and reads them back through a
fresh Catalog over a store opened anew, so what is asserted is what the files hold.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import new_container, new_pod

from fsstate import errors
from fsstate.model import Container, Pod
from fsstate.state.catalog import CONTAINER, POD, VOLUME, Catalog, names_valid
from fsstate.store import layout as L
from fsstate.store.storage import FileStorage
from fsstate.store.txn import Txn

Run = Callable[[Callable[[Catalog], Any]], Any]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """``run(fn)``: ``fn(catalog)`` in one committed transaction on a store opened anew."""

    def _run(fn: Callable[[Catalog], Any]) -> Any:
        storage = FileStorage(str(tmp_path / "static"))
        try:
            with storage.locked():
                txn = Txn(storage)
                result = fn(Catalog(txn))
                storage.commit(txn.ops)
                return result
        finally:
            storage.close()

    return _run


def ctr(n: int, **config: Any) -> Container:
    return new_container(n, **config)


def test_an_added_container_is_found_by_id_name_prefix_and_namespace(run: Run) -> None:
    c1 = ctr(1, namespace="ns")
    run(lambda cat: cat.add_container(c1, None))

    def look(cat: Catalog) -> object:
        return (
            cat.is_container(c1.id),
            cat.id_owner(c1.id),
            cat.name_owner("test1"),
            cat.ids(CONTAINER),
            cat.ids(CONTAINER, "ns"),
            cat.ids(CONTAINER, "other"),
            cat.ids_with_prefix(CONTAINER, "11"),
            cat.in_namespace(CONTAINER, c1.id, "ns"),
            cat.in_namespace(CONTAINER, c1.id, "other"),
            cat.is_pod(c1.id),
        )

    assert run(look) == (
        True,
        CONTAINER,
        (CONTAINER, c1.id),
        [c1.id],
        [c1.id],
        [],
        [c1.id],
        True,
        False,
        False,
    )
    stored = run(lambda cat: cat.container(c1.id))
    assert isinstance(stored, Container)
    assert (stored.id, stored.name, stored.config) == (c1.id, "test1", c1.config)
    assert stored.state == {}  # getters return the config only; the state is read apart


def test_indexes_follow_dependencies_pods_and_volumes(run: Run) -> None:
    pod = new_pod(1)
    c1 = ctr(1, pod=pod.id)
    c2 = ctr(
        2,
        pod=pod.id,
        netNsCtr=c1.id,
        namedVolumes=[{"volumeName": "data", "dest": "/d", "options": None}],
    )

    def add(cat: Catalog) -> None:
        cat.add_pod(pod)
        cat.add_volume("data", {"name": "data"}, {})
        cat.add_container(c1, None)
        cat.add_container(c2, None)

    run(add)
    assert run(lambda cat: cat.dependents(c1.id)) == [c2.id]
    assert run(lambda cat: cat.pod_members(pod.id)) == sorted([c1.id, c2.id])
    assert run(lambda cat: cat.volume_users("data")) == [c2.id]
    assert run(lambda cat: (cat.is_volume("data"), cat.volume_names())) == (True, ["data"])
    assert run(lambda cat: cat.name_owner(pod.name)) == (POD, pod.id)

    def remove_c2(cat: Catalog) -> None:
        stored = cat.container(c2.id)
        assert stored is not None
        cat.remove_container(stored)

    run(remove_c2)
    assert run(lambda cat: cat.dependents(c1.id)) == []
    assert run(lambda cat: cat.pod_members(pod.id)) == [c1.id]
    assert run(lambda cat: cat.volume_users("data")) == []
    assert run(lambda cat: (cat.is_container(c2.id), cat.name_owner("test2"))) == (False, None)
    assert run(lambda cat: cat.ids_with_prefix(CONTAINER, "2")) == []


def test_check_free_names_the_holder_and_checks_the_id_first(run: Run) -> None:
    c1, pod = ctr(1), new_pod(1)

    def add(cat: Catalog) -> None:
        cat.add_container(c1, None)
        cat.add_pod(pod)

    run(add)
    with pytest.raises(errors.ContainerExistsError) as by_id:
        run(lambda cat: cat.check_free(c1.id, pod.name))  # both taken: the ID wins
    assert by_id.value.id == c1.id
    with pytest.raises(errors.PodExistsError) as by_name:
        run(lambda cat: cat.check_free("fresh", pod.name))
    assert by_name.value.name == pod.name
    assert run(lambda cat: cat.check_free("fresh", "free")) is None


def test_rename_moves_the_name_entry(run: Run) -> None:
    c1 = ctr(1)
    run(lambda cat: cat.add_container(c1, None))
    run(lambda cat: cat.rename(CONTAINER, c1.id, "test1", "renamed"))
    assert run(lambda cat: (cat.name_owner("test1"), cat.name_owner("renamed"))) == (
        None,
        (CONTAINER, c1.id),
    )


def test_removing_a_volume_drops_its_registry_entry_and_stale_users(run: Run) -> None:
    c1 = ctr(1, namedVolumes=[{"volumeName": "data", "dest": "/d", "options": None}])

    def add(cat: Catalog) -> None:
        cat.add_volume("data", {"name": "data"}, {"mountCount": 0})
        cat.add_volume("dash", {"name": "dash"}, {})
        cat.add_container(c1, None)

    run(add)
    assert run(lambda cat: cat.ids_with_prefix(VOLUME, "da")) == ["dash", "data"]
    run(lambda cat: cat.remove_volume("data"))
    assert run(lambda cat: cat.is_volume("data")) is False
    assert run(lambda cat: cat.volume_users("data")) == []
    assert run(lambda cat: cat.ids_with_prefix(VOLUME, "da")) == ["dash"]


def test_exec_sessions_are_registered_to_their_container(run: Run) -> None:
    c1 = ctr(1)

    def add(cat: Catalog) -> None:
        cat.add_container(c1, None)
        cat.add_exec("s1", c1.id)

    run(add)
    assert run(lambda cat: (cat.exec_owner("s1"), cat.exec_sessions(c1.id))) == (c1.id, ["s1"])
    assert run(lambda cat: cat.all_exec_sessions()) == ["s1"]
    run(lambda cat: cat.remove_exec("s1", c1.id))
    assert run(lambda cat: (cat.exec_owner("s1"), cat.exec_sessions(c1.id))) == (None, [])


def test_a_pending_change_is_seen_by_the_same_catalog_before_commit(run: Run) -> None:
    c1 = ctr(1)

    def add_then_look(cat: Catalog) -> object:
        cat.add_container(c1, None)
        return (cat.is_container(c1.id), cat.name_owner("test1"), cat.ids(CONTAINER))

    assert run(add_then_look) == (True, (CONTAINER, c1.id), [c1.id])


def test_a_config_whose_id_differs_from_its_directory_is_corrupt(run: Run) -> None:
    c1 = ctr(1)
    run(lambda cat: cat.add_container(c1, None))

    def plant(cat: Catalog) -> None:
        config = dict(c1.config, id="2" * 32)
        cat.put_doc(L.container_doc(c1.id, "config"), config, "planted")

    run(plant)
    with pytest.raises(errors.CorruptDocumentError) as exc:
        run(lambda cat: cat.container(c1.id))
    assert exc.value.path is not None and exc.value.path.endswith("config.json")
    assert c1.id in exc.value.path


@pytest.mark.parametrize(
    ("obj", "valid"),
    [
        (ctr(1), True),
        (ctr(1, namespace="../up"), False),
        (ctr(1, pod="a/b"), False),
        (ctr(1, netNsCtr=".."), False),
        (ctr(1, Dependencies=["ok", "../x"]), False),
        (ctr(1, namedVolumes=[{"volumeName": "v"}, {"volumeName": "a/b"}]), False),
        (ctr(1, Dependencies=["ok", 7], namedVolumes=[{"volumeName": 3}, "odd"], pod=5), True),
        (new_pod(1), True),
        (Pod({"id": "p", "name": "x/y"}), False),
    ],
)
def test_names_valid_refuses_anything_that_would_leave_its_directory(
    obj: Container | Pod, valid: bool
) -> None:
    assert names_valid(obj) is valid
