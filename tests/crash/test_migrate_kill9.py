"""``kill -9`` during ``migrate`` leaves the store wholly "bolt" or wholly "sqlite".

A migration is one commit (``fsstate.state.migration``). A child process migrates a copy of a
"bolt" store of a hundred-odd containers with changed networks, a pod, namespaces and exec
sessions; it is killed with SIGKILL at a random moment of the migration. Opening the store
afterwards (recovery replays or drops the commit) must show either the store as it was, or
the store a completed migration makes (the same copy migrated here), through the whole API
and every network option, and ``fsstate.check`` must find nothing.

Environment: ``FSSTATE_MIGRATE_KILLS`` (default 5) kills; ``FSSTATE_CRASH_SEED`` (default 1).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import dump_store, new_container, new_pod

import fsstate
from fsstate import ExecSession, FileState

pytestmark = pytest.mark.slow

CONTAINERS = 120
CHILD = """
import sys
from fsstate import FileState
st = FileState(sys.argv[1], sys.argv[2])
st.all_volumes()  # open and recover before the clock starts
print("ready", flush=True)
sys.stdin.readline()
st.migrate("sqlite")
print("done", flush=True)
"""


def build(root: Path) -> None:
    st = FileState(root / "static", root / "tmp", semantics="bolt")
    with st.transaction():
        pod = new_pod(1, name="pod1")
        st.add_pod(pod)
        for n in range(1, CONTAINERS + 1):
            cid = f"{n:064x}"
            ctr = new_container(
                n,
                id=cid,
                name=f"c{n}",
                networkMode="bridge",
                networks=["podman", f"net{n % 7}"],
                network_alises={"podman": [f"a{n}"]},
                namespace="ns1" if n % 5 == 0 else "",
            )
            if n % 10 == 0:
                st.add_container_to_pod(pod, new_container(n, id=cid, name=f"c{n}", pod=pod.id))
                continue
            st.add_container(ctr)
            st.network_connect(ctr, "extra", options={"static_ips": [f"10.0.{n // 250}.{n % 250}"]})
            if n % 3 == 0:
                st.add_exec_session(ctr, ExecSession(f"{n:064x}"[::-1], cid))
    st.close()


def view(root: Path) -> tuple[str, dict[str, Any]]:
    """The store's semantics, and everything the API says about it, networks included."""
    st = FileState(root / "static", root / "tmp")
    dump = dump_store(st)
    dump["options"] = {c.id: st.get_network_options(c) for c in st.all_containers()}
    semantics = st.semantics
    st.close()
    return semantics, dump


def test_kill_during_migrate(tmp_path: Path) -> None:
    base = tmp_path / "base"
    build(base)
    before = view(base)
    done = tmp_path / "done"
    shutil.copytree(base, done)
    start = time.monotonic()
    st = FileState(done / "static", done / "tmp")
    st.migrate("sqlite")
    st.close()
    took = time.monotonic() - start
    after = view(done)
    assert before[0] == "bolt" and after[0] == "sqlite" and before[1] != after[1]
    rng = random.Random(int(os.environ.get("FSSTATE_CRASH_SEED", "1")))
    seen = {"bolt": 0, "sqlite": 0}
    for i in range(int(os.environ.get("FSSTATE_MIGRATE_KILLS", "5"))):
        root = tmp_path / f"kill{i}"
        shutil.copytree(base, root)
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(root / "static"), str(root / "tmp")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdin is not None and child.stdout is not None
        assert child.stdout.readline() == "ready\n"
        child.stdin.write("go\n")
        child.stdin.flush()
        time.sleep(rng.uniform(0, took * 1.2))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdin.close()
        child.stdout.close()
        got = view(root)
        assert got in (before, after), f"kill {i}: neither the old store nor the migrated one"
        seen[got[0]] += 1
        assert fsstate.check(root / "static").clean, f"kill {i}"
    assert sum(seen.values()) == int(os.environ.get("FSSTATE_MIGRATE_KILLS", "5"))
