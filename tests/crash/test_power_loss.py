"""Power loss at any instant of a commit leaves the old store or the new one, never a third.

The same holds for the commits of ``repair`` and ``snapshot`` (at the end of this file): every
file-system call of the package goes through ``fsio``, so the recorder sees theirs too.

For each kind of commit, a store is built (that tree is the durable starting point), then the
commit (after a few others whose files stay unsynced) runs with every file-system call recorded
(``powerloss.Recorder``). Every disk state a power loss could leave at any point of that trace
(``powerloss.crash_states``: the ALICE model) is materialised as a real tree and opened by
fresh processes (``harness.py verify-trees``; a new directory, so the incarnation differs and
the whole journal is replayed, as after a reboot). Each must be:

* the store before the commit or after it (``all_containers`` + states, pods, volumes, exec
  sessions, networks, indexes seen through the API) — and after it, once the commit returned;
* free of broken §2 invariants, and of fsck findings.

Environment: ``FSSTATE_POWERLOSS_RANDOM`` random subsets per crash point (default 2; more by
hand), ``FSSTATE_POWERLOSS_SEED`` their seed (default 1). A failure names the scenario, the
crash point, the subset, the trace around it and the materialised tree.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from corrupt.builders import BUILDERS, build_store

import fsstate
from fsstate import Container, ExecSession, FileState, Pod, Volume
from fsstate.store.storage import FileStorage

from . import harness, powerloss
from .harness import container_config, container_state, pod_config, pod_state, volume_config

pytestmark = pytest.mark.slow

RANDOMS = int(os.environ.get("FSSTATE_POWERLOSS_RANDOM", "2"))
SEED = int(os.environ.get("FSSTATE_POWERLOSS_SEED", "1"))
WORKERS = 2
BIG = 1 << 30  # no checkpoint unless a scenario asks for one


def cid(n: int) -> str:
    return f"{n:x}" * 64 if n < 16 else f"{n:064x}"


A, B, M1, M2 = cid(10), cid(11), cid(13), cid(14)
P = "f0" * 32


def ctr(n: str, name: str, **kw: Any) -> Container:
    return Container(container_config(n, name, **kw), container_state(n))


def vol(name: str, mounts: int = 0) -> Volume:
    return Volume(volume_config(name), {"mountCount": mounts})


def running(c: Container, pid: int) -> Container:
    c.state = container_state(c.id, 3, pid=pid, mountPoint="/m", mounted=True)
    return c


class Scenario:
    """``setup`` builds the synced base, ``pre`` commits whose files stay unsynced, ``action``
    the commit under test; each gets the open state and returns nothing."""

    def __init__(
        self,
        setup: Callable[[FileState], None],
        pre: Callable[[FileState], None],
        action: Callable[[FileState], None],
    ) -> None:
        self.setup, self.pre, self.action = setup, pre, action


def _base(st: FileState) -> None:
    st.add_volume(vol("v1"))
    st.add_container(ctr(A, "a"))


def _add_container_setup(st: FileState) -> None:
    _base(st)


def _remove_container_setup(st: FileState) -> None:
    _base(st)
    st.add_container(ctr(B, "b", deps=[A], volumes=["v1"], networks={"podman": None, "n1": ["x"]}))


def _pod_setup(st: FileState) -> None:
    _base(st)
    st.add_pod(Pod(pod_config(P, "p"), pod_state()))
    pod = Pod(pod_config(P, "p"))
    st.add_container_to_pod(pod, ctr(M1, "m1", pod=P))
    st.add_container_to_pod(pod, ctr(M2, "m2", pod=P, deps=[M1], volumes=["v1"]))
    st.add_exec_session(ctr(M1, "m1", pod=P), ExecSession("e1", M1))


def _refresh_setup(st: FileState) -> None:
    _pod_setup(st)
    st.save_container(running(ctr(A, "a"), 42))
    st.save_volume(vol("v1", mounts=2))
    st.add_exec_session(ctr(A, "a"), ExecSession("e2", A))


def _sessions_setup(st: FileState) -> None:
    _refresh_setup(st)
    owners = [ctr(A, "a"), ctr(A, "a"), ctr(M1, "m1", pod=P), ctr(M2, "m2", pod=P)]
    for n, owner in enumerate(owners):
        st.add_exec_session(owner, ExecSession(f"s{n}", owner.id))


def _refresh_then_register(st: FileState) -> None:
    with st.transaction():
        st.refresh()
        st.add_exec_session(ctr(A, "a"), ExecSession("after", A))


def _save_a_and_add_v2(st: FileState) -> None:
    _save_a(1)(st)
    st.add_volume(vol("v2"))


def _save_a(pid: int) -> Callable[[FileState], None]:
    return lambda st: st.save_container(running(ctr(A, "a"), pid))


def _checkpointing(action: Callable[[FileState], None]) -> Callable[[FileState], None]:
    def run(st: FileState) -> None:
        storage = st._storage
        assert isinstance(storage, FileStorage)
        storage.checkpoint_bytes = 1  # the next record does not fit: checkpoint first
        action(st)

    return run


SCENARIOS: dict[str, Scenario] = {
    "add_container": Scenario(
        _add_container_setup,
        _save_a(7),
        lambda st: st.add_container(
            ctr(
                B,
                "b",
                deps=[A],
                net_dep=A,
                volumes=["v1"],
                networks={"podman": None, "n1": ["x", "y"]},
            )
        ),
    ),
    "remove_container": Scenario(
        _remove_container_setup,
        lambda st: st.network_connect(ctr(B, "b"), "n2", ["z"]),
        lambda st: st.remove_container(ctr(B, "b")),
    ),
    "save_container": Scenario(
        _base,
        lambda st: st.add_exec_session(ctr(A, "a"), ExecSession("e1", A)),
        _save_a(99),
    ),
    "add_pod": Scenario(
        _base,
        lambda st: st.add_volume(vol("v2")),
        lambda st: st.add_pod(Pod(pod_config(P, "p"), pod_state())),
    ),
    "remove_pod_containers": Scenario(
        _pod_setup,
        lambda st: st.save_pod(Pod(pod_config(P, "p"), pod_state("/cg/new"))),
        lambda st: st.remove_pod_containers(Pod(pod_config(P, "p"))),
    ),
    "refresh": Scenario(
        _refresh_setup,
        lambda st: st.save_container(running(ctr(M1, "m1", pod=P), 43)),
        lambda st: st.refresh(),
    ),
    # Six sessions over three containers, all moved into the trash in two renames; one
    # registered again in the same transaction lands in a new exec/.
    "refresh with sessions": Scenario(
        _sessions_setup,
        lambda st: st.add_exec_session(ctr(M1, "m1", pod=P), ExecSession("s9", M1)),
        _refresh_then_register,
    ),
    "checkpoint": Scenario(
        _base,
        _save_a_and_add_v2,
        _checkpointing(lambda st: st.rewrite_container_config(ctr(A, "a"), ctr(A, "a2").config)),
    ),
    "remove_volume after add_volume": Scenario(
        _base,
        lambda st: st.add_volume(vol("v2")),
        lambda st: st.remove_volume(vol("v2")),
    ),
}


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    """Where the crash states are written and opened: a tmpfs when there is one (thousands
    of small trees; ext4 here spends 25 ms on each), else the temporary directory. Only
    WORKERS trees exist at a time; failing ones are moved out."""
    shm = Path("/dev/shm")
    base = None
    if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 256 << 20:
        base = shm
    path = Path(tempfile.mkdtemp(prefix="fsstate-powerloss-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path)


def verify_trees(
    states: list[powerloss.CrashState], workdir: Path, *options: str
) -> list[dict[str, Any]]:
    """Write and open each state's tree in fresh processes (``harness.py verify-trees``, with
    its ``options``), WORKERS of them in parallel; a tree that fails stays under
    ``workdir/<i>``."""
    trees = [(i, (sorted(s.tree.dirs), s.tree.files())) for i, s in enumerate(states)]
    procs = []
    for w in range(WORKERS):
        batch = workdir / f"batch-{w}.pickle"
        with open(batch, "wb") as f:
            pickle.dump(trees[w::WORKERS], f)
        with open(f"{batch}.out", "w") as out, open(f"{batch}.err", "w") as err:
            command = [sys.executable, harness.__file__, "verify-trees", str(batch), str(workdir)]
            command += options
            procs.append((subprocess.Popen(command, stdout=out, stderr=err), batch))
    results: list[dict[str, Any]] = [{} for _ in states]
    for proc, batch in procs:
        code = proc.wait(timeout=900)
        assert code == 0, Path(f"{batch}.err").read_text()
        for line in Path(f"{batch}.out").read_text().splitlines():
            result = json.loads(line)
            results[result.pop("i")] = result
    return results


def check_states(
    name: str,
    rec: powerloss.Recorder,
    start: int,
    old: dict[str, Any],
    new: dict[str, Any],
    workdir: Path,
) -> tuple[int, int]:
    """Enumerate, materialise and verify every crash state; return (listed, distinct)."""
    states, results, listed = enumerate_and_verify(rec, start, workdir)
    for i, (state, result) in enumerate(zip(states, results, strict=True)):
        where = describe(name, rec, start, state, i, workdir)
        assert "error" not in result, f"{where}\nopening failed:\n{result['error']}"
        dump = result["dump"]
        if state.after_end:
            assert dump == new, (
                f"{where}\nthe commit returned, yet the store is not the new one:\n"
                + "\n".join(harness.diff(new, dump))
            )
        else:
            assert dump in (old, new), (
                f"{where}\nneither the old store nor the new one:\n"
                + "\n".join([*harness.diff(old, dump), "-- against new:", *harness.diff(new, dump)])
            )
        assert result["violations"] == [], f"{where}\ninvariants: {result['violations']}"
        assert result["fsck"] in (None, []), f"{where}\nfsck: {result['fsck']}"
    return listed, len(states)


def enumerate_and_verify(
    rec: powerloss.Recorder, start: int, workdir: Path, *options: str
) -> tuple[list[powerloss.CrashState], list[dict[str, Any]], int]:
    """Every distinct crash state from call ``start`` on, what ``harness.py verify-trees``
    (with ``options``) found in each, and how many states were listed."""
    states, listed = powerloss.crash_states(rec.base, rec.trace, start, seed=SEED, randoms=RANDOMS)
    workdir.mkdir()
    with scratch_dir() as trees:
        results = verify_trees(states, trees, *options)
        for i in range(len(results)):
            if (trees / str(i)).exists():  # it failed: keep it where tmp_path is kept
                shutil.move(trees / str(i), workdir / str(i))
    return states, results, listed


def describe(
    name: str,
    rec: powerloss.Recorder,
    start: int,
    state: powerloss.CrashState,
    i: int,
    workdir: Path,
) -> str:
    """Where a failing state came from, for the assertion message."""
    k = state.crash_point
    return (
        f"{name}: state {i} ({state.how}; tree {workdir / str(i)}); trace "
        f"{start}..{len(rec.trace)}, calls before the crash:\n  "
        + "\n  ".join(f"{j}: {op!r}" for j, op in enumerate(rec.trace[:k]) if j >= start - 2)
    )


def record(tmp_path: Path, scenario: Scenario) -> tuple[powerloss.Recorder, int, Any, Any]:
    static, tmp = tmp_path / "static", tmp_path / "tmp"
    st = FileState(static, tmp, storage=FileStorage(str(static), checkpoint_bytes=BIG))
    scenario.setup(st)
    rec = powerloss.Recorder(static)  # the tree as it is now is the durable starting point
    with rec.recording():
        scenario.pre(st)
        start = rec.mark()
        old = harness.dump_store(st)
        scenario.action(st)
        new = harness.dump_store(st)
    st.close()
    return rec, start, old, new


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_power_loss_leaves_old_or_new_store(tmp_path: Path, name: str) -> None:
    """Every crash state of the commit opens as the old or the new store, clean."""
    rec, start, old, new = record(tmp_path, SCENARIOS[name])
    assert old != new
    listed, distinct = check_states(name, rec, start, old, new, tmp_path / "states")
    print(f"\n{name}: {len(rec.trace) - start} calls, {listed} crash states, {distinct} distinct")


def test_power_loss_when_the_store_is_created(tmp_path: Path) -> None:
    """A new store's first commit survives a power loss once it returned: the store's
    directory, journal and generation file must not vanish with their unsynced entries."""
    static, tmp = tmp_path / "static", tmp_path / "tmp"
    static.mkdir()
    rec = powerloss.Recorder(static)
    with rec.recording():
        st = FileState(static, tmp)
        old = harness.dump_store(st)
        st.add_volume(vol("v1"))
        new = harness.dump_store(st)
    st.close()
    listed, distinct = check_states("new store", rec, 0, old, new, tmp_path / "states")
    print(f"\nnew store: {len(rec.trace)} calls, {listed} crash states, {distinct} distinct")


@pytest.mark.parametrize("nth", [1, 2], ids=["before the first sync", "before the second"])
def test_power_loss_after_a_checkpoint_cut_by_a_crash(tmp_path: Path, nth: int) -> None:
    """A process dies inside a checkpoint (at its first or second syncfs), another commits,
    then the power fails: the commits before the checkpoint must survive, though the next
    record reuses the journal from its start. (The checkpoint once pointed the generation at
    offset 0 before syncing the files: that lost them here.)"""
    static, tmp = tmp_path / "static", tmp_path / "tmp"
    first = FileState(static, tmp, storage=FileStorage(str(static), checkpoint_bytes=BIG))
    _base(first)
    rec = powerloss.Recorder(static)
    with rec.recording():
        _save_a_and_add_v2(first)
        old = harness.dump_store(first)
        start = rec.mark()
        rec.crash_at("syncfs", nth)
        with pytest.raises(powerloss.CrashInjected):
            _checkpointing(_save_a(2))(first)
        first.close()  # the process is gone
        second = FileState(static, tmp)
        second.add_volume(vol("v3"))
        new = harness.dump_store(second)
    second.close()
    name = f"checkpoint cut at syncfs {nth}"
    listed, distinct = check_states(name, rec, start, old, new, tmp_path / "states")
    print(f"\n{name}: {len(rec.trace) - start} calls, {listed} crash states, {distinct} distinct")


# -- repair and snapshot commits -----------------------------------------------------------------

#: Damage that one repair commit fixes (index entries, a lost state): every crash state is the
#: damaged store or the repaired one.
ONE_COMMIT = ("missing-index-entry", "stale-index-entry", "missing-state")
#: Damage repaired in rounds (a lost config: its directory is quarantined, then the index is
#: rebuilt): a crash between rounds may leave a third state, which must hold nothing but
#: repairable findings and become the repaired store with one more repair.
IN_ROUNDS = ("missing-config", "dangling-exec-session")


@pytest.mark.slow
@pytest.mark.parametrize("damage", [ONE_COMMIT, IN_ROUNDS], ids=["one commit", "in rounds"])
def test_power_loss_during_repair(tmp_path: Path, damage: tuple[str, ...]) -> None:
    """``repair(check(...))`` of a damaged store: at every instant a power loss leaves, once
    recovered, the damaged store (its findings unchanged), the repaired one, or — between
    repair rounds — a store that only repairable findings separate from the repaired one;
    after repair returned, the repaired one. Repaired again (after recovery, and as it is,
    fsck first), each becomes exactly the repaired store, clean by fsck and the invariants."""
    static, tmp = tmp_path / "static", tmp_path / "tmp"
    store = build_store(static)
    storage = FileStorage(str(static))
    with storage.locked():  # the damage is done to files no journal record covers any more
        storage.checkpoint()
    storage.close()
    for name in damage:
        BUILDERS[name](store)
    damaged = found(fsstate.check(static))
    assert damaged and all(f[2] for f in damaged), damaged
    rec = powerloss.Recorder(static)
    with rec.recording():
        fsstate.repair(fsstate.check(static))
    with FileState(static, tmp) as st:
        new = harness.dump_store(st)
    name = f"repair of {', '.join(damage)}"
    states, results, listed = enumerate_and_verify(rec, 0, tmp_path / "states", "--repair")
    middle = 0
    for i, (state, result) in enumerate(zip(states, results, strict=True)):
        where = describe(name, rec, 0, state, i, tmp_path / "states")
        assert "error" not in result, f"{where}\nfsck or repair failed:\n{result['error']}"
        before = [tuple(f) for f in result["found"]]
        for how, after in (
            ("recovered, then repaired", result["after"]),
            ("repaired", result["raw"]),
        ):
            what = f"{where}\n{how}:"
            assert "error" not in after, f"{what} opening failed:\n{after['error']}"
            assert after["dump"] == new, f"{what}\n" + "\n".join(harness.diff(new, after["dump"]))
            assert after["violations"] == [], f"{what} invariants: {after['violations']}"
            assert after["fsck"] == [], f"{what} fsck after repair: {after['fsck']}"
        if state.after_end or damage == ONE_COMMIT:
            allowed = [[]] if state.after_end else [[], damaged]
            assert before in allowed, f"{where}\nneither damaged nor repaired: {before}"
        elif before not in ([], damaged):
            assert all(f[2] for f in before), f"{where}\nnot repairable: {before}"
            middle += 1
    print(f"\n{name}: {len(rec.trace)} calls, {listed} crash states,", end=" ")
    print(f"{len(states)} distinct, {middle} between rounds")


def found(report: Any) -> list[tuple[str, str, bool]]:
    return [(str(f.code), f.path, f.repairable) for f in report.findings]


@pytest.mark.slow
def test_power_loss_during_snapshot(tmp_path: Path) -> None:
    """A snapshot (checkpoint, copy, syncfs, rename): at every instant a power loss leaves the
    source store as it was, and at the destination nothing or a complete copy of it; after
    ``snapshot`` returned, the copy. Both are checked by fsck and the invariants."""
    world, tmp = tmp_path / "world", tmp_path / "tmp"
    static, dest = world / "static", world / "backup" / "snap"
    st = FileState(static, tmp, storage=FileStorage(str(static), checkpoint_bytes=BIG))
    _pod_setup(st)
    rec = powerloss.Recorder(world)
    with rec.recording():
        _save_a(5)(st)  # unsynced until the snapshot's checkpoint
        start = rec.mark()
        source = harness.dump_store(st)
        copied = fsstate.snapshot(static, dest)
    st.close()
    assert copied.files > 0 and copied.skipped == []
    stores = f"static,{dest.relative_to(world)}"
    states, results, listed = enumerate_and_verify(
        rec, start, tmp_path / "states", "--stores", stores
    )
    copies = 0
    for i, (state, result) in enumerate(zip(states, results, strict=True)):
        where = describe("snapshot", rec, start, state, i, tmp_path / "states")
        original, copy = result["stores"]["static"], result["stores"][str(dest.relative_to(world))]
        if state.after_end:
            assert copy is not None, f"{where}\nsnapshot returned, yet there is no copy"
        for what, got in (("source", original), ("copy", copy)):
            if got is None:
                assert what == "copy", f"{where}\nthe source store is gone"
                continue
            assert "error" not in got, f"{where}\n{what}: opening failed:\n{got['error']}"
            assert got["dump"] == source, f"{where}\n{what}:\n" + "\n".join(
                harness.diff(source, got["dump"])
            )
            assert got["violations"] == [], f"{where}\n{what} invariants: {got['violations']}"
            assert got["fsck"] == [], f"{where}\n{what} fsck: {got['fsck']}"
        copies += copy is not None
    print(f"\nsnapshot: {len(rec.trace) - start} calls, {listed} crash states,", end=" ")
    print(f"{len(states)} distinct, {copies} with the copy")
