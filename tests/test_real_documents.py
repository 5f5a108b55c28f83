"""Every real Podman document in examples/data/podman-json goes into a store and comes back equal.

Equal means the same keys in the same order with the same values: the store must not drop,
reorder or retype anything Podman wrote (API.md: unknown keys round-trip unchanged).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fsstate import Container, ExecSession, FileState, Pod, Volume

DATA = Path(__file__).parent.parent / "examples" / "data" / "podman-json"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def ordered(doc: Any) -> Any:
    """``doc`` with key order made visible to ``==`` (dicts become lists of pairs)."""
    if isinstance(doc, dict):
        return [(k, ordered(v)) for k, v in doc.items()]
    if isinstance(doc, list):
        return [ordered(v) for v in doc]
    return doc


def stems(kind: str) -> list[str]:
    return sorted(p.name[: -len(f".{kind}.json")] for p in DATA.glob(f"*.{kind}.json"))


#: Container configs whose state document has another stem.
STATE_OF = {"recon-quadlet-member-healthcheck": "recon-quadlet-member-exec"}


def state_for(stem: str) -> dict[str, Any]:
    """The ContainerState document that goes with a config, ``{}`` when there is none."""
    path = DATA / f"{STATE_OF.get(stem, stem)}.ContainerState.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


@pytest.fixture
def store(tmp_path: Path) -> FileState:
    return FileState(tmp_path / "static", tmp_path / "tmp")


def add_all(state: FileState, skip: set[str]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Add every volume, pod and container document; return container stem → (config, state)."""
    for stem in stems("VolumeConfig"):
        state_doc = (
            load(f"{stem}.VolumeState.json") if (DATA / f"{stem}.VolumeState.json").exists() else {}
        )
        state.add_volume(Volume(load(f"{stem}.VolumeConfig.json"), state_doc))
    pods = {}
    for stem in stems("PodConfig"):
        pod = Pod(load(f"{stem}.PodConfig.json"), load(f"{stem}.podState.json"))
        state.add_pod(pod)
        pods[pod.id] = pod
    containers = {
        s: (load(f"{s}.ContainerConfig.json"), state_for(s)) for s in stems("ContainerConfig")
    }
    # Volumes that live only in the real db.sql, so the configs that mount them can load.
    for config, _ in containers.values():
        for mount in config.get("namedVolumes") or []:
            if not state.has_volume(mount["volumeName"]):
                state.add_volume(Volume({"name": mount["volumeName"], "lockID": 0}))
    pending = {s: c for s, c in containers.items() if s not in skip}
    added: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    while pending:  # dependency order: add what has all its dependencies
        for stem, (config, state_doc) in list(pending.items()):
            ctr = Container(config, state_doc)
            if not all(state.has_container(d) for d in ctr.dependencies()):
                continue
            if ctr.pod_id:
                state.add_container_to_pod(pods[ctr.pod_id], ctr)
            else:
                state.add_container(ctr)
            added[stem] = pending.pop(stem)
    return added


def test_every_real_document_reads_back_equal(store: FileState, tmp_path: Path) -> None:
    """Configs and states of containers, pods and volumes, key order included, in a fresh store."""
    # recon-v6-orderedNetworks is the jenkins container in Podman 6's layout: same ID.
    added = add_all(store, skip={"recon-v6-orderedNetworks"})
    assert len(added) == len(stems("ContainerConfig")) - 1
    store.close()
    with FileState(tmp_path / "static", tmp_path / "tmp") as fresh:
        for config, state_doc in added.values():
            ctr = fresh.container(config["id"])
            assert ordered(ctr.config) == ordered(config)
            fresh.update_container(ctr)
            assert ordered(ctr.state) == ordered(state_doc)
            assert ordered(fresh.get_container_config(config["id"])) == ordered(config)
        for stem in stems("PodConfig"):
            config = load(f"{stem}.PodConfig.json")
            pod = fresh.pod(config["id"])
            assert ordered(pod.config) == ordered(config)
            fresh.update_pod(pod)
            assert ordered(pod.state) == ordered(load(f"{stem}.podState.json"))
        for stem in stems("VolumeConfig"):
            config = load(f"{stem}.VolumeConfig.json")
            vol = fresh.volume(config["name"])
            assert ordered(vol.config) == ordered(config)
            assert ordered(vol.state) == ordered(load(f"{stem}.VolumeState.json"))


def test_real_relationships(store: FileState) -> None:
    """What the real documents imply: the quadlet member depends on its infra container and
    mounts web-content, the sidecar shares redis's network namespace, networks come from
    ``newNetworks`` with their aliases."""
    add_all(store, skip={"recon-v6-orderedNetworks"})
    infra = store.lookup_container("sample-pod-infra")
    web = store.lookup_container("sample-web")
    redis = store.lookup_container("redis_apple")
    assert store.container_in_use(infra) == [web.id]
    assert store.container_in_use(redis) == [store.lookup_container("redis_exporter").id]
    assert store.volume_in_use(store.volume("web-content")) == [web.id]
    pod = store.lookup_pod("sample-pod")
    assert store.pod_containers_by_id(pod) == sorted([infra.id, web.id])
    jenkins = store.lookup_container("jenkins")
    assert store.get_networks(jenkins) == ["lab_default"]
    assert store.get_all_network_aliases(jenkins) == {"lab_default": ["jenkins"]}
    state = load("recon-quadlet-member-exec.ContainerState.json")
    for sid in state["newExecSessions"]:
        store.add_exec_session(web, ExecSession(sid, web.id))
    assert store.get_container_exec_sessions(web) == sorted(state["newExecSessions"])


def test_podman6_ordered_networks(store: FileState) -> None:
    """A Podman 6 config (``orderedNetworks``) loads with its networks and aliases."""
    config = load("recon-v6-orderedNetworks.ContainerConfig.json")
    store.add_pod(Pod(load("recon-compose-pod-noinfra.PodConfig.json"), {}))
    for mount in config.get("namedVolumes") or []:
        store.add_volume(Volume({"name": mount["volumeName"], "lockID": 0}))
    pod = store.lookup_pod(config["pod"])
    store.add_container_to_pod(
        pod, Container(config, load("recon-compose-jenkins.ContainerState.json"))
    )
    ctr = store.container(config["id"])
    assert ordered(ctr.config) == ordered(config)
    expected = {e["name"]: sorted(e.get("aliases", [])) for e in config["orderedNetworks"]}
    assert store.get_networks(ctr) == sorted(expected)
    assert store.get_all_network_aliases(ctr) == expected
