"""fsstate against the real Podman 4.3 (Debian 12; ``.ci/run`` installs it).

A fresh state is made with the real ``podman`` under a private base directory (volumes, pods
with and without infra, networks with aliases and a static IP, ``network connect``, a
dependency, a network-namespace owner, a rename, a removal, a libpod namespace, a running
container with two exec sessions, one of them created over the REST API, an exited one). Then:

* :func:`import_bolt` of Podman's ``bolt_state.db`` holds what Podman's own ``ps``,
  ``inspect``, ``pod inspect`` and ``volume inspect`` say: IDs, names, status, pods and infra,
  volumes and their users, dependencies, networks and aliases, exec session IDs.
* :func:`export_bolt` of that store, put in Podman's place: Podman's ``ps -a``, ``inspect``,
  ``pod ps``, ``pod inspect``, ``volume ls`` and ``volume inspect`` print what they printed on
  Podman's own file (relative times aside: :data:`RELATIVE`), and Podman then writes to the
  file (create, rename, rm) and fsstate imports what it wrote.

These tests fail, never skip, when Podman is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fsstate import FileState, cli, podman

from .realpodman import BUSYBOX, Podman

pytestmark = pytest.mark.slow

# Podman's ContainerStatus by the number it stores, as inspect prints it
# (libpod/define/containerstate.go, String: "configured" prints as "created").
STATUS = {1: "created", 2: "created", 3: "running", 4: "stopped", 5: "paused", 6: "exited"}
# Durations relative to now ("51 seconds ago", "Up 3 minutes"): they move between two runs.
RELATIVE = re.compile(
    r"Less than a second|About a minute|About an hour|\d+ (second|minute|hour)s?|ago"
)
# Lists Podman builds by iterating a Go map, so their order changes from run to run on one
# and the same state: ps's Networks, pod inspect's SharedNamespaces, inspect's ExecIDs (the
# state's newExecSessions map) and Dependencies (a set in Container.Dependencies).
MAP_ORDER = ("Networks", "SharedNamespaces", "ExecIDs", "Dependencies")
STATIC_IP = "10.91.0.50"


@dataclass
class Views:
    """What Podman prints about its state."""

    ps: list[dict[str, Any]]
    ns_ps: list[dict[str, Any]]
    inspect: list[dict[str, Any]]
    pod_ps: list[dict[str, Any]]
    pod_inspect: list[dict[str, Any]]
    volume_ls: list[dict[str, Any]]
    volume_inspect: list[dict[str, Any]]


@dataclass
class Made:
    pm: Podman
    views: Views
    api_exec_id: str
    #: A copy of Podman's bolt_state.db as it was when :attr:`views` were taken (a later test
    #: puts an exported state in Podman's place and changes it).
    bolt_copy: Path


def views(pm: Podman) -> Views:
    ps = pm.json("ps", "-a", "--format", "json")
    ns_ps = pm.json("--namespace", "ns1", "ps", "-a", "--format", "json")
    ids = [c["Id"] for c in ps + ns_ps]
    pods = [p["Id"] for p in pm.json("pod", "ps", "--format", "json")]
    return Views(
        ps=ps,
        ns_ps=ns_ps,
        inspect=pm.json("--namespace", "", "container", "inspect", *ids),
        pod_ps=pm.json("pod", "ps", "--format", "json"),
        pod_inspect=pm.json("pod", "inspect", *pods),
        volume_ls=pm.json("volume", "ls", "--format", "json"),
        volume_inspect=pm.json("volume", "inspect", "--all"),
    )


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Made]:
    pm = Podman(tmp_path_factory.mktemp("pm"))
    try:
        pm.import_busybox()
        api_exec_id = _make_state(pm)
        shown = views(pm)
        copy = pm.base / "bolt_state.db.as-shown"
        shutil.copyfile(pm.bolt_path, copy)
        yield Made(pm, shown, api_exec_id, copy)
    finally:
        pm.cleanup()


def _make_state(pm: Podman) -> str:
    """The varied state; returns the ID of the exec session created over the REST API."""
    run, b = pm.run, BUSYBOX
    run("volume", "create", "vol-a")
    run("volume", "create", "--label", "app=web", "vol-b")
    run("network", "create", "net1")
    run("network", "create", "--subnet", "10.91.0.0/24", "net2")
    run("pod", "create", "--name", "pod1")
    run("pod", "create", "--name", "pod2", "--infra=false", "--label", "team=blue")
    run("create", "--name", "c-plain", b, "sleep", "3600")
    run("create", "--name", "c-vols", "-v", "vol-a:/a", "-v", "vol-b:/b:ro", "-v", "/anon", b)
    run("create", "--name", "c-req", "--requires", "c-plain", "-v", "vol-a:/a", b, "true")
    run("create", "--name", "c-netns", "--network", "container:c-plain", b, "true")
    net2 = f"net2:alias=x2,ip={STATIC_IP}"
    run("create", "--name", "c-net", "--network", "net1:alias=a1", "--network", net2, b, "true")
    run("network", "connect", "--alias", "z1", "--alias", "z2", "net1", "c-plain")
    run("create", "--name", "p1-a", "--pod", "pod1", b, "sleep", "3600")
    run("create", "--name", "p2-a", "--pod", "pod2", "--network", "net1:alias=p2", b, "true")
    run("create", "--name", "p2-b", "--pod", "pod2", "--requires", "p2-a", b, "true")
    run("--namespace", "ns1", "create", "--name", "ns-c", b, "true")
    run("create", "--name", "old-name", b, "true")
    run("rename", "old-name", "new-name")
    run("create", "--name", "gone", b, "true")
    run("rm", "gone")
    run("run", "--name", "r-exited", "--network", "none", b, "sh", "-c", "exit 3", check=False)
    run("run", "-d", "--name", "r-running", "--network", "none", b, "sleep", "3600")
    run("exec", "-d", "r-running", "sleep", "3600")
    pm.start_service()
    try:
        status, reply = pm.api(
            "POST", "/libpod/containers/r-running/exec", {"Cmd": ["echo", "never started"]}
        )
    finally:
        pm.stop_service()
    assert status == 201, reply
    return str(reply["Id"])


def _imported(path: Path, root: Path) -> FileState:
    state = FileState(root / "static", root / "tmp")
    podman.import_bolt(path, state)
    return state


def test_import_holds_what_podman_shows(made: Made, tmp_path: Path) -> None:
    v = made.views
    with _imported(made.pm.bolt_path, tmp_path) as state:
        ctrs = {c.id: c for c in state.all_containers()}
        # IDs and names: ps -a (namespace "": every namespace); ns1's own ps shows only ns-c.
        assert {c["Id"]: c["Names"][0] for c in v.ps} == {cid: c.name for cid, c in ctrs.items()}
        assert len(v.ps) == len(ctrs)
        names = {c.name for c in ctrs.values()}
        assert {"new-name", "ns-c"} <= names and not {"old-name", "gone"} & names
        assert [c["Names"][0] for c in v.ns_ps] == ["ns-c"]
        assert ctrs[v.ns_ps[0]["Id"]].namespace == "ns1"
        for shown in v.inspect:
            ctr = ctrs[shown["Id"]]
            state.update_container(ctr)
            assert shown["Name"] == ctr.name
            assert shown["State"]["Status"] == STATUS[ctr.state["state"]]
            assert shown["Pod"] == ctr.pod_id
            assert sorted(shown["Dependencies"]) == ctr.dependencies()
            assert sorted(shown["ExecIDs"]) == sorted(state.get_container_exec_sessions(ctr))
            assert _volumes_of(shown) == set(ctr.named_volumes())
            own = ctr.config.get("netNsCtr") is None and shown["HostConfig"]["NetworkMode"]
            if own and shown["NetworkSettings"].get("Networks"):
                nets = shown["NetworkSettings"]["Networks"]
                assert set(nets) == set(state.get_networks(ctr))
                for net, seen in nets.items():
                    assert sorted(seen["Aliases"] or []) == sorted(
                        state.get_network_aliases(ctr, net)
                    )
        # dependents, the other way round (Podman refuses rm for these).
        plain = state.lookup_container("c-plain")
        assert sorted(state.container_in_use(plain)) == sorted(
            s["Id"] for s in v.inspect if plain.id in s["Dependencies"]
        )
        assert len(state.container_in_use(plain)) == 2
        # the static IP given to Podman, and the aliases added by `network connect`
        net = state.lookup_container("c-net").config["newNetworks"]
        assert net["net2"]["static_ips"] == [STATIC_IP]
        assert state.get_networks(state.lookup_container("c-net")) == ["net1", "net2"]
        assert {"z1", "z2"} <= set(state.get_network_aliases(plain, "net1"))
        # exec sessions: the detached one and the REST one
        running = state.lookup_container("r-running")
        sessions = state.get_container_exec_sessions(running)
        assert made.api_exec_id in sessions and len(sessions) == 2
        # pods: IDs, names, infra, members
        pods = {p.id: p for p in state.all_pods()}
        assert {p["Id"]: p["Name"] for p in v.pod_inspect} == {i: p.name for i, p in pods.items()}
        for shown in v.pod_inspect:
            pod = pods[shown["Id"]]
            state.update_pod(pod)
            assert (pod.state.get("InfraContainerID") or "") == shown.get("InfraContainerID", "")
            assert sorted(c["Id"] for c in shown["Containers"]) == sorted(
                state.pod_containers_by_id(pod)
            )
            assert (pod.config.get("labels") or {}) == shown.get("Labels", {})
        # volumes: names, anonymous, labels, users
        vols = {vol.name: vol for vol in state.all_volumes()}
        assert {x["Name"] for x in v.volume_inspect} == set(vols)
        for shown in v.volume_inspect:
            vol = vols[shown["Name"]]
            assert bool(vol.config.get("isAnon")) == bool(shown.get("Anonymous"))
            assert vol.config.get("labels") == shown["Labels"]
            assert sorted(state.volume_in_use(vol)) == sorted(
                s["Id"] for s in v.inspect if shown["Name"] in _volumes_of(s)
            )


def _volumes_of(inspected: dict[str, Any]) -> set[str]:
    return {m["Name"] for m in inspected["Mounts"] if m["Type"] == "volume"}


def _steady(view: Any) -> Any:
    """``view`` with durations relative to now blanked (:data:`RELATIVE`) and the lists of
    :data:`MAP_ORDER` sorted."""
    view = json.loads(RELATIVE.sub("<relative>", json.dumps(view)))
    for row in view:
        for key in MAP_ORDER:
            if isinstance(row.get(key), list):
                row[key].sort()
    return view


def _differences(got: Any, want: Any, at: str = "") -> list[str]:
    """Where two JSON values differ, as ``path: got != want`` lines."""
    if isinstance(got, dict) and isinstance(want, dict):
        return [
            line
            for key in sorted(set(got) | set(want))
            for line in _differences(got.get(key), want.get(key), f"{at}.{key}")
        ]
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        return [
            line
            for i, pair in enumerate(zip(got, want, strict=True))
            for line in _differences(*pair, f"{at}[{i}]")
        ]
    return [] if got == want else [f"{at}: {got!r} != {want!r}"]


def test_podman_reads_and_writes_the_exported_bolt_state(made: Made, tmp_path: Path) -> None:
    pm = made.pm
    with _imported(pm.bolt_path, tmp_path / "a") as state:
        exported = pm.bolt_path.with_name("exported.db")
        podman.export_bolt(state, exported)
    os.replace(pm.bolt_path, pm.base / "podman-own.bolt_state.db")
    os.replace(exported, pm.bolt_path)
    after = views(pm)
    before = made.views
    for field in Views.__dataclass_fields__:
        got, want = _steady(getattr(after, field)), _steady(getattr(before, field))
        assert _differences(got, want) == [], field
    # Podman writes into the file fsstate made (bbolt pages, freelist), and fsstate reads it.
    pm.run("create", "--name", "after-export", BUSYBOX, "true")
    pm.run("rename", "c-vols", "c-vols-renamed")
    pm.run("rm", "c-req")
    pm.run("pod", "rm", "--force", "pod2")
    ps = pm.json("ps", "-a", "--format", "json")
    with _imported(pm.bolt_path, tmp_path / "b") as again:
        assert sorted(c.name for c in again.all_containers()) == sorted(c["Names"][0] for c in ps)
        assert {"after-export", "c-vols-renamed"} <= {c.name for c in again.all_containers()}
        assert [p.name for p in again.all_pods()] == ["pod1"]
        plain = again.lookup_container("c-plain")
        assert len(again.container_in_use(plain)) == 1  # c-netns only


def _fsstate(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> Any:
    """The JSON that ``fsstate --root ROOT/static --tmp ROOT/tmp args`` prints (exit 0)."""
    capsys.readouterr()
    code = cli.main(["--root", str(root / "static"), "--tmp", str(root / "tmp"), *args])
    out, err = capsys.readouterr()
    assert (code, err) == (0, ""), err
    return json.loads(out)


#: Inspect keys fsstate leaves out (docs/cli.md): not in the state, or (for a started
#: container) in the runtime's copy of its OCI spec.
_NOT_SHOWN = {"ImageDigest", "GraphDriver", "Mounts", "NetworkSettings", "HostConfig"}
_RUNTIME_SPEC = {"EffectiveCaps", "BoundingCaps", "AppArmorProfile"}


def _shown_as_podman(ours: Any, theirs: Any, at: str) -> list[str]:
    """Where a key fsstate prints differs from Podman's value, or is not Podman's."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        extra = [f"{at}.{k}: not Podman's" for k in ours if k not in theirs]
        return extra + [
            line
            for k in ours
            if k in theirs
            for line in _shown_as_podman(ours[k], theirs[k], f"{at}.{k}")
        ]
    if at.rsplit(".", 1)[-1] in MAP_ORDER and isinstance(ours, list) and isinstance(theirs, list):
        ours, theirs = sorted(ours), sorted(theirs)
    return [] if ours == theirs else [f"{at}: {ours!r} != {theirs!r}"]


