"""``kill -9`` while a store is upgraded from layout 1 loses no registry entry, and the next
open finishes the upgrade (``fsstate/store/upgrade.py``).

A store of five hundred containers and as many volumes with random IDs (entries in about a
tenth of the 4,096 three-character shards of each registry) is put back into layout 1 here:
its journal checkpointed, every registry entry moved to its two-character shard, ``FORMAT`` 1.
A child process opens a copy, which upgrades it, and is killed with SIGKILL at a random moment
within the time a whole upgrade takes. Opening the copy afterwards must show layout 2, every
entry in its shard, every object through the API, and ``fsstate.check`` must find nothing.

Environment: ``FSSTATE_UPGRADE_KILLS`` (default 5) kills; ``FSSTATE_CRASH_SEED`` (default 1).
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import new_container

from fsstate import FileState, Volume
from fsstate.fsck import check
from fsstate.store import layout as L
from fsstate.store.storage import FileStorage

pytestmark = pytest.mark.slow

OBJECTS = 500
CHILD = """
import sys
from fsstate import FileState
print("ready", flush=True)
sys.stdin.readline()
FileState(sys.argv[1], sys.argv[2]).close()
print("done", flush=True)
"""
REGISTRIES = [L.REGISTRY[kind].dir() for kind in ("container", "pod", "volume")]


def build_layout1(static: Path) -> dict[str, set[str]]:
    """A store in layout 1 under ``static``; each registry's names."""
    with FileState(static, static.parent / "tmp") as state, state.transaction():
        for n in range(OBJECTS):
            cid = hashlib.sha256(f"ctr-{n}".encode()).hexdigest()
            state.add_container(new_container(n, id=cid, name=f"c{n}"))
            state.add_volume(Volume({"name": hashlib.sha1(str(n).encode()).hexdigest()}))
    storage = FileStorage(str(static))
    with storage.locked():
        storage.checkpoint()  # no record names a layout-2 path
    storage.close()
    store = static / L.STORE_DIR
    names: dict[str, set[str]] = {}
    for top in REGISTRIES:
        names[top] = set()
        if not (store / top).exists():
            continue
        for shard in list((store / top).iterdir()):
            for entry in list(shard.iterdir()):
                names[top].add(entry.name)
                old = store / top / entry.name[:2]
                old.mkdir(mode=0o700, exist_ok=True)
                entry.rename(old / entry.name)
            if not any(shard.iterdir()):
                shard.rmdir()
    (store / L.FORMAT).write_bytes(b"fsstate-layout 1\n")
    return names


def start(copy: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(copy / "static"), str(copy / "tmp")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline() == "ready\n"
    return child


def copy_of(base: Path, dest: Path) -> Path:
    shutil.copytree(base, dest / "static", symlinks=True)
    os.sync()  # so that the upgrade's own syncs, not the copy's, take its time
    return dest


def stop(child: subprocess.Popen[str]) -> None:
    child.wait()
    for pipe in (child.stdin, child.stdout):
        if pipe is not None:
            pipe.close()


def test_kill_9_during_the_upgrade_loses_no_entry(tmp_path: Path) -> None:
    base = tmp_path / "base"
    names = build_layout1(base)
    assert sum(len(n) for n in names.values()) == 2 * OBJECTS
    # The whole upgrade, to know when to kill.
    whole = copy_of(base, tmp_path / "whole")
    child = start(whole)
    began = time.perf_counter()
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write("go\n")
    child.stdin.flush()
    assert child.stdout.readline() == "done\n"
    took = time.perf_counter() - began
    stop(child)
    assert child.returncode == 0
    rng = random.Random(int(os.environ.get("FSSTATE_CRASH_SEED", "1")))
    kills = int(os.environ.get("FSSTATE_UPGRADE_KILLS", "5"))
    for i in range(kills):
        copy = copy_of(base, tmp_path / f"kill{i}")
        child = start(copy)
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
        time.sleep(rng.uniform(0, took))
        os.kill(child.pid, signal.SIGKILL)
        stop(child)
        static = copy / "static"
        with FileState(static, copy / "tmp") as state:
            assert len(state.all_containers()) == OBJECTS
            cid = hashlib.sha256(b"ctr-7").hexdigest()
            assert state.lookup_container(cid[:12]).name == "c7"
        store = static / L.STORE_DIR
        assert (store / L.FORMAT).read_bytes() == f"fsstate-layout {L.FORMAT_VERSION}\n".encode()
        for top in REGISTRIES:
            shards = list((store / top).iterdir()) if (store / top).exists() else []
            found = {(shard.name, entry.name) for shard in shards for entry in shard.iterdir()}
            assert {name for _, name in found} == names[top], (i, top)
            assert all(shard == L.shard(name) for shard, name in found), (i, top)
        assert check(static).findings == (), i
        shutil.rmtree(copy)
