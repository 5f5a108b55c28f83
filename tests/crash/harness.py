"""Crash-test harness: random *valid* operations, a model to replay them on, and the store's
invariants (``spec/podman-state.md`` §2) checked on the files themselves.

The same file is the child side of the crash and concurrency tests. Run as a script, each
command is a fresh interpreter that imports only ``fsstate`` and this file::

    harness.py writer STATIC TMP LOG SEED CHECKPOINT_BYTES FIFO
        Print "ready", wait for a line on stdin, open the store, then run random operations
        until killed. Before each call it appends {"n", "intent": op} to LOG (flushed); after
        the call returns it appends {"n", "ack": 1} (flushed and fsynced) and writes b"a" to
        FIFO. So LOG never claims an operation that was not acknowledged.
    harness.py zygote
        A fork server for writers (fsstate imported once): see zygote_main.
    harness.py verify
        For each JSON line {"static", "tmp"} on stdin, open that store (recovery runs), and
        print one JSON line: its dump, the invariant violations and the fsck findings.
    harness.py verify-trees BATCH WORKDIR [--repair] [--stores A,B]
        The same for each tree of a pickled batch, written under WORKDIR first (with
        --repair: fsck, repair, and the store after the repair; with --stores: the tree holds
        several static dirs, each checked when it holds a store).
    harness.py stress STATIC TMP OUT WORKER SEED SECONDS THREADS
        Concurrency worker: THREADS threads on one FileState, each owning the objects named
        with its prefix, sharing a container, a pod and a volume; results written to OUT.
    harness.py hold-probe STATIC
        For each line on stdin, try the store lock without waiting; print "free" or "held".

A failure names the seed; ``writer`` with that seed on a copy of the store replays it.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import json
import os
import pickle
import random
import shutil
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any

import orjson

import fsstate
from fsstate import Container, ExecSession, FileState, Pod, Volume, errors
from fsstate.state import rules, schema
from fsstate.state.catalog import (
    CONTAINER,
    POD,
    VOLUME,
    container_entries,
    exec_entries,
    pod_entries,
    volume_entries,
)
from fsstate.store import layout as L
from fsstate.store.storage import FileStorage

CREATED = "2020-11-10T12:00:00.000000000Z"
ZERO_TIME = "0001-01-01T00:00:00Z"
#: A state key the tests own: "append_key" adds one entry by update → modify → save.
KEYS = "fsstateTestKeys"

# -- documents ------------------------------------------------------------------------------


def container_config(
    cid: str,
    name: str,
    *,
    pod: str = "",
    deps: list[str] | None = None,
    net_dep: str = "",
    volumes: list[str] | None = None,
    networks: dict[str, list[str] | None] | None = None,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A ContainerConfig as libpod writes it (the keys the store reads, plus some others)."""
    config: dict[str, Any] = {
        "spec": {"ociVersion": "1.0.2-dev", "process": {"args": ["/bin/sh"], "cwd": "/"}},
        "id": cid,
        "name": name,
        "lockID": int(cid[-4:], 16) if all(c in "0123456789abcdef" for c in cid[-4:]) else 7,
        "Dependencies": list(deps) if deps else None,
        "rootfsImageID": cid,
        "rootfsImageName": "testimg",
        "labels": labels or {"a": "b"},
        "createdTime": CREATED,
        "logDriver": "k8s-file",
    }
    if pod:
        config["pod"] = pod
    if net_dep:
        config["netNsCtr"] = net_dep
    if volumes:
        config["namedVolumes"] = [
            {"volumeName": v, "dest": f"/mnt/{i}", "options": []} for i, v in enumerate(volumes)
        ]
    if networks is not None:
        config["networks"] = sorted(networks)
        config["network_alises"] = {n: a for n, a in networks.items() if a is not None}
    return config


def container_state(cid: str, code: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "state": code,
        "configPath": f"/run/specs/{cid}",
        "runDir": "/run/tmp/",
        "startedTime": ZERO_TIME,
        "finishedTime": ZERO_TIME,
        "Service": {},
        "checkpointedTime": ZERO_TIME,
        "restoredTime": ZERO_TIME,
        **extra,
    }


def pod_config(pid: str, name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "id": pid,
        "name": name,
        "labels": labels or {"a": "b"},
        "cgroupParent": "/hello",
        "sharesCgroup": True,
        "created": CREATED,
        "lockID": 1000,
        "ResourceLimits": {},
    }


def pod_state(cgroup: str = "/path/to/cgroups/hello/") -> dict[str, Any]:
    return {"cgroupPath": cgroup, "InfraContainerID": ""}


def volume_config(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "lockID": 2000,
        "labels": labels or {},
        "volumeDriver": "local",
        "mountPoint": f"/var/lib/containers/storage/volumes/{name}/_data",
        "createdAt": CREATED,
        "isAnon": False,
        "uid": 0,
        "gid": 0,
        "size": 0,
        "inodes": 0,
    }


# -- the model --------------------------------------------------------------------------------


