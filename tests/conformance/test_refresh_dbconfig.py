"""Conformance: refresh() after a reboot, and DB-config pinning.

Spec: ``spec/podman-state.md`` §1.2 (Refresh, GetDBConfig, ValidateDBConfig), §2.9 (the NEWEST
table), §2.10, and ``API.md`` Decision 7. Go's ``omitempty`` keys reset to their zero value are
absent from the state afterwards.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from fsstate import Container, DBConfig, ExecSession, FileState, Pod, Volume, errors

#: A rule of the 2020 Bolt state that today's Podman changed (test_semantics.py has the
#: "sqlite" side).
bolt_only = pytest.mark.semantics("bolt")

ZERO_TIME = "0001-01-01T00:00:00Z"
CID = "1" * 32

#: State keys refresh() removes (zero values of omitempty fields), with non-zero values.
RESET = {
    "pid": 4321,
    "conmonPid": 4310,
    "mountPoint": "/var/lib/containers/storage/overlay/x/merged",
    "mounted": True,
    "newExecSessions": {
        "e1": {"id": "e1", "containerId": CID, "state": 2, "pid": 77, "config": {"command": ["sh"]}}
    },
    "execSessions": {"old": {"id": "old", "command": ["sh"], "pid": 78}},
    "bindMounts": {"/etc/hosts": "/run/x/hosts", "/etc/resolv.conf": "/run/x/resolv.conf"},
    "restartPolicyMatch": True,
    "restartCount": 3,
    "checkpointed": True,
    "restored": True,
    "checkpointPath": "/var/lib/cp",
    "checkpointLog": "/var/lib/cp/dump.log",
    "restoreLog": "/var/lib/cp/restore.log",
    "startupHCPassed": True,
    "startupHCSuccessCount": 2,
    "startupHCFailureCount": 1,
    "hcUnitName": "abc-unit",
    "netns": "/run/netns/netns-1234",
    "networkStatus": {"podman": {"dns_server_ips": ["10.88.0.1"]}},
}

#: State keys refresh() leaves exactly as they were.
KEPT = {
    "exitCode": 137,
    "exited": True,
    "startedTime": "2024-05-01T10:00:00.123456789Z",
    "finishedTime": "2024-05-01T11:00:00Z",
    "oomKilled": True,
    "error": "boom",
    "stoppedByUser": True,
    "configPath": f"/var/lib/containers/storage/overlay-containers/{CID}/userdata/config.json",
    "runDir": f"/run/containers/storage/overlay-containers/{CID}/userdata",
    "networkDescriptions": {"podman": 0},
    "extensionStageHooks": {"poststop": [{"path": "/bin/true"}]},
    "Service": {"servicePods": ["f1" * 16]},
    "xFutureState": {"kept": [1, None]},
}


def loaded_state(st: FileState, cid: str) -> dict[str, Any]:
    ctr = st.container(cid)
    st.update_container(ctr)
    return ctr.state


# ------------------------------------------------------------------------ refresh


@pytest.mark.parametrize(
    ("before", "after"),
    [(0, 1), (1, 1), (2, 1), (3, 6), (4, 6), (5, 6), (6, 6), (7, 7), (8, 6)],
    ids=[
        "unknown",
        "configured",
        "created",
        "running",
        "stopped",
        "paused",
        "exited",
        "removing",
        "stopping",
    ],
)
def test_refresh_container_status(
    state: FileState,
    reopen: Callable[[], FileState],
    make_container: Callable[..., Container],
    before: int,
    after: int,
) -> None:
    """Ran → exited; unknown/configured/created → configured; removing kept (Decision 7)."""
    ctr = make_container(1)
    ctr.state["state"] = before
    state.add_container(ctr)
    state.refresh()
    assert loaded_state(reopen(), ctr.id) == {**ctr.state, "state": after}


def test_refresh_resets_runtime_fields(
    state: FileState, reopen: Callable[[], FileState], make_container: Callable[..., Container]
) -> None:
    """Runtime-only fields are dropped, checkpoint times zeroed, everything else kept."""
    ctr = make_container(
        1,
        state={
            "state": 3,
            **RESET,
            **KEPT,
            "checkpointedTime": "2024-05-01T10:30:00Z",
            "restoredTime": "2024-05-01T10:40:00Z",
        },
    )
    state.add_container(ctr)
    state.refresh()
    want = {**KEPT, "state": 6, "checkpointedTime": ZERO_TIME, "restoredTime": ZERO_TIME}
    assert loaded_state(reopen(), ctr.id) == want


def test_refresh_leaves_absent_times_absent(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """checkpointedTime/restoredTime are zeroed only where present."""
    ctr = make_container(1, state={"state": 5, "pid": 10, **KEPT})
    state.add_container(ctr)
    state.refresh()
    assert loaded_state(state, ctr.id) == {**KEPT, "state": 6}


def test_refresh_pods(
    state: FileState, reopen: Callable[[], FileState], make_pod: Callable[..., Pod]
) -> None:
    """A pod's cgroupPath becomes "" and the rest of its state is kept."""
    pod = make_pod(1, state={"cgroupPath": "/machine.slice/x", "InfraContainerID": CID, "k": 1})
    state.add_pod(pod)
    state.refresh()
    got = reopen().pod(pod.id)
    reopen().update_pod(got)
    assert got.state == {"cgroupPath": "", "InfraContainerID": CID, "k": 1}


