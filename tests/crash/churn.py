"""A writer process for the live-copy tests: random calls on its own objects, each logged with
when it started, when it was acknowledged and what it left behind.

    churn.py STATIC TMP LOG PREFIX SEED CHECKPOINT_BYTES

Prints "ready", waits for a line on stdin, then runs until stdin is closed. For each call it
appends ``{"n", "start", "keys"}`` before the call and ``{"n", "end", "effects"}`` after it
returns (both flushed; times are ``time.monotonic_ns()``, one clock for every process).
``keys`` are the objects the call may change, as ``"container:<id>"``, ``"pod:<id>"`` or
``"volume:<name>"``; ``effects`` maps each to what a reader must then find: ``None`` (gone)
or ``{"name", "state"}`` for a container (its whole ContainerState), ``{"name"}`` for a pod,
``{}`` for a volume.

The calls make every kind of cross-reference a copy taken mid-change can tear: pods with
members, containers depending on others (in and out of pods), named volumes in use, and
removals of each (members before their pod, dependents before what they depend on).
"""

from __future__ import annotations

import json
import random
import select
import sys
import time
from typing import Any

import harness  # type: ignore[import-not-found]  # run as a script, beside the harness

from fsstate import Container, FileState, Pod, Volume
from fsstate.store.storage import FileStorage


class Churn:
    def __init__(self, state: FileState, prefix: str, seed: int, log: Any) -> None:
        self.state, self.prefix, self.log = state, prefix, log
        self.rng = random.Random(seed)
        self.n = 0
        self.ctrs: dict[str, dict[str, Any]] = {}  # id → {"name", "pod", "deps", "vols"}
        self.pods: dict[str, str] = {}  # id → name
        self.vols: list[str] = []

    def new_id(self) -> str:
        return f"{self.prefix}{self.n:06d}{self.rng.getrandbits(64):016x}".ljust(64, "0")[:64]

    def call(self, keys: list[str], fn: Any, effects: dict[str, Any]) -> None:
        self._line({"n": self.n, "start": time.monotonic_ns(), "keys": keys})
        fn()
        self._line({"n": self.n, "end": time.monotonic_ns(), "effects": effects})
        self.n += 1

    def _line(self, record: dict[str, Any]) -> None:
        self.log.write(json.dumps(record) + "\n")
        self.log.flush()

    def dependents(self, cid: str) -> list[str]:
        return [c for c, info in self.ctrs.items() if cid in info["deps"]]

    # -- the calls ---------------------------------------------------------------------------

    def step(self) -> None:
        r = self.rng.random()
        if r < 0.30 or not self.ctrs:
            self.add_container()
        elif r < 0.55:
            self.save_state()
        elif r < 0.75:
            self.remove_container()
        elif r < 0.85:
            self.add_pod() if len(self.pods) < 3 else self.remove_pod()
        else:
            self.add_volume() if len(self.vols) < 3 else self.remove_volume()

    def add_container(self) -> None:
        cid = self.new_id()
        name = f"{self.prefix}c{self.n}"
        pod = self.rng.choice([*self.pods, "", ""])
        candidates = [c for c, i in self.ctrs.items() if i["pod"] == pod]
        deps = [self.rng.choice(candidates)] if candidates and self.rng.random() < 0.5 else []
        vols = [self.rng.choice(self.vols)] if self.vols and self.rng.random() < 0.4 else []
        config = harness.container_config(cid, name, pod=pod, deps=deps, volumes=vols)
        state = {"state": 1, "exitCode": 0}
        ctr = Container(config, state)
        if pod:
            fn = lambda: self.state.add_container_to_pod(self.state.pod(pod), ctr)  # noqa: E731
        else:
            fn = lambda: self.state.add_container(ctr)  # noqa: E731
        key = f"container:{cid}"
        self.call([key], fn, {key: {"name": name, "state": state}})
        self.ctrs[cid] = {"name": name, "pod": pod, "deps": deps, "vols": vols}

    def save_state(self) -> None:
        cid = self.rng.choice(sorted(self.ctrs))
        state = {"state": self.rng.choice([2, 3, 4, 6]), "exitCode": self.n}
        ctr = Container(harness.container_config(cid, self.ctrs[cid]["name"]), state)
        ctr.config["pod"] = self.ctrs[cid]["pod"]
        key = f"container:{cid}"
        self.call(
            [key],
            lambda: self.state.save_container(ctr),
            {key: {"name": self.ctrs[cid]["name"], "state": state}},
        )

    def remove_container(self) -> None:
        free = [c for c in sorted(self.ctrs) if not self.dependents(c)]
        if not free:
            return
        cid = self.rng.choice(free)
        ctr = self.state.container(cid)
        pod = self.ctrs[cid]["pod"]
        if pod:
            fn = lambda: self.state.remove_container_from_pod(self.state.pod(pod), ctr)  # noqa: E731
        else:
            fn = lambda: self.state.remove_container(ctr)  # noqa: E731
        key = f"container:{cid}"
        self.call([key], fn, {key: None})
        del self.ctrs[cid]

    def add_pod(self) -> None:
        pid = self.new_id()
        name = f"{self.prefix}p{self.n}"
        pod = Pod(harness.pod_config(pid, name), harness.pod_state())
        key = f"pod:{pid}"
        self.call([key], lambda: self.state.add_pod(pod), {key: {"name": name}})
        self.pods[pid] = name

    def remove_pod(self) -> None:
        """Remove a pod with all its members, in one call (RemovePodContainers) and then the
        pod; members outside depend on nothing inside (dependencies stay in one pod)."""
        pid = self.rng.choice(sorted(self.pods))
        members = [c for c, i in self.ctrs.items() if i["pod"] == pid]
        pod = self.state.pod(pid)
        keys = [f"container:{c}" for c in members]
        self.call(keys, lambda: self.state.remove_pod_containers(pod), dict.fromkeys(keys))
        for c in members:
            del self.ctrs[c]
        key = f"pod:{pid}"
        self.call([key], lambda: self.state.remove_pod(pod), {key: None})
        del self.pods[pid]

    def add_volume(self) -> None:
        name = f"{self.prefix}v{self.n}"
        vol = Volume(harness.volume_config(name), {"mountCount": 0})
        key = f"volume:{name}"
        self.call([key], lambda: self.state.add_volume(vol), {key: {}})
        self.vols.append(name)

    def remove_volume(self) -> None:
        unused = [v for v in self.vols if not any(v in i["vols"] for i in self.ctrs.values())]
        if not unused:
            return
        name = self.rng.choice(unused)
        vol = self.state.volume(name)
        key = f"volume:{name}"
        self.call([key], lambda: self.state.remove_volume(vol), {key: None})
        self.vols.remove(name)


def main(static: str, tmp: str, log_path: str, prefix: str, seed: int, checkpoint: int) -> None:
    harness.warm_up()
    state = FileState(static, tmp, storage=FileStorage(static, checkpoint_bytes=checkpoint))
    print("ready", flush=True)
    sys.stdin.readline()
    with open(log_path, "a", encoding="utf-8") as log:
        churn = Churn(state, prefix, seed, log)
        while not select.select([sys.stdin], [], [], 0)[0]:  # until stdin closes
            churn.step()
    state.close()


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0], a[1], a[2], a[3], int(a[4]), int(a[5]))