class Model:
    """What the store should hold, in plain dicts; ``dump()`` has the shape of
    :func:`dump_store`. Objects whose ID or name starts with ``prefix`` are *own*: only they are
    changed by generated operations and compared; the others (shared by concurrent workers)
    may be used as dependencies, pods and volumes."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.containers: dict[str, dict[str, Any]] = {}
        self.pods: dict[str, dict[str, Any]] = {}
        self.volumes: dict[str, dict[str, Any]] = {}
        self.exec: dict[str, str] = {}

    @classmethod
    def from_dump(cls, dump: dict[str, Any], prefix: str = "") -> Model:
        model = cls(prefix)
        for cid, c in dump["containers"].items():
            model.containers[cid] = {
                "config": c["config"],
                "state": c["state"],
                "networks": c["networks"],
            }
        for pid, p in dump["pods"].items():
            model.pods[pid] = {"config": p["config"], "state": p["state"]}
        for name, v in dump["volumes"].items():
            model.volumes[name] = {"config": v["config"], "state": v["state"]}
        model.exec = dict(dump["exec"])
        return model

    def copy(self) -> Model:
        model = Model(self.prefix)
        model.containers = orjson.loads(orjson.dumps(self.containers))
        model.pods = orjson.loads(orjson.dumps(self.pods))
        model.volumes = orjson.loads(orjson.dumps(self.volumes))
        model.exec = dict(self.exec)
        return model

    def own(self, key: str) -> bool:
        return key.startswith(self.prefix)

    # -- derived facts, as the indexes should hold them -------------------------------------

    def deps(self, cid: str) -> list[str]:
        return Container(self.containers[cid]["config"]).dependencies()

    def dependents(self, cid: str) -> list[str]:
        return sorted(c for c in self.containers if cid in self.deps(c))

    def members(self, pid: str) -> list[str]:
        return sorted(c for c, d in self.containers.items() if d["config"].get("pod") == pid)

    def users(self, name: str) -> list[str]:
        return sorted(
            c for c, d in self.containers.items() if name in Container(d["config"]).named_volumes()
        )

    def sessions(self, cid: str) -> list[str]:
        return sorted(s for s, c in self.exec.items() if c == cid)

    def names(self) -> set[str]:
        return {d["config"]["name"] for d in self.containers.values()} | {
            d["config"]["name"] for d in self.pods.values()
        }

    def dump(self, *, own_only: bool = True) -> dict[str, Any]:
        keep = self.own if own_only else (lambda _key: True)
        dependents: dict[str, list[str]] = {}
        members: dict[str, list[str]] = {}
        users: dict[str, list[str]] = {}
        sessions: dict[str, list[str]] = {}
        for cid in sorted(self.containers):
            ctr = Container(self.containers[cid]["config"])
            for dep in ctr.dependencies():
                dependents.setdefault(dep, []).append(cid)
            if ctr.pod_id:
                members.setdefault(ctr.pod_id, []).append(cid)
            for volume in ctr.named_volumes():
                users.setdefault(volume, []).append(cid)
        for sid, cid in sorted(self.exec.items()):
            sessions.setdefault(cid, []).append(sid)
        out: dict[str, Any] = {"containers": {}, "pods": {}, "volumes": {}, "exec": {}}
        for cid in sorted(self.containers):
            if keep(cid):
                d = self.containers[cid]
                out["containers"][cid] = {
                    "config": d["config"],
                    "state": d["state"],
                    "networks": d["networks"],
                    "dependents": dependents.get(cid, []),
                    "exec": sessions.get(cid, []),
                }
        for pid in sorted(self.pods):
            if keep(pid):
                d = self.pods[pid]
                out["pods"][pid] = {
                    "config": d["config"],
                    "state": d["state"],
                    "members": members.get(pid, []),
                }
        for name in sorted(self.volumes):
            if keep(name):
                d = self.volumes[name]
                out["volumes"][name] = {
                    "config": d["config"],
                    "state": d["state"],
                    "users": users.get(name, []),
                }
        out["exec"] = {s: c for s, c in sorted(self.exec.items()) if keep(c)}
        copied: dict[str, Any] = orjson.loads(orjson.dumps(out))  # a deep copy, fast
        return copied

    # -- applying an operation ------------------------------------------------------------

    def apply(self, op: dict[str, Any]) -> None:
        kind = op["op"]
        getattr(self, f"_do_{kind}")(op)

    def _do_add_volume(self, op: dict[str, Any]) -> None:
        self.volumes[op["config"]["name"]] = {"config": op["config"], "state": op["state"]}

    def _do_remove_volume(self, op: dict[str, Any]) -> None:
        del self.volumes[op["name"]]

    def _do_save_volume(self, op: dict[str, Any]) -> None:
        self.volumes[op["name"]]["state"] = op["state"]

    def _do_rewrite_volume_config(self, op: dict[str, Any]) -> None:
        self.volumes[op["name"]]["config"] = op["config"]

    def _do_add_pod(self, op: dict[str, Any]) -> None:
        self.pods[op["config"]["id"]] = {"config": op["config"], "state": op["state"]}

    def _do_remove_pod(self, op: dict[str, Any]) -> None:
        del self.pods[op["id"]]

    def _do_save_pod(self, op: dict[str, Any]) -> None:
        self.pods[op["id"]]["state"] = op["state"]

    def _do_rewrite_pod_config(self, op: dict[str, Any]) -> None:
        self.pods[op["id"]]["config"] = op["config"]

    def _do_remove_pod_containers(self, op: dict[str, Any]) -> None:
        for cid in self.members(op["id"]):
            self._drop_container(cid)

    def _do_add_container(self, op: dict[str, Any]) -> None:
        config = op["config"]
        networks = rules.initial_networks(config["id"], config)
        if networks is not None:
            networks = {n: sorted(a) if a is not None else None for n, a in networks.items()}
        self.containers[config["id"]] = {
            "config": config,
            "state": op["state"],
            "networks": networks,
        }

    def _do_remove_container(self, op: dict[str, Any]) -> None:
        self._drop_container(op["id"])

    def _drop_container(self, cid: str) -> None:
        del self.containers[cid]
        for sid in self.sessions(cid):
            del self.exec[sid]

    def _do_save_container(self, op: dict[str, Any]) -> None:
        self.containers[op["id"]]["state"] = op["state"]

    def _do_append_key(self, op: dict[str, Any]) -> None:
        state = self.containers[op["id"]]["state"]
        state[KEYS] = [*state.get(KEYS, []), op["key"]]

    def _do_add_exec(self, op: dict[str, Any]) -> None:
        self.exec[op["sid"]] = op["id"]

    def _do_remove_exec(self, op: dict[str, Any]) -> None:
        del self.exec[op["sid"]]

    def _do_remove_ctr_exec(self, op: dict[str, Any]) -> None:
        for sid in self.sessions(op["id"]):
            del self.exec[sid]

    def _do_connect(self, op: dict[str, Any]) -> None:
        d = self.containers[op["id"]]
        if d["networks"] is None:
            d["networks"] = dict(rules.seed_networks(d["config"]))
        d["networks"][op["network"]] = sorted(op["aliases"])

    def _do_disconnect(self, op: dict[str, Any]) -> None:
        del self.containers[op["id"]]["networks"][op["network"]]

    def _do_rewrite_container_config(self, op: dict[str, Any]) -> None:
        self.containers[op["id"]]["config"] = op["config"]

    def _do_refresh(self, op: dict[str, Any]) -> None:
        for d in self.containers.values():
            d["state"] = rules.reset_container_state(d["state"])
        for d in self.pods.values():
            d["state"] = rules.reset_pod_state(d["state"])
        for d in self.volumes.values():
            d["state"] = rules.reset_volume_state(d["state"])
        self.exec.clear()

    def _do_txn_volume_container(self, op: dict[str, Any]) -> None:
        self._do_add_volume(op["volume"])
        self._do_add_container(op["container"])


# -- generating valid operations ----------------------------------------------------------------

#: Operation kinds and their weights; ``refresh`` resets everyone's state, so workers that
#: share a store leave it out.
WEIGHTS = {
    "add_container": 10,
    "remove_container": 7,
    "save_container": 8,
    "append_key": 5,
    "rewrite_container_config": 3,
    "add_exec": 4,
    "remove_exec": 3,
    "remove_ctr_exec": 2,
    "connect": 4,
    "disconnect": 3,
    "add_pod": 2,
    "remove_pod": 1,
    "save_pod": 2,
    "rewrite_pod_config": 1,
    "remove_pod_containers": 1,
    "add_volume": 3,
    "remove_volume": 2,
    "save_volume": 2,
    "rewrite_volume_config": 1,
    "txn_volume_container": 2,
    "refresh": 1,
}


class Generator:
    """Random operations that are valid against ``model`` (so every call must succeed)."""

    def __init__(self, rng: random.Random, model: Model, *, shared: bool = False) -> None:
        self.rng = rng
        self.model = model
        self.kinds = [k for k in WEIGHTS if not (shared and k == "refresh")]
        self.weights = [WEIGHTS[k] for k in self.kinds]
        self.max_containers = 30

    def next(self) -> dict[str, Any]:
        while True:
            kind = self.rng.choices(self.kinds, self.weights)[0]
            op: dict[str, Any] | None = getattr(self, f"_gen_{kind}")()
            if op is not None:
                op["op"] = kind
                return op

    # -- helpers --------------------------------------------------------------------------

    def _id(self) -> str:
        m = self.model
        while True:
            oid = (m.prefix + f"{self.rng.getrandbits(256):064x}")[:64]
            if oid not in m.containers and oid not in m.pods:
                return oid

    def _name(self, kind: str) -> str:
        while True:
            name = f"{self.model.prefix}{kind}{self.rng.getrandbits(32):08x}"
            if name not in self.model.names() and name not in self.model.volumes:
                return name

    def _own(self, objects: dict[str, Any]) -> list[str]:
        return sorted(k for k in objects if self.model.own(k))

    def _pick(self, items: list[str]) -> str | None:
        return self.rng.choice(items) if items else None

    def _removable(self) -> list[str]:
        """Own containers without dependents or exec sessions (§2.4, §2.7)."""
        m = self.model
        return [c for c in self._own(m.containers) if not m.dependents(c) and not m.sessions(c)]

    def _labels(self) -> dict[str, str]:
        return {"k": f"{self.rng.getrandbits(24):06x}", "a": "b"}

    # -- generators (None: not applicable now) --------------------------------------------

    def _gen_add_container(self) -> dict[str, Any] | None:
        m, rng = self.model, self.rng
        if len(self._own(m.containers)) >= self.max_containers:
            return None
        cid = self._id()
        pod = ""
        if m.pods and rng.random() < 0.3:
            pod = rng.choice(sorted(m.pods))
        # §2.4 pod rule: dependencies in the same pod, or outside any pod. A worker's model
        # holds its own objects and the shared ones, so every candidate stays while it runs.
        if pod:
            candidates = [
                c for c in self._own(m.containers) if m.containers[c]["config"].get("pod") == pod
            ]
        else:
            candidates = [
                c for c in sorted(m.containers) if not m.containers[c]["config"].get("pod")
            ]
        deps = rng.sample(candidates, min(len(candidates), rng.choice([0, 0, 1, 2])))
        net_dep = ""
        if deps and rng.random() < 0.5:
            net_dep, deps = deps[0], deps[1:]
        volumes = sorted(m.volumes)
        mounts = rng.sample(volumes, min(len(volumes), rng.choice([0, 1, 1, 2])))
        networks = None
        if rng.random() < 0.5:
            networks = {"podman": None, f"net{rng.randrange(4)}": [f"alias{rng.randrange(9)}"]}
        config = container_config(
            cid,
            self._name("ctr"),
            pod=pod,
            deps=deps,
            net_dep=net_dep,
            volumes=mounts,
            networks=networks,
        )
        return {"config": config, "state": container_state(cid)}

    def _gen_remove_container(self) -> dict[str, Any] | None:
        cid = self._pick(self._removable())
        if cid is None:
            return None
        return {"id": cid, "pod": self.model.containers[cid]["config"].get("pod", "")}

    def _gen_save_container(self) -> dict[str, Any] | None:
        cid = self._pick(self._own(self.model.containers))
        if cid is None:
            return None
        rng = self.rng
        state = container_state(cid, rng.randrange(1, 9), pid=rng.randrange(1, 1 << 22))
        keys = self.model.containers[cid]["state"].get(KEYS)
        if keys is not None:
            state[KEYS] = keys  # keep what append_key added
        if rng.random() < 0.3:
            state["newExecSessions"] = {f"{rng.getrandbits(64):016x}": {"pid": 1}}
        return {"id": cid, "state": state}

    def _gen_append_key(self) -> dict[str, Any] | None:
        cid = self._pick(self._own(self.model.containers))
        if cid is None:
            return None
        return {"id": cid, "key": f"{self.rng.getrandbits(48):012x}"}

    def _gen_rewrite_container_config(self) -> dict[str, Any] | None:
        cid = self._pick(self._own(self.model.containers))
        if cid is None:
            return None
        config = json.loads(json.dumps(self.model.containers[cid]["config"]))
        config["labels"] = self._labels()
        if self.rng.random() < 0.5:
            config["name"] = self._name("ctr")
        return {"id": cid, "config": config}

    def _gen_add_exec(self) -> dict[str, Any] | None:
        cid = self._pick(self._own(self.model.containers))
        if cid is None or len(self.model.sessions(cid)) >= 3:
            return None
        return {"id": cid, "sid": f"{self.model.prefix}x{self.rng.getrandbits(128):032x}"}

    def _gen_remove_exec(self) -> dict[str, Any] | None:
        sid = self._pick(sorted(s for s, c in self.model.exec.items() if self.model.own(c)))
        return None if sid is None else {"sid": sid, "id": self.model.exec[sid]}

    def _gen_remove_ctr_exec(self) -> dict[str, Any] | None:
        cid = self._pick(sorted({c for c in self.model.exec.values() if self.model.own(c)}))
        return None if cid is None else {"id": cid}

    def _gen_connect(self) -> dict[str, Any] | None:
        cid = self._pick(self._own(self.model.containers))
        if cid is None:
            return None
        d = self.model.containers[cid]
        joined = d["networks"] if d["networks"] is not None else rules.seed_networks(d["config"])
        network = f"net{self.rng.randrange(8)}"
        if network in joined:
            return None
        aliases = [f"a{self.rng.randrange(99)}" for _ in range(self.rng.randrange(3))]
        return {"id": cid, "network": network, "aliases": aliases}

    def _gen_disconnect(self) -> dict[str, Any] | None:
        m = self.model
        cid = self._pick([c for c in self._own(m.containers) if m.containers[c]["networks"]])
        if cid is None:
            return None
        return {"id": cid, "network": self.rng.choice(sorted(m.containers[cid]["networks"]))}

    def _gen_add_pod(self) -> dict[str, Any] | None:
        if len(self._own(self.model.pods)) >= 5:
            return None
        pid = self._id()
        return {"config": pod_config(pid, self._name("pod")), "state": pod_state()}

    def _gen_remove_pod(self) -> dict[str, Any] | None:
        pid = self._pick([p for p in self._own(self.model.pods) if not self.model.members(p)])
        return None if pid is None else {"id": pid}

    def _gen_save_pod(self) -> dict[str, Any] | None:
        pid = self._pick(self._own(self.model.pods))
        if pid is None:
            return None
        return {"id": pid, "state": pod_state(f"/cg/{self.rng.getrandbits(32):08x}")}

    def _gen_rewrite_pod_config(self) -> dict[str, Any] | None:
        pid = self._pick(self._own(self.model.pods))
        if pid is None:
            return None
        config = dict(self.model.pods[pid]["config"], labels=self._labels())
        if self.rng.random() < 0.5:
            config["name"] = self._name("pod")
        return {"id": pid, "config": config}

    def _gen_remove_pod_containers(self) -> dict[str, Any] | None:
        pid = self._pick([p for p in self._own(self.model.pods) if self.model.members(p)])
        return None if pid is None else {"id": pid}

    def _gen_add_volume(self) -> dict[str, Any] | None:
        if len(self._own(self.model.volumes)) >= 8:
            return None
        name = self._name("vol")
        return {"config": volume_config(name), "state": {"mountCount": 0}}

    def _gen_remove_volume(self) -> dict[str, Any] | None:
        m = self.model
        name = self._pick([v for v in self._own(m.volumes) if not m.users(v)])
        return None if name is None else {"name": name}

    def _gen_save_volume(self) -> dict[str, Any] | None:
        name = self._pick(self._own(self.model.volumes))
        if name is None:
            return None
        return {"name": name, "state": {"mountCount": self.rng.randrange(5), "mountPoint": "/m"}}

    def _gen_rewrite_volume_config(self) -> dict[str, Any] | None:
        name = self._pick(self._own(self.model.volumes))
        if name is None:
            return None
        return {"name": name, "config": volume_config(name, self._labels())}

    def _gen_txn_volume_container(self) -> dict[str, Any] | None:
        volume = self._gen_add_volume()
        if volume is None or len(self._own(self.model.containers)) >= self.max_containers:
            return None
        cid = self._id()
        config = container_config(cid, self._name("ctr"), volumes=[volume["config"]["name"]])
        return {"volume": volume, "container": {"config": config, "state": container_state(cid)}}

    def _gen_refresh(self) -> dict[str, Any] | None:
        return {} if self.rng.random() < 0.3 else None


# -- applying an operation to a store ----------------------------------------------------------


def apply_store(state: FileState, model: Model, op: dict[str, Any]) -> None:
    """Run ``op`` against the store; ``model`` (before the op) supplies the objects."""
    kind = op["op"]
    m = model

    def ctr(cid: str) -> Container:
        return Container(m.containers[cid]["config"])

    def pod(pid: str) -> Pod:
        return Pod(m.pods[pid]["config"])

    def vol(name: str) -> Volume:
        return Volume(m.volumes[name]["config"], m.volumes[name]["state"])

    if kind == "add_volume":
        state.add_volume(Volume(op["config"], op["state"]))
    elif kind == "remove_volume":
        state.remove_volume(vol(op["name"]))
    elif kind == "save_volume":
        v = vol(op["name"])
        v.state = op["state"]
        state.save_volume(v)
    elif kind == "rewrite_volume_config":
        state.rewrite_volume_config(vol(op["name"]), op["config"])
    elif kind == "add_pod":
        state.add_pod(Pod(op["config"], op["state"]))
    elif kind == "remove_pod":
        state.remove_pod(pod(op["id"]))
    elif kind == "save_pod":
        p = pod(op["id"])
        p.state = op["state"]
        state.save_pod(p)
    elif kind == "rewrite_pod_config":
        state.rewrite_pod_config(pod(op["id"]), op["config"])
    elif kind == "remove_pod_containers":
        state.remove_pod_containers(pod(op["id"]))
    elif kind == "add_container":
        _add_container(state, m, op)
    elif kind == "remove_container":
        c = ctr(op["id"])
        if c.pod_id:
            state.remove_container_from_pod(pod(c.pod_id), c)
        else:
            state.remove_container(c)
    elif kind == "save_container":
        c = ctr(op["id"])
        c.state = op["state"]
        state.save_container(c)
    elif kind == "append_key":
        append_key(state, ctr(op["id"]), op["key"])
    elif kind == "rewrite_container_config":
        state.rewrite_container_config(ctr(op["id"]), op["config"])
    elif kind == "add_exec":
        state.add_exec_session(ctr(op["id"]), ExecSession(op["sid"], op["id"]))
    elif kind == "remove_exec":
        state.remove_exec_session(ExecSession(op["sid"], op["id"]))
    elif kind == "remove_ctr_exec":
        state.remove_container_exec_sessions(ctr(op["id"]))
    elif kind == "connect":
        state.network_connect(ctr(op["id"]), op["network"], op["aliases"])
    elif kind == "disconnect":
        state.network_disconnect(ctr(op["id"]), op["network"])
    elif kind == "refresh":
        state.refresh()
    elif kind == "txn_volume_container":
        with state.transaction():
            state.add_volume(Volume(op["volume"]["config"], op["volume"]["state"]))
            _add_container(state, m, op["container"])
    else:  # pragma: no cover - the generator makes only the kinds above
        raise ValueError(kind)


def _add_container(state: FileState, model: Model, op: dict[str, Any]) -> None:
    c = Container(op["config"], op["state"])
    if c.pod_id:
        state.add_container_to_pod(Pod(model.pods[c.pod_id]["config"]), c)
    else:
        state.add_container(c)


def append_key(state: FileState, ctr: Container, key: str) -> None:
    """Read-modify-write of a container's state in one transaction: no update may be lost."""
    with state.transaction():
        state.update_container(ctr)
        ctr.state[KEYS] = [*ctr.state.get(KEYS, []), key]
        state.save_container(ctr)