def test_refresh_volumes(
    state: FileState, reopen: Callable[[], FileState], make_volume: Callable[..., Volume]
) -> None:
    """A volume's mountCount becomes 0, mountPoint and copiedUp go, the rest is kept."""
    vol = make_volume(
        "data",
        state={
            "mountCount": 3,
            "mountPoint": "/mnt/data",
            "copiedUp": True,
            "notYetChowned": True,
            "uidChowned": 1000,
        },
    )
    state.add_volume(vol)
    state.refresh()
    assert reopen().volume("data").state == {
        "mountCount": 0,
        "notYetChowned": True,
        "uidChowned": 1000,
    }


def test_refresh_empties_exec_registry(
    state: FileState,
    reopen: Callable[[], FileState],
    make_container: Callable[..., Container],
    make_pod: Callable[..., Pod],
) -> None:
    """Every exec-session registration is gone, and containers can then be removed."""
    pod = make_pod(1)
    state.add_pod(pod)
    loner, member = make_container(1), make_container(2, pod=pod.id)
    state.add_container(loner)
    state.add_container_to_pod(pod, member)
    state.add_exec_session(loner, ExecSession("e1", loner.id))
    state.add_exec_session(member, ExecSession("e2", member.id))
    state.refresh()
    other = reopen()
    for sid in ("e1", "e2"):
        with pytest.raises(errors.NoSuchExecSessionError):
            other.get_exec_session(sid)
    assert other.get_container_exec_sessions(loner) == []
    assert other.get_container_exec_sessions(member) == []
    other.remove_container(loner)
    other.remove_container_from_pod(pod, member)


def test_refresh_keeps_everything_else(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
    make_pod: Callable[..., Pod],
    make_volume: Callable[..., Volume],
) -> None:
    """Configs, names, dependencies, memberships, volume users and networks survive refresh."""
    pod = make_pod(1)
    state.add_pod(pod)
    state.add_volume(make_volume("data"))
    base = make_container(1, networks=["a", "b"], network_alises={"a": ["x"]})
    state.add_container(base)
    state.add_container(
        make_container(2, netNsCtr=base.id, namedVolumes=[{"volumeName": "data", "dest": "/d"}])
    )
    state.add_container_to_pod(pod, make_container(3, pod=pod.id))
    state.network_connect(base, "c", ["y"])
    state.validate_db_config(DBConfig("/a", "/b", "/c", "/d", "vfs", "/e"))

    def without_states(dump: dict[str, Any]) -> dict[str, Any]:
        for ctr in dump["containers"].values():
            del ctr["state"]
        for pod in dump["pods"].values():
            del pod["state"]
        return dump

    before = without_states(snapshot())
    state.refresh()
    assert without_states(snapshot()) == before


