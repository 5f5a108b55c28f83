"""Shared fixtures: one store per backend named in STORES and semantics in SEMANTICS, object
factories, and a snapshot.

Tests under ``tests/conformance/`` run on both semantics unless marked
``@pytest.mark.semantics("bolt")`` (a rule only the 2020 Bolt state has) or ``("sqlite")``;
tests elsewhere run on ``"bolt"`` unless marked.

Factories follow Podman's own test fixtures (``libpod/common_test.go``): container N has the ID
``str(N) * 32`` and the name ``"testN"``. Unlike Podman, pods get IDs and names of their own
(``("f" + str(N)) * 16``, ``"podN"``), so a container and a pod never collide unless a test
asks for it with an override. Keyword overrides replace config keys; ``state=`` replaces the
whole state.
"""

from __future__ import annotations

import copy
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from fsstate import Container, FileState, Pod, Volume, errors
from fsstate.store.storage import MemoryStorage

#: Storage backends the whole suite runs against, by name (see ``open_store``).
STORES = ["files", "memory"]
#: The semantics a store may pin (API.md "Today's Podman").
SEMANTICS = ["bolt", "sqlite"]
_CONFORMANCE = Path(__file__).parent / "conformance"
#: The in-memory twin: one MemoryStorage per store root, so a reopen sees the same data.
_MEMORY: dict[Path, MemoryStorage] = {}

ZERO_TIME = "0001-01-01T00:00:00Z"
CREATED = "2020-11-10T12:00:00.000000000Z"


