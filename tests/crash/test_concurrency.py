"""Many processes and threads on one store: no lost update, no torn read, no deadlock.

Each writer (``harness.stress_thread``) owns the objects named with its prefix and runs random
operations on them, using a container, a pod and a volume that all writers share (as
dependency, pod and mount); every 4th operation appends a unique key to the shared
container's state by update → modify → save inside ``state.transaction()``. Every 32nd, it
checks the §2 invariants on the files and through the API inside one transaction (one
snapshot). In each process a reader thread makes single calls meanwhile and checks that every
object it gets is whole. At the end, every key is in the shared state exactly once, in each
writer's order; each writer's objects equal its model; the shared pod's members, volume's
users and container's dependents are the union of the writers'; invariants and fsck are clean.

``FSSTATE_CONCURRENCY_SECONDS`` sets how long the writers run (default 10 for processes,
half that for threads).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fsstate import FileState

from . import harness
from .harness import KEYS, SHARED_CTR, SHARED_POD, SHARED_VOL

pytestmark = pytest.mark.slow

SECONDS = float(os.environ.get("FSSTATE_CONCURRENCY_SECONDS", "10"))


def run_stress(tmp_path: Path, processes: int, threads: int, seconds: float) -> dict[str, Any]:
    """Run ``processes`` × ``threads`` writers on one fresh store; return their results."""
    static, tmp = tmp_path / "static", tmp_path / "tmp"
    with FileState(static, tmp) as state:
        harness.seed_shared(state)
    procs = []
    for w in range(processes):
        out = tmp_path / f"worker-{w}.json"
        args = [str(static), str(tmp), str(out), str(w), str(1000 + w), str(seconds), str(threads)]
        with open(tmp_path / f"worker-{w}.stderr", "w") as err:
            proc = subprocess.Popen(
                [sys.executable, harness.__file__, "stress", *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        procs.append((proc, out))
    for proc, _ in procs:  # all imported: start together
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    for proc, _ in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.close()
    deadline = time.monotonic() + seconds + 120
    try:
        for w, (proc, _) in enumerate(procs):
            code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            stderr = (tmp_path / f"worker-{w}.stderr").read_text()
            assert code == 0, f"worker {w} exited with {code}:\n{stderr}"
    except subprocess.TimeoutExpired:
        pytest.fail(f"workers still running {seconds + 120:.0f} s after the start: deadlock?")
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            assert proc.stdout is not None
            proc.stdout.close()
    results = [json.loads(out.read_text()) for _, out in procs]
    threads_out = [t for r in results for t in r["threads"]]
    errors = [t["error"] for t in threads_out if "error" in t]
    errors += [r["reader"]["error"] for r in results if "error" in r["reader"]]
    assert errors == [], "\n".join(errors)
    with FileState(static, tmp) as state:
        final = harness.dump_store(state)
        bad = harness.api_violations(state)
    bad += harness.tree_violations(str(static))
    assert bad == [], bad
    assert harness.fsck_findings(str(static)) in (None, [])
    return {
        "threads": threads_out,
        "readers": [r["reader"] for r in results],
        "elapsed": max(r["elapsed"] for r in results),
        "final": final,
    }


def check_final(run: dict[str, Any]) -> None:
    """No lost update, and every writer's objects exactly as its model says."""
    final = run["final"]
    keys = final["containers"][SHARED_CTR]["state"].get(KEYS, [])
    assert len(keys) == len(set(keys)), "a key was appended twice"
    for t in run["threads"]:
        mine = [k for k in keys if k in set(t["keys"])]
        assert mine == t["keys"], "a writer's keys are missing or out of order (lost update)"
    assert len(keys) == sum(len(t["keys"]) for t in run["threads"])

    owned: dict[str, Any] = {"containers": {}, "pods": {}, "volumes": {}, "exec": {}}
    members, users, dependents = [], [], []
    for t in run["threads"]:
        model = t["model"]
        assert t["store"] == model, "a writer's own view differs from its model"
        for kind in owned:
            owned[kind].update(model[kind])
        for cid, c in model["containers"].items():
            config = c["config"]
            members += [cid] if config.get("pod") == SHARED_POD else []
            volumes = [v["volumeName"] for v in config.get("namedVolumes") or []]
            users += [cid] if SHARED_VOL in volumes else []
            deps = {config.get("netNsCtr"), *(config.get("Dependencies") or [])}
            dependents += [cid] if SHARED_CTR in deps else []
    shared = {
        "containers": [SHARED_CTR],
        "pods": [SHARED_POD],
        "volumes": [SHARED_VOL],
        "exec": [],
    }
    for kind in owned:
        others = {k: v for k, v in final[kind].items() if k not in shared[kind]}
        assert others == owned[kind], f"{kind}: " + "; ".join(harness.diff(owned[kind], others))
    assert final["pods"][SHARED_POD]["members"] == sorted(members)
    assert final["volumes"][SHARED_VOL]["users"] == sorted(users)
    assert final["containers"][SHARED_CTR]["dependents"] == sorted(dependents)


