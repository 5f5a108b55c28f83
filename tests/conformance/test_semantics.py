"""Conformance: the semantics pinned in a store, and the rules of ``"sqlite"`` (today's Podman).

Spec: API.md "Today's Podman"; ``spec/podman-state-newest.md`` §1 (#5, #6-13, #29-30, #33,
#36-38, #41, #49-50) and §4.1 probes P1-P4, P8, P12. The Bolt side of each rule is pinned by the
older modules of this suite, which run under ``"bolt"``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import open_store

from fsstate import Container, DBConfig, FileState, Pod, Volume, errors

sqlite = pytest.mark.semantics("sqlite")


def expect_exact(cls: type[Exception], call: Callable[..., object], *args: object) -> Exception:
    with pytest.raises(cls) as exc:
        call(*args)
    assert type(exc.value) is cls
    return exc.value


# ------------------------------------------------------------------------------- pinning


def test_new_store_pins_bolt_by_default_and_keeps_it(
    store_kind: str, tmp_path: Path, make_container: Callable[..., Container]
) -> None:
    """A store opened without a semantics is "bolt"; so is every later open without one;
    opening it as "sqlite" is DBConfigMismatchError and changes nothing."""
    st = open_store(store_kind, tmp_path)
    assert st.semantics == "bolt"
    st.add_container(make_container(1))
    st.close()
    with pytest.raises(errors.DBConfigMismatchError):
        open_store(store_kind, tmp_path, "sqlite")
    again = open_store(store_kind, tmp_path)
    assert again.semantics == "bolt"
    assert [c.id for c in again.all_containers()] == [make_container(1).id]
    again.close()


def test_explicit_semantics_is_pinned_at_once(store_kind: str, tmp_path: Path) -> None:
    """An explicit semantics is pinned when the store is created, before anything is added:
    a default open then follows it and another explicit value is refused."""
    open_store(store_kind, tmp_path, "sqlite").close()
    st = open_store(store_kind, tmp_path)
    assert st.semantics == "sqlite"
    st.close()
    with pytest.raises(errors.DBConfigMismatchError) as exc:
        open_store(store_kind, tmp_path, "bolt")
    assert "sqlite" in str(exc.value)


def test_pin_is_a_readable_document(tmp_path: Path) -> None:
    """``semantics.json`` says which semantics the store follows."""
    FileState(tmp_path / "static", tmp_path / "tmp", semantics="sqlite").close()
    pin = tmp_path / "static" / "fsstate" / "semantics.json"
    assert json.loads(pin.read_bytes()) == {"semantics": "sqlite"}


def test_unknown_semantics_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(errors.InvalidArgumentError):
        FileState(tmp_path / "static", tmp_path / "tmp", semantics="boltdb")
    assert not (tmp_path / "static" / "fsstate" / "semantics.json").exists()


def test_first_commit_pins_a_default_store(
    store_kind: str, tmp_path: Path, make_container: Callable[..., Container]
) -> None:
    """An empty store opened by default follows a "sqlite" pin another process makes before
    its first write, so a store is never written under two semantics."""
    lazy = open_store(store_kind, tmp_path)
    assert lazy.semantics == "bolt"
    open_store(store_kind, tmp_path, "sqlite").close()
    lazy.add_container(make_container(1))
    assert lazy.semantics == "sqlite"
    lazy.add_pod(Pod({"id": "f" * 64, "name": "test1"}))  # sqlite: names are per kind
    lazy.close()


def test_store_without_pin_but_with_objects_is_bolt(
    tmp_path: Path, make_container: Callable[..., Container]
) -> None:
    """A store written before semantics were pinned (objects, no ``semantics.json``) is
    "bolt"."""
    with FileState(tmp_path / "static", tmp_path / "tmp") as st:
        st.add_container(make_container(1))
    (tmp_path / "static" / "fsstate" / "semantics.json").unlink()
    with pytest.raises(errors.DBConfigMismatchError):
        FileState(tmp_path / "static", tmp_path / "tmp", semantics="sqlite")
    with FileState(tmp_path / "static", tmp_path / "tmp") as st:
        assert st.semantics == "bolt"
        st.add_container(make_container(2, name="taken"))
        with pytest.raises(errors.ContainerExistsError):
            st.add_pod(Pod({"id": "f" * 64, "name": "taken"}))  # one registry (Decision 1)


# ------------------------------------------------------------------------- name registries


@sqlite
def test_container_and_pod_may_share_a_name(
    state: FileState, make_container: Callable[..., Container], make_pod: Callable[..., Pod]
) -> None:
    """Probe P1/P2: container names and pod names are separate registries (NEWEST sqi:441,
    sq:1609); each lookup finds its own kind."""
    pod = make_pod(1, name="web")
    ctr = make_container(1, name="web")
    state.add_pod(pod)
    state.add_container(ctr)
    assert state.lookup_container("web").id == ctr.id
    assert state.lookup_pod("web").id == pod.id
    other = make_container(2)
    state.add_container(other)
    renamed = dict(other.config, name="pod1")
    state.add_pod(make_pod(2, name="pod1"))
    state.rewrite_container_config(other, renamed)
    assert state.get_container_name(other.id) == "pod1"
    assert state.get_pod_name(make_pod(2).id) == "pod1"
    expect_exact(errors.ContainerExistsError, state.add_container, make_container(3, name="web"))
    expect_exact(errors.PodExistsError, state.add_pod, make_pod(3, name="web"))


@sqlite
def test_ids_stay_one_registry(
    state: FileState, make_container: Callable[..., Container], make_pod: Callable[..., Pod]
) -> None:
    """Container and pod IDs still share Podman's IDNamespace table."""
    ctr = make_container(1)
    state.add_container(ctr)
    expect_exact(errors.ContainerExistsError, state.add_pod, make_pod(1, id=ctr.id))
    state.add_pod(make_pod(2))
    expect_exact(errors.PodExistsError, state.add_container, make_container(2, id=make_pod(2).id))


