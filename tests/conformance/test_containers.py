"""Conformance: containers and the store's life cycle.

Spec: ``spec/podman-state.md`` §1.2 (Close, GetName, Container, LookupContainerID,
LookupContainer, HasContainer, AddContainer, RemoveContainer, UpdateContainer, SaveContainer,
ContainerInUse, AllContainers, GetContainerConfig, RewriteContainerConfig, SetNamespace), §2.1–2.4,
§2.11, and ``API.md`` Decisions 1, 2, 3, 5, 6.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fsstate import Container, FileState, Pod, Volume, errors

DEP_KEYS = [
    "ipcNsCtr",
    "mountNsCtr",
    "netNsCtr",
    "pidNsCtr",
    "userNsCtr",
    "utsNsCtr",
    "cgroupNsCtr",
]


def resolve(st: FileState, method: str, key: str) -> str:
    """Run a lookup method and return the resolved container ID."""
    got = getattr(st, method)(key)
    return got if isinstance(got, str) else got.id


def expect_exact(
    cls: type[errors.StateError], call: Callable[..., object], *args: object
) -> errors.StateError:
    """Call and assert it raises exactly ``cls`` (not a subclass)."""
    with pytest.raises(cls) as exc:
        call(*args)
    assert type(exc.value) is cls
    return exc.value


# ------------------------------------------------------------------------ store life cycle


def test_new_store_is_empty(state: FileState) -> None:
    """A new store lists no containers, pods or volumes ([] rather than None)."""
    assert state.all_containers() == []
    assert state.all_pods() == []
    assert state.all_volumes() == []


def test_open_accepts_str_paths_and_creates_the_tree(
    tmp_path: Path, make_container: Callable[..., Container]
) -> None:
    """FileState takes str paths, creates missing directories, and keeps data across opens."""
    static, tmp = str(tmp_path / "a" / "static"), str(tmp_path / "b" / "tmp")
    with FileState(static, tmp) as st:
        st.add_container(make_container(1))
    with FileState(static, tmp) as st:
        assert st.has_container(make_container(1).id)


def test_context_manager_closes_the_store(tmp_path: Path) -> None:
    """Leaving a ``with FileState(...)`` block closes the store."""
    with FileState(tmp_path / "static", tmp_path / "tmp") as st:
        assert st.all_containers() == []
    with pytest.raises(errors.StateClosedError):
        st.all_containers()


def test_close_is_idempotent(state: FileState) -> None:
    """close() may be called any number of times."""
    state.close()
    state.close()


def test_close_keeps_the_data(
    state: FileState, reopen: Callable[[], FileState], make_container: Callable[..., Container]
) -> None:
    """Closing a store loses nothing; another store sees the data."""
    ctr = make_container(1)
    state.add_container(ctr)
    state.close()
    assert reopen().container(ctr.id) == Container(ctr.config)


def test_deleting_tmp_dir_loses_nothing(
    tmp_path: Path, make_container: Callable[..., Container]
) -> None:
    """The tmp dir holds only volatile data: deleting it loses no container."""
    ctr = make_container(1)
    with FileState(tmp_path / "static", tmp_path / "tmp") as st:
        st.add_container(ctr)
    shutil.rmtree(tmp_path / "tmp")
    with FileState(tmp_path / "static", tmp_path / "tmp") as st:
        assert st.lookup_container("test1") == Container(ctr.config)


def test_long_lived_store_sees_other_stores_changes(
    state: FileState, reopen: Callable[[], FileState], make_container: Callable[..., Container]
) -> None:
    """A store that already answered a query sees adds and removes made by another store."""
    ctr = make_container(1)
    other = reopen()
    assert not state.has_container(ctr.id)
    with pytest.raises(errors.NoSuchContainerError):
        state.lookup_container("test1")
    other.add_container(ctr)
    assert state.has_container(ctr.id)
    assert state.lookup_container("test1") == Container(ctr.config)
    other.remove_container(ctr)
    assert not state.has_container(ctr.id)
    with pytest.raises(errors.NoSuchContainerError):
        state.lookup_container("test1")


def test_saved_state_is_seen_by_other_store(
    state: FileState, reopen: Callable[[], FileState], make_container: Callable[..., Container]
) -> None:
    """A state saved through one store is what update_container loads through another."""
    ctr = make_container(1)
    state.add_container(ctr)
    other = reopen()
    seen = other.container(ctr.id)
    other.update_container(seen)
    ctr.state["state"] = 3
    ctr.state["pid"] = 4242
    state.save_container(ctr)
    other.update_container(seen)
    assert seen.state == ctr.state


CHILD = """
import json, sys
from fsstate import Container, FileState
static, tmp, action, arg = sys.argv[1:5]
with FileState(static, tmp) as st:
    if action == "add":
        st.add_container(Container(json.loads(arg)))
    else:
        print(st.lookup_container(arg).id)