def report(what: str, run: dict[str, Any]) -> None:
    ops = sum(t["ops"] for t in run["threads"])
    checks = sum(t["checks"] for t in run["threads"])
    reads = sum(r["reads"] for r in run["readers"])
    keys = len(run["final"]["containers"][SHARED_CTR]["state"].get(KEYS, []))
    print(
        f"\n{what}: {ops} operations in {run['elapsed']:.1f} s = {ops / run['elapsed']:.0f} "
        f"ops/s ({keys} shared-key appends, {checks} snapshot checks, {reads} reader rounds)"
    )


def test_eight_processes_share_one_store(tmp_path: Path) -> None:
    """8 processes × random operations: no lost update, no torn read, no deadlock."""
    run = run_stress(tmp_path, processes=8, threads=1, seconds=SECONDS)
    check_final(run)
    report("8 processes", run)


def test_eight_threads_share_one_filestate(tmp_path: Path) -> None:
    """8 threads on one FileState: the same guarantees."""
    run = run_stress(tmp_path, processes=1, threads=8, seconds=SECONDS / 2)
    check_final(run)
    report("8 threads, one FileState", run)


def test_processes_with_threads(tmp_path: Path) -> None:
    """2 processes × 4 threads each: process and thread locking together."""
    run = run_stress(tmp_path, processes=2, threads=4, seconds=SECONDS / 4)
    check_final(run)
    report("2 processes × 4 threads", run)


def test_the_lock_is_free_whenever_a_call_has_returned(tmp_path: Path) -> None:
    """After every call — successful, failed, or a transaction that raised — another process
    takes the store lock at once; inside ``transaction()`` it cannot."""
    from fsstate import Container, ExecSession, Pod, Volume, errors

    from .harness import container_config, container_state, pod_config, pod_state

    static, tmp = tmp_path / "static", tmp_path / "tmp"
    state = FileState(static, tmp)
    probe = subprocess.Popen(
        [sys.executable, harness.__file__, "hold-probe", str(static)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert probe.stdin is not None and probe.stdout is not None

    def lock_state() -> str:
        probe.stdin.write("probe\n")  # type: ignore[union-attr]
        probe.stdin.flush()  # type: ignore[union-attr]
        return probe.stdout.readline().strip()  # type: ignore[union-attr]

    cid, pid = "c" * 64, "d" * 64
    ctr = Container(container_config(cid, "c", volumes=["v"]), container_state(cid))
    pod = Pod(pod_config(pid, "p"), pod_state())
    calls: list[tuple[str, Callable[[], object]]] = [
        ("add_volume", lambda: state.add_volume(Volume({"name": "v"}, {"mountCount": 0}))),
        ("add_container", lambda: state.add_container(ctr)),
        ("add_pod", lambda: state.add_pod(pod)),
        ("lookup_container", lambda: state.lookup_container("c")),
        ("update_container", lambda: state.update_container(ctr)),
        ("save_container", lambda: state.save_container(ctr)),
        ("all_containers", lambda: state.all_containers()),
        ("network_connect", lambda: state.network_connect(ctr, "n1", ["a"])),
        ("add_exec_session", lambda: state.add_exec_session(ctr, ExecSession("s1", cid))),
        ("refresh", lambda: state.refresh()),
        ("volume_in_use", lambda: state.volume_in_use(Volume({"name": "v"}))),
        ("append_key", lambda: harness.append_key(state, ctr, "k")),
    ]
    failing: list[tuple[str, Callable[[], object]]] = [
        ("lookup of a missing container", lambda: state.lookup_container("nope")),
        ("adding a duplicate", lambda: state.add_container(ctr)),
        ("removing a used volume", lambda: state.remove_volume(Volume({"name": "v"}))),
    ]
    try:
        assert lock_state() == "free"
        for what, call in calls:
            call()
            assert lock_state() == "free", f"lock held after {what}"
        for what, call in failing:
            with pytest.raises(errors.StateError):
                call()
            assert lock_state() == "free", f"lock held after {what} failed"
        with pytest.raises(errors.NoSuchContainerError), state.transaction():
            state.save_container(ctr)
            assert lock_state() == "held"  # a transaction holds it, by design
            state.lookup_container("nope")
        assert lock_state() == "free", "lock held after a transaction raised"
        with state.transaction():
            state.update_container(ctr)
        assert lock_state() == "free", "lock held after a transaction"
    finally:
        state.close()
        probe.stdin.close()
        probe.wait(timeout=10)
        probe.stdout.close()