@bolt_only
def test_refresh_ignores_namespace(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """refresh() resets containers of every namespace, whatever the store's namespace."""
    ctr = make_container(1, namespace="ns2")
    ctr.state["state"] = 3
    state.add_container(ctr)
    state.set_namespace("ns1")
    state.refresh()
    state.set_namespace("")
    assert loaded_state(state, ctr.id)["state"] == 6


def test_refresh_empty_store(state: FileState) -> None:
    """refresh() of an empty store succeeds."""
    state.refresh()
    assert state.all_containers() == []


def test_refresh_closed(
    state: FileState, reopen: Callable[[], FileState], make_container: Callable[..., Container]
) -> None:
    """refresh() on a closed store → StateClosedError, and nothing is reset."""
    ctr = make_container(1)
    ctr.state["state"] = 3
    state.add_container(ctr)
    state.close()
    with pytest.raises(errors.StateClosedError):
        state.refresh()
    assert loaded_state(reopen(), ctr.id)["state"] == 3


# ------------------------------------------------------------------------ DB config

PINNED = DBConfig(
    libpod_root="/var/lib/containers/storage",
    libpod_tmp="/run/libpod",
    storage_root="/var/lib/containers/storage",
    storage_tmp="/run/containers/storage",
    graph_driver="overlay",
    volume_path="/var/lib/containers/storage/volumes",
)


def test_unpinned_config_is_empty(state: FileState) -> None:
    """Before the first validate_db_config, get_db_config is an all-empty DBConfig."""
    got = state.get_db_config()
    assert isinstance(got, DBConfig)
    assert got == DBConfig()


def test_first_validate_pins(state: FileState, reopen: Callable[[], FileState]) -> None:
    """The first validate_db_config pins every field, visible to other stores."""
    state.validate_db_config(PINNED)
    assert state.get_db_config() == PINNED
    other = reopen()
    assert other.get_db_config() == PINNED
    other.validate_db_config(PINNED)


def test_validate_does_not_keep_the_callers_object(state: FileState) -> None:
    """Changing the DBConfig passed in afterwards does not change what is pinned."""
    cfg = dataclasses.replace(PINNED)
    state.validate_db_config(cfg)
    cfg.graph_driver = "vfs"
    assert state.get_db_config() == PINNED


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("libpod_root", "/var/lib/other"),
        ("libpod_tmp", "/run/other"),
        ("storage_root", "/srv/storage"),
        ("storage_tmp", "/run/other/storage"),
        ("graph_driver", "vfs"),
        ("graph_driver", "Overlay"),
        ("volume_path", "/srv/volumes"),
        ("volume_path", "/var/lib/containers/storage/volumes/"),
        ("libpod_root", ""),
    ],
)
def test_validate_mismatch(
    state: FileState, reopen: Callable[[], FileState], semantics: str, field: str, value: str
) -> None:
    """Any field differing from the pinned value → DBConfigMismatchError; the pin stays."""
    state.validate_db_config(PINNED)
    changed = dataclasses.replace(PINNED, **{field: value})
    if semantics == "sqlite" and field == "volume_path" and value == PINNED.volume_path + "/":
        state.validate_db_config(changed)  # NEWEST cleans the volume path too (sq:333)
        return
    for st in (state, reopen()):
        with pytest.raises(errors.DBConfigMismatchError):
            st.validate_db_config(changed)
    assert reopen().get_db_config() == PINNED


@pytest.mark.parametrize(
    "path",
    [
        "/var/lib/containers/storage/",
        "/var/lib//containers/storage",
        "/var/lib/./containers/storage",
        "/var/lib/x/../containers/storage",
    ],
)
@pytest.mark.parametrize("field", ["libpod_root", "storage_root"])
def test_validate_normalizes_paths(state: FileState, field: str, path: str) -> None:
    """The four path fields compare after os.path.normpath."""
    state.validate_db_config(PINNED)
    state.validate_db_config(dataclasses.replace(PINNED, **{field: path}))


@pytest.mark.parametrize(
    ("field", "value"),
    [("libpod_tmp", "/run//libpod/"), ("storage_tmp", "/run/containers/./storage")],
)
def test_validate_normalizes_tmp_paths(state: FileState, field: str, value: str) -> None:
    """libpod_tmp and storage_tmp compare after os.path.normpath too."""
    state.validate_db_config(PINNED)
    state.validate_db_config(dataclasses.replace(PINNED, **{field: value}))


def test_db_config_closed(state: FileState) -> None:
    """get_db_config/validate_db_config on a closed store → StateClosedError; nothing pinned."""
    state.close()
    with pytest.raises(errors.StateClosedError):
        state.get_db_config()
    with pytest.raises(errors.StateClosedError):
        state.validate_db_config(PINNED)


def test_db_config_closed_pins_nothing(state: FileState, reopen: Callable[[], FileState]) -> None:
    """A validate refused because the store is closed pins nothing."""
    state.close()
    with pytest.raises(errors.StateClosedError):
        state.validate_db_config(PINNED)
    assert reopen().get_db_config() == DBConfig()