def test_fsstate_listings_print_what_podman_prints(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``fsstate ps -a``, ``pod ps``, ``volume ls`` (``--format json``) of the imported state
    equal Podman's, relative times aside; ``inspect``, ``pod inspect`` and ``volume inspect``
    print Podman's value for every key they print, and leave out only the documented keys."""
    v = made.views
    assert (
        cli.main(
            [
                "--root",
                str(tmp_path / "static"),
                "--tmp",
                str(tmp_path / "tmp"),
                "import-podman",
                str(made.bolt_copy),
            ]
        )
        == 0
    )
    ps = _fsstate(capsys, tmp_path, "ps", "-a", "--format", "json")
    assert _differences(_steady(ps), _steady(v.ps)) == []  # ns1's container too, as Podman
    assert _differences(_fsstate(capsys, tmp_path, "pod", "ps", "--format", "json"), v.pod_ps) == []
    assert _fsstate(capsys, tmp_path, "volume", "ls", "--format", "json") == v.volume_ls
    ids = [c["Id"] for c in v.inspect]
    inspected = _fsstate(capsys, tmp_path, "inspect", "--type", "container", *ids)
    for ours, theirs in zip(inspected, v.inspect, strict=True):
        assert _shown_as_podman(ours, theirs, theirs["Name"]) == []
        started = theirs["State"]["StartedAt"] != "0001-01-01T00:00:00Z"
        assert set(theirs) - set(ours) == _NOT_SHOWN | (_RUNTIME_SPEC if started else set())
    pods = _fsstate(capsys, tmp_path, "pod", "inspect", *[p["Id"] for p in v.pod_inspect])
    for ours, theirs in zip(pods, v.pod_inspect, strict=True):
        assert _shown_as_podman(ours, theirs, theirs["Name"]) == []
        assert set(theirs) - set(ours) <= {"InfraConfig"}
    names = [vol["Name"] for vol in v.volume_inspect]
    assert _fsstate(capsys, tmp_path, "volume", "inspect", *names) == v.volume_inspect