"""

#: A rule of the 2020 Bolt state that today's Podman changed (test_semantics.py has the
#: "sqlite" side).
bolt_only = pytest.mark.semantics("bolt")


def run_child(tmp_path: Path, action: str, arg: str) -> str:
    args = [sys.executable, "-c", CHILD, str(tmp_path / "static"), str(tmp_path / "tmp")]
    done = subprocess.run([*args, action, arg], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_other_process_sees_changes(
    state: FileState, store_kind: str, tmp_path: Path, make_container: Callable[..., Container]
) -> None:
    """A separate process sees this store's changes, and this store sees the process's."""
    if store_kind != "files":
        pytest.skip("sharing between processes is a property of the file store")
    state.add_container(make_container(1))
    assert run_child(tmp_path, "lookup", "test1") == make_container(1).id
    run_child(tmp_path, "add", json.dumps(make_container(2).config))
    assert state.lookup_container("test2") == Container(make_container(2).config)


CLOSED_CALLS = {
    "get_name": lambda st, c: st.get_name(c.id),
    "container": lambda st, c: st.container(c.id),
    "lookup_container_id": lambda st, c: st.lookup_container_id(c.name),
    "lookup_container": lambda st, c: st.lookup_container(c.name),
    "has_container": lambda st, c: st.has_container(c.id),
    "add_container": lambda st, c: st.add_container(c),
    "remove_container": lambda st, c: st.remove_container(c),
    "update_container": lambda st, c: st.update_container(c),
    "save_container": lambda st, c: st.save_container(c),
    "container_in_use": lambda st, c: st.container_in_use(c),
    "all_containers": lambda st, c: st.all_containers(),
    "get_container_config": lambda st, c: st.get_container_config(c.id),
    "rewrite_container_config": lambda st, c: st.rewrite_container_config(c, c.config),
}


@pytest.mark.parametrize("call", CLOSED_CALLS.values(), ids=CLOSED_CALLS.keys())
def test_closed_store_raises_before_anything_else(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
    call: Callable[..., Any],
) -> None:
    """After close() each container method raises StateClosedError, even for an invalid object."""
    ctr = make_container(1)
    state.add_container(ctr)
    before = snapshot()
    ctr.valid = False
    state.close()
    with pytest.raises(errors.StateClosedError):
        call(state, ctr)
    assert snapshot() == before


# ------------------------------------------------------------------------ add and get


def test_add_then_get(state: FileState, make_container: Callable[..., Container]) -> None:
    """container(id) returns the stored config with an empty state and valid=True."""
    ctr = make_container(1)
    state.add_container(ctr)
    got = state.container(ctr.id)
    assert got == Container(ctr.config)
    assert got.state == {}
    assert got.valid is True
    assert (got.id, got.name, got.pod_id, got.namespace) == (ctr.id, "test1", "", "")


def test_add_is_durable(
    state: FileState, reopen: Callable[[], FileState], make_container: Callable[..., Container]
) -> None:
    """An added container, config and state, is seen by a freshly opened store."""
    ctr = make_container(1)
    state.add_container(ctr)
    got = reopen().container(ctr.id)
    reopen().update_container(got)
    assert got == ctr


def test_unknown_keys_and_unicode_round_trip(
    state: FileState, reopen: Callable[[], FileState], make_container: Callable[..., Container]
) -> None:
    """Unknown config/state keys and non-ASCII values come back unchanged."""
    future = {"list": [1, "two", None, 3.5, True, {"deep": []}], "n": -(2**40)}
    ctr = make_container(1, xFutureKey=future, labels={"ünï": "cødé ✓", "empty": ""})
    ctr.state["xFutureState"] = {"k": [None, 0]}
    state.add_container(ctr)
    got = reopen().container(ctr.id)
    assert got.config == ctr.config
    reopen().update_container(got)
    assert got.state == ctr.state


def test_add_does_not_change_the_callers_object(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """add_container leaves the passed object's config, state and valid flag as they were."""
    ctr = make_container(1)
    before = copy.deepcopy((ctr.config, ctr.state))
    state.add_container(ctr)
    assert (ctr.config, ctr.state) == before
    assert ctr.valid is True