def open_store(kind: str, root: Path, semantics: str | None = None) -> Any:
    """Open a store of backend ``kind`` whose files live under ``root``."""
    if kind == "files":
        return FileState(root / "static", root / "tmp", semantics=semantics)
    if kind == "memory":
        storage = _MEMORY.setdefault(root, MemoryStorage())
        return FileState(root / "static", root / "tmp", storage=storage, semantics=semantics)
    raise ValueError(f"unknown store backend {kind!r}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``semantics``: the marker's values, else both in the conformance suite and
    ``"bolt"`` elsewhere."""
    if "semantics" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("semantics")
    if marker is not None:
        values = list(marker.args)
    elif _CONFORMANCE in Path(str(metafunc.definition.fspath)).parents:
        values = SEMANTICS
    else:
        values = ["bolt"]
    metafunc.parametrize("semantics", values)


def container_id(n: int) -> str:
    return str(n) * 32


def pod_id(n: int) -> str:
    return ("f" + str(n)) * 16


def container_config(n: int, **overrides: Any) -> dict[str, Any]:
    """A minimal ContainerConfig as libpod writes it (non-omitempty keys, Go types)."""
    cid = overrides.get("id", container_id(n))
    config: dict[str, Any] = {
        "spec": {
            "ociVersion": "1.0.2-dev",
            "process": {"user": {"uid": 0, "gid": 0}, "args": ["/bin/sh"], "cwd": "/"},
            "root": {"path": "/does/not/exist/rootfs"},
        },
        "id": cid,
        "name": f"test{n}",
        "lockID": n,
        "idMappingsOptions": {
            "HostUIDMapping": True,
            "HostGIDMapping": True,
            "UIDMap": None,
            "GIDMap": None,
        },
        "Dependencies": None,
        "rootfsImageID": str(cid),
        "rootfsImageName": "testimg",
        "shmSize": 65536000,
        "shmSizeSystemd": 0,
        "staticDir": "/does/not/exist/",
        "mounts": ["/does/not/exist"],
        "secretsPath": "/does/not/exist/secrets",
        "storageOpts": None,
        "privileged": True,
        "label_nested": False,
        "createNetNS": False,
        "UseImageResolvConf": False,
        "useImageHostname": False,
        "UseImageHosts": False,
        "stdin": True,
        "labels": {"a": "b", "c": "d"},
        "createdTime": CREATED,
        "cgroupParent": "",
        "kubeExitCodePropagation": 0,
        "logPath": "/does/not/exist/",
        "logTag": "",
        "logSize": 0,
        "logDriver": "k8s-file",
        "postConfigureNetNS": False,
        "pause": False,
        "defaultPause": False,
        "isService": False,
        "healthcheck": None,
        "healthcheck_on_failure_action": 0,
        "mountAllDevices": False,
        "readWriteTmpfs": False,
    }
    config.update(overrides)
    return config


def container_state(cid: str = "x") -> dict[str, Any]:
    """A ContainerState of a configured (never started) container."""
    return {
        "state": 1,
        "configPath": f"/does/not/exist/specs/{cid}",
        "runDir": "/does/not/exist/tmp/",
        "startedTime": ZERO_TIME,
        "finishedTime": ZERO_TIME,
        "Service": {},
        "checkpointedTime": ZERO_TIME,
        "restoredTime": ZERO_TIME,
    }


def new_container(n: int, state: Mapping[str, Any] | None = None, **overrides: Any) -> Container:
    """Container N (ID ``str(N)*32``, name ``testN``); overrides replace config keys."""
    config = container_config(n, **overrides)
    if state is None:
        state = container_state(str(config["id"]))
    return Container(config, state)


def new_pod(n: int, state: Mapping[str, Any] | None = None, **overrides: Any) -> Pod:
    """Pod N (ID ``("f"+N)*16``, name ``podN``); overrides replace config keys."""
    config: dict[str, Any] = {
        "id": pod_id(n),
        "name": f"pod{n}",
        "labels": {"a": "b"},
        "cgroupParent": "/hello",
        "sharesCgroup": True,
        "created": CREATED,
        "lockID": 1000 + n,
        "ResourceLimits": {},
    }
    config.update(overrides)
    if state is None:
        state = {"cgroupPath": "/path/to/cgroups/hello/", "InfraContainerID": ""}
    return Pod(config, state)


def new_volume(name: str, state: Mapping[str, Any] | None = None, **overrides: Any) -> Volume:
    """A local named volume; overrides replace config keys."""
    config: dict[str, Any] = {
        "name": name,
        "lockID": 2000 + zlib.crc32(str(name).encode()) % 1000,
        "labels": {},
        "volumeDriver": "local",
        "mountPoint": f"/var/lib/containers/storage/volumes/{name}/_data",
        "createdAt": CREATED,
        "isAnon": False,
        "uid": 0,
        "gid": 0,
        "size": 0,
        "inodes": 0,
    }
    config.update(overrides)
    if state is None:
        state = {"mountCount": 0}
    return Volume(config, state)


def dump_store(st: Any) -> dict[str, Any]:
    """Everything the public API reports about a store (namespace ""), for equality checks."""
    out: dict[str, Any] = {"containers": {}, "pods": {}, "volumes": {}, "db": st.get_db_config()}
    for ctr in st.all_containers():
        st.update_container(ctr)
        try:
            networks = st.get_networks(ctr)
        except errors.NoSuchNetworkError:
            networks = None
        sessions = st.get_container_exec_sessions(ctr)
        out["containers"][ctr.id] = {
            "config": ctr.config,
            "state": ctr.state,
            "name": st.get_name(ctr.id),
            "dependents": st.container_in_use(ctr),
            "exec": {sid: st.get_exec_session(sid) for sid in sessions},
            "networks": networks,
            "aliases": st.get_all_network_aliases(ctr),
        }
    for pod in st.all_pods():
        st.update_pod(pod)
        out["pods"][pod.id] = {
            "config": pod.config,
            "state": pod.state,
            "name": st.get_name(pod.id),
            "members": st.pod_containers_by_id(pod),
        }
    for vol in st.all_volumes():
        out["volumes"][vol.name] = {
            "config": vol.config,
            "state": vol.state,
            "users": st.volume_in_use(vol),
        }
    return copy.deepcopy(out)


@pytest.fixture(params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    """The backend under test."""
    kind: str = request.param
    return kind


@pytest.fixture
def store_opener(store_kind: str, semantics: str) -> Iterator[Callable[[Path], Any]]:
    """``open(root)`` opens a store of the backend and semantics under test; all are closed
    at teardown."""
    opened: list[Any] = []

    def _open(root: Path) -> Any:
        st = open_store(store_kind, root, semantics)
        opened.append(st)
        return st

    yield _open
    for st in opened:
        st.close()


@pytest.fixture
def reopen(store_opener: Callable[[Path], Any], tmp_path: Path) -> Callable[[], Any]:
    """``reopen()`` opens another store on the same directories as ``state``."""
    return lambda: store_opener(tmp_path)


@pytest.fixture
def state(reopen: Callable[[], Any]) -> Any:
    """A fresh, empty store under ``tmp_path``."""
    return reopen()


@pytest.fixture
def snapshot(store_kind: str, semantics: str, tmp_path: Path) -> Callable[[], dict[str, Any]]:
    """``snapshot()`` dumps what a freshly opened store on the same directories reports."""

    def _snapshot() -> dict[str, Any]:
        st = open_store(store_kind, tmp_path, semantics)
        try:
            return dump_store(st)
        finally:
            st.close()

    return _snapshot


@pytest.fixture
def make_container() -> Callable[..., Container]:
    """Factory ``make_container(n, state=None, **config_overrides)``."""
    return new_container


@pytest.fixture
def make_pod() -> Callable[..., Pod]:
    """Factory ``make_pod(n, state=None, **config_overrides)``."""
    return new_pod


@pytest.fixture
def make_volume() -> Callable[..., Volume]:
    """Factory ``make_volume(name, state=None, **config_overrides)``."""
    return new_volume