# -- what a store holds ------------------------------------------------------------------------


def dump_store(state: FileState, keep: Any = None) -> dict[str, Any]:
    """Everything the public API reports, in the shape of :meth:`Model.dump`; objects for
    which ``keep(key)`` is false are left out."""

    def kept(key: str) -> bool:
        return keep is None or keep(key)

    out: dict[str, Any] = {"containers": {}, "pods": {}, "volumes": {}, "exec": {}}
    for ctr in state.all_containers():
        if not kept(ctr.id):
            continue
        state.update_container(ctr)
        try:
            joined: list[str] | None = state.get_networks(ctr)
        except errors.NoSuchNetworkError:
            joined = None
        aliases = state.get_all_network_aliases(ctr)
        sessions = state.get_container_exec_sessions(ctr)
        out["containers"][ctr.id] = {
            "config": ctr.config,
            "state": ctr.state,
            "networks": None if joined is None else {n: aliases.get(n) for n in joined},
            "dependents": state.container_in_use(ctr),
            "exec": sessions,
        }
        for sid in sessions:
            out["exec"][sid] = state.get_exec_session(sid)
    for pod in state.all_pods():
        if kept(pod.id):
            state.update_pod(pod)
            out["pods"][pod.id] = {
                "config": pod.config,
                "state": pod.state,
                "members": state.pod_containers_by_id(pod),
            }
    for vol in state.all_volumes():
        if kept(vol.name):
            out["volumes"][vol.name] = {
                "config": vol.config,
                "state": vol.state,
                "users": state.volume_in_use(vol),
            }
    out["exec"] = dict(sorted(out["exec"].items()))
    copied: dict[str, Any] = orjson.loads(orjson.dumps(out))
    return copied