@sqlite
def test_pod_members_through_add_and_remove_container(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
    make_pod: Callable[..., Pod],
) -> None:
    """NEWEST AddContainer takes pod members (the pod must exist) and RemoveContainer removes
    them without checking the pod (sqi:411-577)."""
    pod = make_pod(1)
    member = make_container(1, pod=pod.id)
    before = snapshot()
    expect_exact(errors.NoSuchPodError, state.add_container, member)
    assert snapshot() == before
    state.add_pod(pod)
    state.add_container(member)
    assert state.pod_containers_by_id(pod) == [member.id]
    assert state.pod_has_container(pod, member.id)
    expect_exact(errors.ContainerExistsError, state.remove_pod, pod)
    state.remove_container(member)
    assert state.pod_containers_by_id(pod) == []
    state.remove_pod(pod)
    assert snapshot()["pods"] == {}


# ----------------------------------------------------------------------------- lookups


@sqlite
def test_exact_name_beats_full_id(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """Probe P3: A's full ID is B's name; NEWEST returns B (sq:575-577)."""
    a = make_container(1)
    b = make_container(2, name=a.id)
    state.add_container(a)
    state.add_container(b)
    assert state.lookup_container_id(a.id) == b.id
    assert state.lookup_container(a.id).id == b.id


@sqlite
def test_full_id_is_a_prefix_like_any_other(
    state: FileState, make_container: Callable[..., Container], make_pod: Callable[..., Pod]
) -> None:
    """A full ID that also starts a longer ID is ambiguous (``ID LIKE ?%``): ContainerExists,
    for pods too (sq:1420)."""
    state.add_container(make_container(1, id="abc"))
    state.add_container(make_container(2, id="abcd"))
    expect_exact(errors.ContainerExistsError, state.lookup_container_id, "abc")
    assert state.lookup_container_id("abcd") == "abcd"
    state.add_pod(make_pod(1, id="0f1"))
    state.add_pod(make_pod(2, id="0f12"))
    expect_exact(errors.ContainerExistsError, state.lookup_pod, "0f1")
    assert state.lookup_pod("0f12").id == "0f12"


ODD = ["does not exist", "a%b", "x/y", "../etc", "a\x00b", "-dash", "é", "x" * 300]


@sqlite
@pytest.mark.parametrize("key", ODD)
def test_odd_strings_are_simply_not_found(
    state: FileState,
    make_container: Callable[..., Container],
    make_pod: Callable[..., Pod],
    make_volume: Callable[..., Volume],
    key: str,
) -> None:
    """Probe P12, TestHasContainerNoSuchContainerReturnsFalse: a string that cannot be stored is
    not found (never InvalidArgumentError)."""
    state.add_container(make_container(1))
    state.add_pod(make_pod(1))
    state.add_volume(make_volume("data"))
    assert state.has_container(key) is False
    assert state.has_pod(key) is False
    assert state.has_volume(key) is False
    assert state.container_id_is_volume(key) is False
    for cls, call in [
        (errors.NoSuchContainerError, state.container),
        (errors.NoSuchContainerError, state.lookup_container),
        (errors.NoSuchContainerError, state.lookup_container_id),
        (errors.NoSuchContainerError, state.get_container_config),
        (errors.NoSuchContainerError, state.get_container_name),
        (errors.NoSuchPodError, state.pod),
        (errors.NoSuchPodError, state.lookup_pod),
        (errors.NoSuchPodError, state.get_pod_name),
        (errors.NoSuchVolumeError, state.volume),
        (errors.NoSuchVolumeError, state.lookup_volume),
        (errors.NoSuchExecSessionError, state.get_exec_session),
        (errors.NoSuchExitCodeError, state.get_container_exit_code),
    ]:
        expect_exact(cls, call, key)


@sqlite
def test_odd_strings_never_become_paths(
    state: FileState, make_container: Callable[..., Container], make_volume: Callable[..., Volume]
) -> None:
    """A key that would walk back into the store through ``..`` finds nothing."""
    ctr = make_container(1)
    state.add_container(ctr)
    state.add_volume(make_volume("data"))
    assert state.has_container(f"x/../{ctr.id}") is False
    assert state.has_volume("x/../data") is False
    expect_exact(errors.NoSuchContainerError, state.lookup_container, f"./{ctr.id}")


@sqlite
def test_percent_and_underscore_are_literal(
    state: FileState, make_volume: Callable[..., Volume], make_container: Callable[..., Container]
) -> None:
    """NEWEST's SQL ``LIKE`` treats ``%`` and ``_`` as wildcards for containers; fsstate does not
    (API.md), as NEWEST's volume lookup escapes them (sq:2201-2251)."""
    state.add_volume(make_volume("data_1"))
    state.add_container(make_container(1, id="ab_c"))
    assert state.lookup_volume("data_").name == "data_1"
    expect_exact(errors.NoSuchVolumeError, state.lookup_volume, "data%")
    expect_exact(errors.NoSuchVolumeError, state.lookup_volume, "dat__1")
    expect_exact(errors.NoSuchContainerError, state.lookup_container_id, "ab%")
    expect_exact(errors.NoSuchContainerError, state.lookup_container_id, "a__c")
    assert state.lookup_container_id("ab_") == "ab_c"


# ----------------------------------------------------------------------- unknown objects


@sqlite
def test_unknown_objects_answer_empty(
    state: FileState,
    make_container: Callable[..., Container],
    make_pod: Callable[..., Pod],
    make_volume: Callable[..., Volume],
) -> None:
    """Probe P8: NEWEST has no existence check there (sq:1176, sq:1208, sq:2283, sq:1443);
    nothing is invalidated."""
    ctr, pod, vol = make_container(1), make_pod(1), make_volume("data")
    assert state.get_container_exec_sessions(ctr) == []
    state.remove_container_exec_sessions(ctr)
    assert state.volume_in_use(vol) == []
    assert state.pod_has_container(pod, ctr.id) is False
    assert (ctr.valid, pod.valid, vol.valid) == (True, True, True)
    assert state.all_containers() == []


# ----------------------------------------------------------------------------- namespaces


@sqlite
def test_namespaces_are_gone(
    state: FileState,
    tmp_path: Path,
    store_kind: str,
    make_container: Callable[..., Container],
    make_pod: Callable[..., Pod],
) -> None:
    """Podman 4.5 took namespaces out of the state (``5c2a0670fc``): set_namespace("x") is
    refused, and stored namespace keys neither hide nor separate anything."""
    state.set_namespace("")
    expect_exact(errors.InvalidArgumentError, state.set_namespace, "ns1")
    pod = make_pod(1, namespace="podns")
    base = make_container(1, namespace="ns1", pod=pod.id)
    dep = make_container(2, namespace="ns 2", pod=pod.id, netNsCtr=base.id)
    state.add_pod(pod)
    state.add_container(base)
    state.add_container(dep)
    assert [c.id for c in state.all_containers()] == [base.id, dep.id]
    assert state.container(dep.id).namespace == "ns 2"  # kept, ignored
    if store_kind == "files":
        assert not (tmp_path / "static" / "fsstate" / "index" / "namespaces").exists()


# ----------------------------------------------------------------------------- DB config


@pytest.mark.parametrize("semantics_name", ["bolt", "sqlite"])
def test_validate_db_config_resolves_symlinks_under_sqlite(
    tmp_path: Path, semantics_name: str
) -> None:
    """NEWEST compares paths with symlinks resolved and cleans the volume path (sq:333,
    sq:412-433): ``/home`` vs ``/var/home`` on ostree, a trailing ``/``. Bolt does not."""
    real = tmp_path / "var" / "home"
    real.mkdir(parents=True)
    link = tmp_path / "home"
    os.symlink(real, link)
    with FileState(tmp_path / "static", tmp_path / "tmp", semantics=semantics_name) as st:
        st.validate_db_config(DBConfig(libpod_root=str(link), volume_path="/v/volumes"))
        again = DBConfig(libpod_root=str(real), volume_path="/v/volumes/")
        if semantics_name == "sqlite":
            st.validate_db_config(again)
            assert st.get_db_config().libpod_root == str(link)  # pinned as given, cleaned
        else:
            with pytest.raises(errors.DBConfigMismatchError) as exc:
                st.validate_db_config(again)
            assert set(exc.value.mismatched) == {"libpod_root", "volume_path"}
        elsewhere = DBConfig(libpod_root=str(tmp_path / "elsewhere"))
        with pytest.raises(errors.DBConfigMismatchError):
            st.validate_db_config(elsewhere)


# ------------------------------------------------------------------------------ shared


def test_container_on_its_own_round_trips(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """Adding and getting a plain container is the same in both semantics."""
    ctr = make_container(1)
    state.add_container(ctr)
    assert state.container(ctr.id) == Container(ctr.config)
    assert state.lookup_container("test1") == Container(ctr.config)


# ------------------------------------------------------------------------------ networks


@sqlite
@pytest.mark.parametrize("mode", ["host", "none", "slirp4netns", "container:" + "1" * 32, None])
def test_non_bridge_container_has_no_networks(
    state: FileState, make_container: Callable[..., Container], mode: str | None
) -> None:
    """NEWEST GetNetworks returns nothing for a container not in bridge mode, before even
    looking it up (sq:916-919): a host/none/shared-netns container gets no error."""
    ctr = make_container(1, orderedNetworks=[{"name": "podman", "aliases": ["a"]}])
    if mode is not None:
        ctr.config["networkMode"] = mode
    state.add_container(ctr)
    assert state.get_networks(ctr) == []
    assert state.get_all_network_aliases(ctr) == {}
    assert state.get_network_options(ctr) == {}
    assert state.get_networks(make_container(2, networkMode="host")) == []  # never stored


@sqlite
def test_bridge_container_keeps_its_networks_and_reconnect_is_network_connected(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """A bridge container lists its networks; joining one again is ErrNetworkConnected
    (NEWEST sqi:612-613), which a NEWEST runtime treats as a no-op."""
    ctr = make_container(1, orderedNetworks=[{"name": "podman"}], networkMode="bridge")
    state.add_container(ctr)
    assert state.get_networks(ctr) == ["podman"]
    expect_exact(errors.NetworkConnectedError, state.network_connect, ctr, "podman")


@pytest.mark.semantics("bolt")
def test_bolt_reconnect_stays_network_exists(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """Under "bolt" a repeated connect keeps raising plain NetworkExistsError (API.md)."""
    ctr = make_container(1, networks=["podman"], networkMode="host")
    state.add_container(ctr)
    assert state.get_networks(ctr) == ["podman"]  # 2020 rules: the mode does not matter
    expect_exact(errors.NetworkExistsError, state.network_connect, ctr, "podman")