def test_mutating_the_added_object_changes_nothing_stored(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """The store keeps no reference to the object it was given."""
    ctr = make_container(1)
    state.add_container(ctr)
    ctr.config["labels"]["a"] = "changed"
    ctr.state["state"] = 3
    got = state.container(ctr.id)
    state.update_container(got)
    assert got.config["labels"]["a"] == "b"
    assert got.state["state"] == 1


def test_returned_objects_are_independent_copies(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """Mutating a returned container or config changes neither the store nor later results."""
    ctr = make_container(1)
    state.add_container(ctr)
    first = state.container(ctr.id)
    first.config["labels"]["a"] = "changed"
    first.config["name"] = "renamed"
    config = state.get_container_config(ctr.id)
    config["labels"]["a"] = "changed"
    for got in (
        state.container(ctr.id),
        state.lookup_container("test1"),
        state.all_containers()[0],
    ):
        assert got.config == ctr.config
    assert state.get_container_config(ctr.id) == ctr.config
    assert state.container(ctr.id).config is not state.container(ctr.id).config


# ------------------------------------------------------------------------ the shared registries


def test_add_duplicate_container_id(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
) -> None:
    """A container ID already held by a container → ContainerExistsError (Decision 2)."""
    state.add_container(make_container(1))
    before = snapshot()
    expect_exact(errors.ContainerExistsError, state.add_container, make_container(1, name="new"))
    assert snapshot() == before
    state.add_container(make_container(2, name="new"))  # the name was not taken


def test_add_container_with_a_pods_id(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
    make_pod: Callable[..., Pod],
) -> None:
    """A container ID already held by a pod → PodExistsError (Decision 2)."""
    pod = make_pod(1)
    state.add_pod(pod)
    before = snapshot()
    with pytest.raises(errors.PodExistsError):
        state.add_container(make_container(1, id=pod.id))
    assert snapshot() == before


def test_add_container_with_a_containers_name(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
) -> None:
    """A name already held by a container → ContainerExistsError (shared name registry)."""
    state.add_container(make_container(1))
    before = snapshot()
    expect_exact(errors.ContainerExistsError, state.add_container, make_container(2, name="test1"))
    assert snapshot() == before
    state.add_container(make_container(2))  # the ID was not taken


@bolt_only
def test_add_container_with_a_pods_name(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
    make_pod: Callable[..., Pod],
) -> None:
    """A name already held by a pod → PodExistsError (Decision 1: one name registry)."""
    state.add_pod(make_pod(1))
    before = snapshot()
    with pytest.raises(errors.PodExistsError):
        state.add_container(make_container(1, name="pod1"))
    assert snapshot() == before


@bolt_only
def test_add_checks_id_before_name_pod_id(
    state: FileState, make_container: Callable[..., Container], make_pod: Callable[..., Pod]
) -> None:
    """ID taken by a pod and name taken by a container → PodExistsError (ID is checked first)."""
    pod = make_pod(1)
    state.add_pod(pod)
    state.add_container(make_container(1))
    with pytest.raises(errors.PodExistsError):
        state.add_container(make_container(2, id=pod.id, name="test1"))


def test_add_checks_id_before_name_container_id(
    state: FileState, make_container: Callable[..., Container], make_pod: Callable[..., Pod]
) -> None:
    """ID taken by a container and name taken by a pod → ContainerExistsError."""
    state.add_pod(make_pod(1))
    state.add_container(make_container(1))
    expect_exact(errors.ContainerExistsError, state.add_container, make_container(1, name="pod1"))


def test_a_name_may_equal_another_containers_id(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """Names and IDs are separate registries: a name may equal another container's ID."""
    first = make_container(1)
    state.add_container(first)
    state.add_container(make_container(2, name=first.id))
    assert state.get_name(make_container(2).id) == first.id


def test_a_volume_may_share_a_containers_name(
    state: FileState, make_container: Callable[..., Container], make_volume: Callable[..., Volume]
) -> None:
    """Volume names are a registry of their own (Decision 1)."""
    state.add_container(make_container(1))
    state.add_volume(make_volume("test1"))
    assert state.lookup_container("test1").id == make_container(1).id
    assert state.volume("test1").name == "test1"


# ------------------------------------------------------------------------ remove


def test_remove_container(
    state: FileState, reopen: Callable[[], FileState], make_container: Callable[..., Container]
) -> None:
    """A removed container is gone everywhere, and its ID and name can be used again."""
    ctr = make_container(1)
    state.add_container(ctr)
    state.remove_container(ctr)
    other = reopen()
    for st in (state, other):
        assert not st.has_container(ctr.id)
        assert st.all_containers() == []
        with pytest.raises(errors.NoSuchContainerError):
            st.container(ctr.id)
        with pytest.raises(errors.NoSuchContainerError):
            st.lookup_container("test1")
        with pytest.raises(errors.NoSuchContainerError):
            st.get_name(ctr.id)
    state.add_container(make_container(1))
    assert state.lookup_container_id("test1") == ctr.id


def test_remove_does_not_invalidate_the_object(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """A successful remove leaves ctr.valid True (the runtime flips it)."""
    ctr = make_container(1)
    state.add_container(ctr)
    state.remove_container(ctr)
    assert ctr.valid is True


def test_remove_missing_container(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
) -> None:
    """Removing a container not stored → NoSuchContainerError and ctr.valid becomes False."""
    state.add_container(make_container(2))
    before = snapshot()
    ctr = make_container(1)
    with pytest.raises(errors.NoSuchContainerError):
        state.remove_container(ctr)
    assert ctr.valid is False
    with pytest.raises(errors.NoSuchContainerError):  # no validity check: still NoSuch
        state.remove_container(ctr)
    assert snapshot() == before


def test_remove_does_not_check_the_valid_flag(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """remove_container removes a stored container even if the object is marked invalid."""
    ctr = make_container(1)
    state.add_container(ctr)
    ctr.valid = False
    state.remove_container(ctr)
    assert not state.has_container(ctr.id)


@bolt_only
def test_remove_pod_member_is_refused(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
    make_pod: Callable[..., Pod],
) -> None:
    """remove_container of a pod member → PodExistsError; the member stays."""
    pod = make_pod(1)
    state.add_pod(pod)
    member = make_container(1, pod=pod.id)
    state.add_container_to_pod(pod, member)
    before = snapshot()
    expect_exact(errors.PodExistsError, state.remove_container, member)
    assert snapshot() == before


@bolt_only
def test_remove_checks_pod_before_existence(
    state: FileState, make_container: Callable[..., Container], make_pod: Callable[..., Pod]
) -> None:
    """A container naming a pod is refused with PodExistsError even when it is not stored."""
    ctr = make_container(1, pod=make_pod(1).id)
    expect_exact(errors.PodExistsError, state.remove_container, ctr)


def test_remove_with_dependents(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
) -> None:
    """Removing a container others depend on → DependencyExistsError (Decision 3)."""
    base = make_container(1)
    state.add_container(base)
    state.add_container(make_container(2, netNsCtr=base.id))
    before = snapshot()
    expect_exact(errors.DependencyExistsError, state.remove_container, base)
    assert snapshot() == before
    assert base.valid is True


def test_remove_dependent_then_dependency(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """Removing the dependent clears the edge, so the dependency can then be removed."""
    base, dependent = make_container(1), make_container(2, Dependencies=[make_container(1).id])
    state.add_container(base)
    state.add_container(dependent)
    state.remove_container(dependent)
    assert state.container_in_use(base) == []
    state.remove_container(base)
    assert state.all_containers() == []


@bolt_only
def test_remove_checks_existence_before_namespace(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """remove_container of a missing container in another namespace → NoSuchContainerError."""
    state.set_namespace("ns1")
    ctr = make_container(1, namespace="ns2")
    with pytest.raises(errors.NoSuchContainerError):
        state.remove_container(ctr)
    assert ctr.valid is False


@bolt_only
def test_remove_container_in_other_namespace(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
) -> None:
    """remove_container of a stored container outside the namespace → NamespaceMismatchError."""
    ctr = make_container(1, namespace="ns2")
    state.add_container(ctr)
    before = snapshot()
    state.set_namespace("ns1")
    with pytest.raises(errors.NamespaceMismatchError):
        state.remove_container(ctr)
    assert snapshot() == before


# ------------------------------------------------------------------------ add: check order


def test_add_invalid_object(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
) -> None:
    """add_container of an object with valid=False → ContainerRemovedError, nothing written."""
    ctr = make_container(1)
    ctr.valid = False
    before = snapshot()
    with pytest.raises(errors.ContainerRemovedError):
        state.add_container(ctr)
    assert snapshot() == before


@bolt_only
def test_add_pod_member_is_refused(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
    make_pod: Callable[..., Pod],
) -> None:
    """add_container of a container with a pod → InvalidArgumentError (use add_container_to_pod)."""
    pod = make_pod(1)
    state.add_pod(pod)
    before = snapshot()
    expect_exact(errors.InvalidArgumentError, state.add_container, make_container(1, pod=pod.id))
    assert snapshot() == before


def test_add_checks_valid_before_pod(
    state: FileState, make_container: Callable[..., Container], make_pod: Callable[..., Pod]
) -> None:
    """Invalid object that also names a pod → ContainerRemovedError."""
    ctr = make_container(1, pod=make_pod(1).id)
    ctr.valid = False
    with pytest.raises(errors.ContainerRemovedError):
        state.add_container(ctr)


@bolt_only
def test_add_checks_pod_before_namespace(
    state: FileState, make_container: Callable[..., Container], make_pod: Callable[..., Pod]
) -> None:
    """A pod member outside the current namespace → InvalidArgumentError (pod check first)."""
    state.set_namespace("ns1")
    ctr = make_container(1, pod=make_pod(1).id, namespace="ns2")
    expect_exact(errors.InvalidArgumentError, state.add_container, ctr)


@bolt_only
def test_add_checks_namespace_before_id(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """Outside the namespace and a taken ID → NamespaceMismatchError."""
    state.add_container(make_container(1, namespace="ns1"))
    state.set_namespace("ns1")
    with pytest.raises(errors.NamespaceMismatchError):
        state.add_container(make_container(1, namespace="ns2"))


def test_add_checks_name_before_networks(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """A taken name and an empty network name → ContainerExistsError."""
    state.add_container(make_container(1))
    ctr = make_container(2, name="test1", networks=["podman", ""])
    expect_exact(errors.ContainerExistsError, state.add_container, ctr)


def test_add_checks_networks_before_aliases(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """An empty network name and an alias for an unknown network → InvalidArgumentError."""
    ctr = make_container(1, networks=[""], network_alises={"other": ["a"]})
    expect_exact(errors.InvalidArgumentError, state.add_container, ctr)


def test_add_checks_aliases_before_dependencies(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """Aliases for an unknown network and a missing dependency → NoSuchNetworkError."""
    ctr = make_container(
        1, networks=["podman"], network_alises={"other": ["a"]}, netNsCtr=make_container(9).id
    )
    with pytest.raises(errors.NoSuchNetworkError):
        state.add_container(ctr)


def test_add_checks_dependencies_before_volumes(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """A missing dependency and a missing named volume → NoSuchContainerError."""
    ctr = make_container(
        1, Dependencies=[make_container(9).id], namedVolumes=[{"volumeName": "v", "dest": "/d"}]
    )
    with pytest.raises(errors.NoSuchContainerError):
        state.add_container(ctr)


# ------------------------------------------------------------------------ dependencies


@pytest.mark.parametrize("key", [*DEP_KEYS, "Dependencies"])
def test_dependency_keys(
    state: FileState, make_container: Callable[..., Container], key: str
) -> None:
    """Each *NsCtr key and the Dependencies list make the container a dependent (§2.4)."""
    base = make_container(1)
    state.add_container(base)
    value = [base.id] if key == "Dependencies" else base.id
    dependent = make_container(2, **{key: value})
    state.add_container(dependent)
    assert state.container_in_use(base) == [dependent.id]
    assert state.container_in_use(dependent) == []


def test_dependents_listed_once_and_sorted(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """container_in_use lists each dependent once, sorted, however many keys name the base."""
    base = make_container(1)
    state.add_container(base)
    state.add_container(make_container(3, Dependencies=[base.id, base.id]))
    state.add_container(make_container(2, ipcNsCtr=base.id, netNsCtr=base.id, pidNsCtr=base.id))
    assert state.container_in_use(base) == [make_container(2).id, make_container(3).id]


def test_missing_dependency(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
) -> None:
    """A dependency that is not a stored container → NoSuchContainerError, nothing written."""
    state.add_container(make_container(1))
    before = snapshot()
    with pytest.raises(errors.NoSuchContainerError):
        state.add_container(make_container(2, pidNsCtr=make_container(9).id))
    assert snapshot() == before
    state.add_container(make_container(2))  # ID and name were not taken


def test_dependency_on_a_pod_id(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
    make_pod: Callable[..., Pod],
) -> None:
    """A dependency naming a pod ID → NoSuchContainerError."""
    pod = make_pod(1)
    state.add_pod(pod)
    before = snapshot()
    with pytest.raises(errors.NoSuchContainerError):
        state.add_container(make_container(1, Dependencies=[pod.id]))
    assert snapshot() == before


def test_dependency_on_a_pod_member(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
    make_pod: Callable[..., Pod],
) -> None:
    """A container outside pods may not depend on a pod member → InvalidArgumentError."""
    pod = make_pod(1)
    state.add_pod(pod)
    member = make_container(1, pod=pod.id)
    state.add_container_to_pod(pod, member)
    before = snapshot()
    ctr = make_container(2, netNsCtr=member.id)
    expect_exact(errors.InvalidArgumentError, state.add_container, ctr)
    assert snapshot() == before


def test_self_dependency(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
) -> None:
    """A container depending on itself → InvalidArgumentError (Decision 5)."""
    before = snapshot()
    with pytest.raises(errors.InvalidArgumentError):
        state.add_container(make_container(1, Dependencies=[make_container(1).id]))
    assert snapshot() == before


@bolt_only
def test_dependency_in_another_namespace(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
) -> None:
    """A dependency in another libpod namespace → NamespaceMismatchError, even with no NS set."""
    base = make_container(1, namespace="ns1")
    state.add_container(base)
    before = snapshot()
    with pytest.raises(errors.NamespaceMismatchError):
        state.add_container(make_container(2, namespace="ns2", utsNsCtr=base.id))
    assert snapshot() == before


@bolt_only
def test_dependency_in_the_same_namespace(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """A dependency in the container's own namespace is accepted."""
    base = make_container(1, namespace="ns1")
    state.add_container(base)
    state.set_namespace("ns1")
    state.add_container(make_container(2, namespace="ns1", utsNsCtr=base.id))
    assert state.container_in_use(base) == [make_container(2).id]


# ------------------------------------------------------------------------ lookup


@pytest.fixture
def two(state: FileState, make_container: Callable[..., Container]) -> tuple[Container, Container]:
    """Containers 1 (ID 1…1) and 2 (ID 12…2): "1" is ambiguous, "11" and "12" are not."""
    first, second = make_container(1), make_container(2, id="12" + "2" * 30)
    state.add_container(first)
    state.add_container(second)
    return first, second


LOOKUPS = ["lookup_container", "lookup_container_id"]


@pytest.mark.parametrize("method", LOOKUPS)
@pytest.mark.parametrize(
    ("key", "want"),
    [("1" * 32, 0), ("test1", 0), ("11", 0), ("12", 1), ("12" + "2" * 29, 1), ("test2", 1)],
)
def test_lookup_resolves(
    state: FileState, two: tuple[Container, Container], method: str, key: str, want: int
) -> None:
    """Lookup by full ID, exact name or unique ID prefix."""
    assert resolve(state, method, key) == two[want].id


@pytest.mark.parametrize("method", LOOKUPS)
def test_lookup_ambiguous_prefix(
    state: FileState, two: tuple[Container, Container], method: str
) -> None:
    """A prefix of several container IDs → ContainerExistsError."""
    expect_exact(errors.ContainerExistsError, getattr(state, method), "1")


@pytest.mark.parametrize("method", LOOKUPS)
@pytest.mark.parametrize("key", ["13", "test", "test12", "2", "1" * 33])
def test_lookup_no_match(
    state: FileState, two: tuple[Container, Container], method: str, key: str
) -> None:
    """No ID, name or ID prefix matches → NoSuchContainerError (names are never prefixes)."""
    with pytest.raises(errors.NoSuchContainerError):
        getattr(state, method)(key)


@bolt_only
@pytest.mark.parametrize("method", LOOKUPS)
def test_lookup_full_id_beats_name(
    state: FileState, make_container: Callable[..., Container], method: str
) -> None:
    """A string that is one container's ID and another's name resolves to the ID (Decision 6)."""
    first = make_container(1)
    state.add_container(first)
    state.add_container(make_container(2, name=first.id))
    assert resolve(state, method, first.id) == first.id


@pytest.mark.parametrize("method", LOOKUPS)
def test_lookup_name_beats_prefix(
    state: FileState,
    two: tuple[Container, Container],
    make_container: Callable[..., Container],
    method: str,
) -> None:
    """An exact name wins over an ID prefix, ambiguous or not."""
    state.add_container(make_container(3, name="1"))
    state.add_container(make_container(4, name="12"))
    assert resolve(state, method, "1") == make_container(3).id
    assert resolve(state, method, "12") == make_container(4).id


@pytest.mark.parametrize("method", LOOKUPS)
def test_lookup_ignores_pods(
    state: FileState,
    make_container: Callable[..., Container],
    make_pod: Callable[..., Pod],
    method: str,
) -> None:
    """Container lookups never match a pod's ID, name or ID prefix."""
    state.add_container(make_container(1, id="ab" + "1" * 30))
    state.add_pod(make_pod(1, id="ac" + "f" * 30))
    assert resolve(state, method, "a") == "ab" + "1" * 30
    for key in ("ac", "ac" + "f" * 30, "pod1"):
        with pytest.raises(errors.NoSuchContainerError):
            getattr(state, method)(key)


@pytest.mark.parametrize("method", LOOKUPS)
def test_lookup_underscore_is_literal(
    state: FileState, make_container: Callable[..., Container], method: str
) -> None:
    """``_`` in a lookup matches only itself (Decision 5)."""
    state.add_container(make_container(1))
    state.add_container(make_container(2, id="a_b" + "2" * 29))
    with pytest.raises(errors.NoSuchContainerError):
        getattr(state, method)("1_")
    assert resolve(state, method, "a_") == "a_b" + "2" * 29


def test_lookup_container_returns_empty_state(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """lookup_container returns the stored config, an empty state and valid=True."""
    ctr = make_container(1)
    state.add_container(ctr)
    got = state.lookup_container("test1")
    assert got == Container(ctr.config)
    assert got.valid is True


def test_lookup_missing_message_names_the_key(state: FileState) -> None:
    """The not-found error's message names what was looked up."""
    with pytest.raises(errors.NoSuchContainerError) as exc:
        state.lookup_container("nosuchname")
    assert "nosuchname" in str(exc.value)


# ------------------------------------------------------------------------ exact getters


def test_get_name(
    state: FileState, make_container: Callable[..., Container], make_pod: Callable[..., Pod]
) -> None:
    """get_name maps a full container or pod ID to its name."""
    state.add_container(make_container(1))
    state.add_pod(make_pod(1))
    assert state.get_name(make_container(1).id) == "test1"
    assert state.get_name(make_pod(1).id) == "pod1"


@pytest.mark.parametrize("key", ["1", "1" * 31, "test1", "9" * 32])
def test_get_name_exact_only(
    state: FileState, make_container: Callable[..., Container], key: str
) -> None:
    """get_name of a prefix, a name or an unknown ID → NoSuchContainerError."""
    state.add_container(make_container(1))
    with pytest.raises(errors.NoSuchContainerError):
        state.get_name(key)


def test_get_name_of_unknown_id_is_no_such_container(
    state: FileState, make_pod: Callable[..., Pod]
) -> None:
    """get_name of an unknown ID → NoSuchContainerError, even if shaped like a pod ID."""
    with pytest.raises(errors.NoSuchContainerError):
        state.get_name(make_pod(1).id)


def test_container_exact_only(
    state: FileState, make_container: Callable[..., Container], make_pod: Callable[..., Pod]
) -> None:
    """container() of a prefix, a name or a pod ID → NoSuchContainerError."""
    state.add_container(make_container(1))
    state.add_pod(make_pod(1))
    for key in ("1", "test1", make_pod(1).id):
        with pytest.raises(errors.NoSuchContainerError):
            state.container(key)


def test_has_container(
    state: FileState, make_container: Callable[..., Container], make_pod: Callable[..., Pod]
) -> None:
    """has_container is True only for a stored container's full ID."""
    state.add_container(make_container(1))
    state.add_pod(make_pod(1))
    assert state.has_container(make_container(1).id) is True
    for key in ("1", "test1", make_pod(1).id, make_container(2).id):
        assert state.has_container(key) is False


def test_get_container_config(state: FileState, make_container: Callable[..., Container]) -> None:
    """get_container_config returns the stored config as a dict."""
    ctr = make_container(1, labels={"x": "y"})
    state.add_container(ctr)
    got = state.get_container_config(ctr.id)
    assert isinstance(got, dict)
    assert got == ctr.config


def test_get_container_config_exact_only(
    state: FileState, make_container: Callable[..., Container], make_pod: Callable[..., Pod]
) -> None:
    """get_container_config of a prefix, a name or a pod ID → NoSuchContainerError."""
    state.add_container(make_container(1))
    state.add_pod(make_pod(1))
    for key in ("1", "test1", make_pod(1).id):
        with pytest.raises(errors.NoSuchContainerError):
            state.get_container_config(key)


# ------------------------------------------------------------------------ update, save, in-use


def test_update_container_replaces_state(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """update_container replaces ctr.state wholesale with the stored state."""
    ctr = make_container(1)
    state.add_container(ctr)
    got = state.container(ctr.id)
    got.state = {"junk": True, "state": 5}
    state.update_container(got)
    assert got.state == ctr.state
    assert got.config == ctr.config


def test_save_container(
    state: FileState, reopen: Callable[[], FileState], make_container: Callable[..., Container]
) -> None:
    """save_container stores ctr.state and leaves the config alone."""
    ctr = make_container(1)
    state.add_container(ctr)
    ctr.state.update({"state": 3, "pid": 1234, "mounted": True, "mountPoint": "/mnt/x"})
    ctr.config["labels"] = {"changed": "yes"}
    state.save_container(ctr)
    got = reopen().container(ctr.id)
    assert got.config["labels"] == {"a": "b", "c": "d"}
    reopen().update_container(got)
    assert got.state == ctr.state


OBJECT_CALLS = {
    "update_container": lambda st, c: st.update_container(c),
    "save_container": lambda st, c: st.save_container(c),
    "container_in_use": lambda st, c: st.container_in_use(c),
    "rewrite_container_config": lambda st, c: st.rewrite_container_config(c, c.config),
}


@pytest.mark.parametrize("call", OBJECT_CALLS.values(), ids=OBJECT_CALLS.keys())
def test_missing_container_is_invalidated(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
    call: Callable[..., Any],
) -> None:
    """A container that is not stored → NoSuchContainerError (+inv), then ContainerRemovedError."""
    state.add_container(make_container(2))
    before = snapshot()
    ctr = make_container(1)
    with pytest.raises(errors.NoSuchContainerError):
        call(state, ctr)
    assert ctr.valid is False
    with pytest.raises(errors.ContainerRemovedError):
        call(state, ctr)
    assert snapshot() == before


@pytest.mark.parametrize("call", OBJECT_CALLS.values(), ids=OBJECT_CALLS.keys())
def test_invalid_container_is_refused(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
    call: Callable[..., Any],
) -> None:
    """An object with valid=False → ContainerRemovedError, even if it is still stored."""
    ctr = make_container(1)
    state.add_container(ctr)
    before = snapshot()
    ctr.valid = False
    ctr.state["state"] = 3
    with pytest.raises(errors.ContainerRemovedError):
        call(state, ctr)
    assert snapshot() == before


def test_container_in_use_none(state: FileState, make_container: Callable[..., Container]) -> None:
    """container_in_use of a container nobody depends on → []."""
    ctr = make_container(1)
    state.add_container(ctr)
    assert state.container_in_use(ctr) == []


# ------------------------------------------------------------------------ all, rewrite


def test_all_containers_sorted_with_empty_state(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """all_containers returns every container sorted by ID, states not loaded."""
    for n in (3, 1, 2):
        state.add_container(make_container(n))
    got = state.all_containers()
    assert [c.id for c in got] == [make_container(n).id for n in (1, 2, 3)]
    assert all(c.state == {} and c.valid for c in got)
    assert got[0] == Container(make_container(1).config)


def test_all_containers_with_states_loaded(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """all_containers(load_state=True) returns each container with its stored state, sorted
    by ID, and objects that are the caller's own (API.md, AllContainers(loadState))."""
    for n in (2, 1):
        ctr = make_container(n)
        state.add_container(ctr)
        ctr.state = {"state": 3, "exitCode": n}
        state.save_container(ctr)
    got = state.all_containers(load_state=True)
    assert [c.id for c in got] == [make_container(n).id for n in (1, 2)]
    assert [c.state for c in got] == [{"state": 3, "exitCode": 1}, {"state": 3, "exitCode": 2}]
    assert got[0].config == make_container(1).config and got[0].valid
    got[0].state["state"] = 6
    assert state.all_containers(load_state=True)[0].state["state"] == 3
    assert all(c.state == {} for c in state.all_containers(load_state=False))


@bolt_only
def test_all_containers_with_states_keeps_the_namespace(
    state: FileState, spread: list[Container]
) -> None:
    """Loading states changes nothing about which containers are listed."""
    one, _two, _three = spread
    assert [c.id for c in state.all_containers(load_state=True)] == [one.id]


def test_rewrite_container_config(
    state: FileState, reopen: Callable[[], FileState], make_container: Callable[..., Container]
) -> None:
    """rewrite_container_config stores the new config, sets ctr.config, keeps the state."""
    ctr = make_container(1)
    state.add_container(ctr)
    new = {**ctr.config, "labels": {"rewritten": "yes"}, "stopTimeout": 30}
    state.rewrite_container_config(ctr, new)
    assert ctr.config == new
    assert reopen().get_container_config(ctr.id) == new
    assert reopen().lookup_container("test1").config == new
    got = reopen().container(ctr.id)
    reopen().update_container(got)
    assert got.state == make_container(1).state


def test_rewrite_copies_the_new_config(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """Mutating the mapping passed to rewrite_container_config afterwards changes nothing."""
    ctr = make_container(1)
    state.add_container(ctr)
    new = {**ctr.config, "labels": {"k": "v"}}
    state.rewrite_container_config(ctr, new)
    new["labels"]["k"] = "changed"
    assert state.get_container_config(ctr.id)["labels"] == {"k": "v"}


# ------------------------------------------------------------------------ namespaces (§2.3)


@pytest.fixture
def spread(state: FileState, make_container: Callable[..., Container]) -> list[Container]:
    """Container 1 in ns1, 2 in ns2, 3 in no namespace; the store's namespace is then ns1."""
    ctrs = [
        make_container(1, namespace="ns1"),
        make_container(2, namespace="ns2"),
        make_container(3),
    ]
    for ctr in ctrs:
        state.add_container(ctr)
    state.set_namespace("ns1")
    return ctrs


@bolt_only
def test_namespace_filters_listing_and_has(state: FileState, spread: list[Container]) -> None:
    """With a namespace set, others (including the empty namespace) are hidden from all/has."""
    one, two, three = spread
    assert [c.id for c in state.all_containers()] == [one.id]
    assert state.has_container(one.id) is True
    assert state.has_container(two.id) is False
    assert state.has_container(three.id) is False
    state.set_namespace("")
    assert [c.id for c in state.all_containers()] == [one.id, two.id, three.id]
    assert state.has_container(two.id) is True


@bolt_only
def test_namespace_is_not_stored(
    state: FileState, reopen: Callable[[], FileState], spread: list[Container]
) -> None:
    """set_namespace affects only the store object it is called on."""
    assert len(reopen().all_containers()) == 3


@bolt_only
@pytest.mark.parametrize(
    "call",
    [
        lambda st, c: st.container(c.id),
        lambda st, c: st.get_container_config(c.id),
        lambda st, c: st.lookup_container(c.id),
        lambda st, c: st.lookup_container(c.name),
        lambda st, c: st.update_container(c),
        lambda st, c: st.save_container(c),
        lambda st, c: st.container_in_use(c),
    ],
    ids=["container", "config", "lookup-id", "lookup-name", "update", "save", "in-use"],
)
@pytest.mark.parametrize("which", [1, 2], ids=["ns2", "no-ns"])
def test_namespace_mismatch(
    state: FileState, spread: list[Container], call: Callable[..., Any], which: int
) -> None:
    """Direct access to a container outside the namespace → NamespaceMismatchError."""
    with pytest.raises(errors.NamespaceMismatchError):
        call(state, spread[which])


@bolt_only
@pytest.mark.parametrize("key", ["id", "name"])
def test_lookup_container_id_outside_namespace(
    state: FileState, spread: list[Container], key: str
) -> None:
    """lookup_container_id of a container outside the namespace → NoSuchContainerError."""
    with pytest.raises(errors.NoSuchContainerError):
        state.lookup_container_id(getattr(spread[1], key))


@bolt_only
def test_get_name_outside_namespace(state: FileState, spread: list[Container]) -> None:
    """get_name of a container outside the namespace → NoSuchContainerError."""
    with pytest.raises(errors.NoSuchContainerError):
        state.get_name(spread[1].id)
    assert state.get_name(spread[0].id) == "test1"


@bolt_only
def test_prefix_lookup_stays_inside_namespace(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """ID prefixes match only containers of the current namespace."""
    state.add_container(make_container(1, namespace="ns1"))
    state.add_container(make_container(2, id="12" + "2" * 30, namespace="ns2"))
    state.set_namespace("ns1")
    assert state.lookup_container("1").id == make_container(1).id
    assert state.lookup_container_id("1") == make_container(1).id
    with pytest.raises(errors.NoSuchContainerError):
        state.lookup_container("12")


@bolt_only
def test_ambiguity_inside_namespace(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """With a namespace set, lookup_container_id reports ambiguity as NoSuch (SEED quirk)."""
    state.add_container(make_container(1, namespace="ns1"))
    state.add_container(make_container(2, id="12" + "2" * 30, namespace="ns1"))
    state.set_namespace("ns1")
    expect_exact(errors.ContainerExistsError, state.lookup_container, "1")
    with pytest.raises(errors.NoSuchContainerError):
        state.lookup_container_id("1")


@bolt_only
def test_add_outside_namespace(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
) -> None:
    """Adding a container whose namespace differs from the store's → NamespaceMismatchError."""
    state.set_namespace("ns1")
    before = snapshot()
    for ctr in (make_container(1, namespace="ns2"), make_container(1)):
        with pytest.raises(errors.NamespaceMismatchError):
            state.add_container(ctr)
    assert snapshot() == before
    state.add_container(make_container(1, namespace="ns1"))
    assert [c.id for c in state.all_containers()] == [make_container(1).id]


@bolt_only
@pytest.mark.parametrize(
    "call",
    [
        lambda st, c: st.update_container(c),
        lambda st, c: st.save_container(c),
        lambda st, c: st.container_in_use(c),
    ],
    ids=["update", "save", "in-use"],
)
def test_namespace_checked_before_existence(
    state: FileState, make_container: Callable[..., Container], call: Callable[..., Any]
) -> None:
    """A missing container outside the namespace → NamespaceMismatchError, object stays valid."""
    state.set_namespace("ns1")
    ctr = make_container(1, namespace="ns2")
    with pytest.raises(errors.NamespaceMismatchError):
        call(state, ctr)
    assert ctr.valid is True


@bolt_only
def test_invalid_checked_before_namespace(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """An invalid object outside the namespace → ContainerRemovedError."""
    state.set_namespace("ns1")
    ctr = make_container(1, namespace="ns2")
    ctr.valid = False
    with pytest.raises(errors.ContainerRemovedError):
        state.update_container(ctr)


def test_failed_call_inside_transaction_leaves_nothing(
    state: FileState, reopen: Callable[[], FileState], make_container: Callable[..., Container]
) -> None:
    """A call that fails after recording writes is rolled back even if the caller goes on."""
    ctr = make_container(1, state={"state": 1, "pid": 2**70})  # valid schema, not encodable
    with state.transaction():
        with pytest.raises(errors.InvalidArgumentError):
            state.add_container(ctr)
        state.add_container(make_container(2))
    other = reopen()
    assert [c.id for c in other.all_containers()] == [make_container(2).id]
    assert other.has_container(ctr.id) is False
    with pytest.raises(errors.NoSuchContainerError):
        other.lookup_container(ctr.name)