def diff(a: dict[str, Any], b: dict[str, Any], limit: int = 8) -> list[str]:
    """Paths at which two dumps differ (for failure messages)."""
    found: list[str] = []

    def walk(x: Any, y: Any, path: str) -> None:
        if len(found) >= limit:
            return
        if isinstance(x, dict) and isinstance(y, dict):
            for key in sorted(set(x) | set(y)):
                if key not in x or key not in y:
                    found.append(f"{path}/{key}: only in {'second' if key in y else 'first'}")
                else:
                    walk(x[key], y[key], f"{path}/{key}")
        elif x != y:
            found.append(f"{path}: {json.dumps(x)[:120]} != {json.dumps(y)[:120]}")

    walk(a, b, "")
    return found


# -- invariants (spec/podman-state.md §2) on the files -----------------------------------------

_CORRUPT = object()


def tree_violations(static_dir: str) -> list[str]:
    """Every broken §2 invariant in the store's files, derived from the layout's catalog
    (``layout.KINDS``, ``layout.INDEXES``) and the catalog's derivation of the index from the
    documents (``catalog.container_entries`` and friends):

    * every object directory holds a config naming it and the documents the layout requires,
      and every document reads as JSON; every exec registration is a registration of itself;
    * the index on disk is exactly the one the documents imply (each entry, and the contents
      of name entries; an entry in the wrong shard is both extra and missing);
    * the object an index entry's first key names exists (no dependency, pod, volume or exec
      container is missing), and no per-object index directory of a removed object is left;
    * every path has a place in the layout (``layout.place``), and no temporary file is left;
      the trash (``trash/``, role ``trash``: what commits set aside, deleted in the
      background) is not store data and is not looked into.

    Reads the tree as it is (call it with the lock held, or on a store nobody writes)."""
    root = os.path.join(static_dir, L.STORE_DIR)
    bad: list[str] = []

    def ls(rel: str) -> list[str]:
        try:
            return sorted(os.listdir(os.path.join(root, rel)))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def read(rel: str) -> bytes | None:
        try:
            with open(os.path.join(root, rel), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def load(rel: str) -> Any:
        data = read(rel)
        if data is None:
            return None
        try:
            return json.loads(data)
        except ValueError:
            bad.append(f"{rel}: not JSON ({data[:40]!r})")
            return _CORRUPT

    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        parts = [] if rel == "." else rel.split("/")
        for name in dirnames + filenames:
            if L.is_temp_name(name):
                bad.append(f"temporary file left: {rel}/{name}")
            elif not L.place([*parts, name], name in dirnames):
                bad.append(f"{'/'.join([*parts, name])}: the layout has no place for it")
        dirnames[:] = [d for d in dirnames if L.place([*parts, d], True) == "dir"]

    objects: dict[str, dict[str, dict[str, Any]]] = {}
    for kind in L.KINDS:
        objects[kind.name] = {}
        for oid in ls(kind.top):
            docs = {doc: load(kind.doc(oid, doc)) for doc in kind.docs}
            config = docs[kind.docs[0]]
            if not isinstance(config, dict) or config.get(kind.key) != oid:
                bad.append(f"{kind.dir(oid)}: no config naming it ({str(config)[:60]})")
                continue
            bad.extend(
                f"{kind.dir(oid)}: no {doc} document"
                for doc in kind.required[1:]
                if not isinstance(docs[doc], dict)
            )
            objects[kind.name][oid] = config
    registrations = {}
    for entry in ls(L.EXEC):
        doc = load(L.exec_doc(entry))
        if not isinstance(doc, dict) or L.exec_doc(str(doc.get("id"))) != L.exec_doc(entry):
            bad.append(f"{L.exec_doc(entry)}: not a registration of itself ({str(doc)[:60]})")
            continue
        registrations[doc["id"]] = str(doc.get("containerId"))

    expected: dict[str, bytes] = {}
    for config in objects[CONTAINER].values():
        expected |= container_entries(Container(config))
    for config in objects[POD].values():
        expected |= pod_entries(Pod(config))
    for name, config in objects[VOLUME].items():
        expected |= volume_entries(name, config)
    for sid, cid in registrations.items():
        expected |= exec_entries(sid, cid)

    on_disk: dict[str, bytes] = {}
    for dirpath, _dirs, filenames in os.walk(os.path.join(root, L.INDEX_DIR)):
        for name in filenames:
            rel = os.path.relpath(os.path.join(dirpath, name), root)
            on_disk[rel] = read(rel) or b""
    missing, extra = sorted(expected.keys() - on_disk.keys()), sorted(on_disk.keys() - expected)
    wrong = sorted(
        p
        for p in expected.keys() & on_disk.keys()
        if expected[p] != on_disk[p] and _json_or_bytes(expected[p]) != _json_or_bytes(on_disk[p])
    )
    if missing or extra or wrong:
        bad.append(
            f"index != documents: missing {missing[:3]}, extra {extra[:3]}, wrong {wrong[:3]}"
        )

    for index in L.INDEXES:
        if not index.owner:
            continue
        alive = objects[index.owner]
        for path in expected:
            keys = index.keys(path)
            if keys is not None and keys[0] not in alive:
                bad.append(f"{path}: its {index.owner} {keys[0]} does not exist")
        for owner in ls(index.dir()):
            if owner not in alive and not ls(index.dir(owner)):
                bad.append(f"{index.dir(owner)}: empty index directory of a removed {index.owner}")
    return bad


def _json_or_bytes(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data


def api_violations(state: FileState) -> list[str]:
    """§2 invariants seen through the public API: every name resolves to the object that has
    it, every object has a state, every member's pod and every dependency exists. Call inside
    ``state.transaction()`` when other processes write, so the calls see one snapshot."""
    bad: list[str] = []
    ctrs = {c.id: c for c in state.all_containers()}
    pods = {p.id: p for p in state.all_pods()}
    for cid, ctr in ctrs.items():
        if state.lookup_container(ctr.name).id != cid or state.get_name(cid) != ctr.name:
            bad.append(f"container {cid}: name {ctr.name} does not resolve to it")
        state.update_container(ctr)
        if not isinstance(ctr.state, dict) or "state" not in ctr.state:
            bad.append(f"container {cid}: state {ctr.state!r}")
        bad.extend(
            f"container {cid}: dependency {d} missing" for d in ctr.dependencies() if d not in ctrs
        )
        if ctr.pod_id and ctr.pod_id not in pods:
            bad.append(f"container {cid}: pod {ctr.pod_id} missing")
    for pid, pod in pods.items():
        if state.lookup_pod(pod.name).id != pid:
            bad.append(f"pod {pid}: name {pod.name} does not resolve to it")
        for member in state.pod_containers(pod):
            if member.pod_id != pid:
                bad.append(f"pod {pid}: member {member.id} has pod {member.pod_id!r}")
    return bad


def fsck_findings(static_dir: str) -> list[str] | None:
    """What fsck finds (``fsstate.check``, or ``fsstate.fsck.check`` until it is exported),
    or ``None`` while fsstate has no fsck."""
    check = getattr(fsstate, "check", None)
    if check is None:
        try:
            check = importlib.import_module("fsstate.fsck").check
        except ImportError:
            return None
    return [f"{f.code} {f.path}: {f.message}" for f in check(static_dir).findings]


# -- child commands ---------------------------------------------------------------------------


def _log_line(log: Any, record: dict[str, Any], *, sync: bool) -> None:
    log.write(json.dumps(record, separators=(",", ":")) + "\n")
    log.flush()
    if sync:
        os.fsync(log.fileno())


def run_writer(
    static: str,
    tmp: str,
    log_path: str,
    seed: int,
    checkpoint_bytes: int,
    dump: dict[str, Any] | None,
    notify: Any,
) -> None:
    """Random operations on the store until killed; ``dump`` is what the store holds
    (``None``: read it). Each operation is logged as intended, run, logged as acknowledged,
    then ``notify()`` is called."""
    storage = FileStorage(static, checkpoint_bytes=checkpoint_bytes)
    state = FileState(static, tmp, storage=storage)
    model = Model.from_dump(dump if dump is not None else dump_store(state))
    gen = Generator(random.Random(seed), model)
    with open(log_path, "a", encoding="utf-8") as log:
        n = 0
        while True:
            op = gen.next()
            _log_line(log, {"n": n, "intent": op}, sync=False)
            apply_store(state, model, op)
            _log_line(log, {"n": n, "ack": 1}, sync=True)
            model.apply(op)
            notify()
            n += 1


def writer_with_fifo(
    static: str,
    tmp: str,
    log_path: str,
    seed: int,
    checkpoint_bytes: int,
    dump: dict[str, Any] | None,
    fifo: str,
) -> int:
    """:func:`run_writer` reporting to the FIFO ``fifo``: ``b"a"`` per acknowledged operation,
    ``b"E"`` and the traceback if one fails. Returns the exit code (it runs until killed)."""
    fd = os.open(fifo, os.O_WRONLY)
    try:
        run_writer(static, tmp, log_path, seed, checkpoint_bytes, dump, lambda: os.write(fd, b"a"))
    except BaseException:
        os.write(fd, b"E" + traceback.format_exc().encode())
    return 1


def warm_up() -> None:
    """Compile every schema once, so forked writers start with nothing left to load."""
    cid = "0" * 64
    schema.validate("container-config", container_config(cid, "c", volumes=["v"]), what="c")
    schema.validate("container-state", container_state(cid), what="c")
    schema.validate("pod-config", pod_config(cid, "p"), what="p")
    schema.validate("pod-state", pod_state(), what="p")
    schema.validate("volume-config", volume_config("v"), what="v")
    schema.validate("volume-state", {"mountCount": 0}, what="v")


def zygote_main() -> None:
    """A fork server: fsstate imported and warmed up once; each request line
    ``{"fork": [writer_with_fifo arguments]}`` forks a writer and answers ``{"pid"}``,
    ``{"reap": pid}`` waits for it and answers ``{"exitcode"}``."""
    warm_up()
    print(json.dumps({"ready": os.getpid()}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if "fork" in request:
            pid = os.fork()
            if pid == 0:  # the writer: never returns into the server loop
                code = 1
                try:
                    null = os.open(os.devnull, os.O_RDWR)
                    os.dup2(null, 0)
                    os.dup2(null, 1)
                    code = writer_with_fifo(*request["fork"])
                finally:
                    os._exit(code)
            print(json.dumps({"pid": pid}), flush=True)
        else:
            _, status = os.waitpid(request["reap"], 0)
            print(json.dumps({"exitcode": os.waitstatus_to_exitcode(status)}), flush=True)


def writer_main(
    static: str, tmp: str, log_path: str, seed: int, checkpoint_bytes: int, fifo: str
) -> None:
    print("ready", flush=True)
    sys.stdin.readline()
    sys.exit(writer_with_fifo(static, tmp, log_path, seed, checkpoint_bytes, None, fifo))


def open_and_check(static: str, tmp: str) -> dict[str, Any]:
    """Open a store (recovery runs), and report its dump and everything wrong with it."""
    try:
        with FileState(static, tmp) as state:
            dump = dump_store(state)
            problems = api_violations(state)
        problems += tree_violations(static)
        return {"dump": dump, "violations": problems, "fsck": fsck_findings(static)}
    except Exception:
        return {"error": traceback.format_exc()}


def verify_main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        print(json.dumps(open_and_check(request["static"], request["tmp"])), flush=True)


def materialise(root: str, dirs: list[str], files: dict[str, bytes]) -> None:
    """Write a tree under ``root``: 0700 directories, 0600 files, runs of zeros as holes."""
    os.makedirs(root, mode=0o700)
    for d in sorted(dirs):
        if d:
            os.mkdir(os.path.join(root, d), 0o700)
    for path, data in files.items():
        fd = os.open(os.path.join(root, path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.ftruncate(fd, len(data))
            for start in range(0, len(data), 4096):
                block = data[start : start + 4096]
                if block.count(0) != len(block):
                    os.pwrite(fd, block, start)
        finally:
            os.close(fd)


def check_and_repair(static: str, tmp: str) -> dict[str, Any]:
    """For power loss during a repair: the store repaired two ways. ``raw``: repaired as it
    is — fsck first, before anything recovers it — then opened and checked
    (:func:`open_and_check`). ``found`` and ``after``: opened first (recovery, as by the first
    process after the power loss), then what fsck finds (``[code, path, repairable]`` each),
    then repaired when it found anything, opened and checked."""
    try:
        raw = f"{static}-raw"
        shutil.copytree(static, raw, symlinks=True)
        report = fsstate.check(raw)
        if report.findings:
            fsstate.repair(report)
        raw_after = open_and_check(raw, f"{tmp}-raw")
        FileState(static, tmp).close()
        report = fsstate.check(static)
        found = [(str(f.code), f.path, f.repairable) for f in report.findings]
        if found:
            fsstate.repair(report)
    except Exception:
        return {"error": traceback.format_exc()}
    return {"found": found, "after": open_and_check(static, tmp), "raw": raw_after}


def _passed(result: dict[str, Any]) -> bool:
    return "error" not in result and not result["violations"] and not result["fsck"]


def verify_trees_main(batch: str, workdir: str, *options: str) -> None:
    """For each tree of the pickled list ``batch`` ((directories, files) pairs): write it
    under WORKDIR/<i>/static, open and check it, print the result as one JSON line, and
    delete it when it passed. Options: ``--repair``: check, repair and check again instead
    (:func:`check_and_repair`); ``--stores A,B``: the tree goes to WORKDIR/<i>/world and holds
    static dirs at the relative paths A, B …, each opened and checked when it holds a store
    (``null`` when not): ``{"stores": {"A": result, …}}``."""
    repair = "--repair" in options
    stores = options[options.index("--stores") + 1].split(",") if "--stores" in options else []
    with open(batch, "rb") as f:
        trees = pickle.load(f)
    for i, (dirs, files) in trees:
        result: dict[str, Any]
        if stores:
            world = f"{workdir}/{i}/world"
            materialise(world, dirs, files)
            found = {
                rel: open_and_check(f"{world}/{rel}", f"{workdir}/{i}/tmp{n}")
                if os.path.isdir(os.path.join(world, rel, L.STORE_DIR))
                else None
                for n, rel in enumerate(stores)
            }
            result = {"stores": found}
            ok = all(r is None or _passed(r) for r in found.values())
        else:
            static, tmp = f"{workdir}/{i}/static", f"{workdir}/{i}/tmp"
            materialise(static, dirs, files)
            result = check_and_repair(static, tmp) if repair else open_and_check(static, tmp)
            done = (
                [result["after"], result["raw"]] if repair and "error" not in result else [result]
            )
            ok = all(_passed(r) for r in done)
        if ok:
            shutil.rmtree(f"{workdir}/{i}")
        print(json.dumps({"i": i, **result}), flush=True)


def hold_probe_main(static: str) -> None:
    fd = os.open(os.path.join(static, L.STORE_DIR, L.LOCK), os.O_RDWR)
    for _line in sys.stdin:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("held", flush=True)
            continue
        fcntl.flock(fd, fcntl.LOCK_UN)
        print("free", flush=True)


# -- concurrency worker -------------------------------------------------------------------------

SHARED_CTR = "shared" + "0" * 58
SHARED_POD = "sharedpod" + "0" * 55
SHARED_VOL = "sharedvol"


def seed_shared(state: FileState) -> None:
    """The objects every concurrency worker uses: a container whose state they all append to
    (and may depend on), a pod they all add members to, a volume they all mount."""
    state.add_volume(Volume(volume_config(SHARED_VOL), {"mountCount": 0}))
    state.add_pod(Pod(pod_config(SHARED_POD, "sharedpod"), pod_state()))
    state.add_container(
        Container(container_config(SHARED_CTR, "shared"), container_state(SHARED_CTR))
    )


def _shared_model(state: FileState, prefix: str) -> Model:
    model = Model(prefix)
    ctr = state.container(SHARED_CTR)
    model.containers[SHARED_CTR] = {"config": ctr.config, "state": {}, "networks": None}
    model.pods[SHARED_POD] = {"config": state.pod(SHARED_POD).config, "state": {}}
    vol = state.volume(SHARED_VOL)
    model.volumes[SHARED_VOL] = {"config": vol.config, "state": vol.state}
    return model


def stress_thread(
    state: FileState, prefix: str, seed: int, deadline: float, result: dict[str, Any]
) -> None:
    """One writer: random operations on its own objects (named ``prefix``…, using the shared
    ones); every 4th operation appends a unique key to the shared container's state; every
    32nd checks the invariants on the files and through the API inside one transaction, i.e.
    on one snapshot (a torn commit would show there)."""
    try:
        model = _shared_model(state, prefix)
        gen = Generator(random.Random(seed), model, shared=True)
        gen.max_containers = 12
        ops = checks = 0
        keys: list[str] = []
        while time.monotonic() < deadline:
            if ops % 4 == 3:
                key = f"{prefix}{ops}"
                append_key(state, Container(model.containers[SHARED_CTR]["config"]), key)
                keys.append(key)
            elif ops % 32 == 30:
                with state.transaction():
                    bad = api_violations(state) + tree_violations(state.static_dir)
                if bad:
                    raise AssertionError(f"torn read in {prefix}: {bad[:5]}")
                checks += 1
            else:
                op = gen.next()
                apply_store(state, model, op)
                model.apply(op)
            ops += 1
        result.update(
            ops=ops,
            checks=checks,
            keys=keys,
            model=model.dump(),
            store=dump_store(state, model.own),
        )
    except BaseException:
        result["error"] = f"{prefix} seed {seed}:\n{traceback.format_exc()}"


def read_loop(state: FileState, stop: threading.Event, result: dict[str, Any]) -> None:
    """Single calls, each atomic on its own: every object returned is whole."""
    reads = 0
    try:
        while not stop.is_set():
            for ctr in state.all_containers():
                if not ctr.id or not ctr.name or ctr.config.get("id") != ctr.id:
                    raise AssertionError(f"torn container {ctr.config!r}")
            for pod in state.all_pods():
                with contextlib.suppress(errors.NoSuchPodError):
                    for member in state.pod_containers(pod):
                        if member.pod_id != pod.id:
                            raise AssertionError(f"member {member.id} of {pod.id} elsewhere")
            state.update_container(Container(state.container(SHARED_CTR).config))
            reads += 1
        result["reads"] = reads
    except BaseException:
        result["error"] = f"reader:\n{traceback.format_exc()}"


def stress_main(
    static: str, tmp: str, out: str, worker: int, seed: int, seconds: float, threads: int
) -> None:
    print("ready", flush=True)
    sys.stdin.readline()
    state = FileState(static, tmp)
    deadline = time.monotonic() + seconds
    results: list[dict[str, Any]] = [{} for _ in range(threads)]
    reader: dict[str, Any] = {}
    stop = threading.Event()
    workers = [
        threading.Thread(
            target=stress_thread,
            args=(state, f"w{worker}t{t}_", seed * 100 + t, deadline, results[t]),
        )
        for t in range(threads)
    ]
    watcher = threading.Thread(target=read_loop, args=(state, stop, reader))
    start = time.monotonic()
    for t in [*workers, watcher]:
        t.start()
    for t in workers:
        t.join()
    elapsed = time.monotonic() - start
    stop.set()
    watcher.join()
    state.close()
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"threads": results, "reader": reader, "elapsed": elapsed}, f)


def main(argv: list[str]) -> None:
    command, args = argv[0], argv[1:]
    if command == "writer":
        writer_main(args[0], args[1], args[2], int(args[3]), int(args[4]), args[5])
    elif command == "zygote":
        zygote_main()
    elif command == "verify":
        verify_main()
    elif command == "verify-trees":
        verify_trees_main(args[0], args[1], *args[2:])
    elif command == "stress":
        stress_main(
            args[0], args[1], args[2], int(args[3]), int(args[4]), float(args[5]), int(args[6])
        )
    elif command == "hold-probe":
        hold_probe_main(args[0])
    else:
        raise SystemExit(f"unknown command {command!r}")


@contextlib.contextmanager
def child(*args: str) -> Iterator[Any]:
    """A child interpreter running this file with ``args``; killed on exit if still alive."""
    import subprocess

    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


if __name__ == "__main__":
    main(sys.argv[1:])
