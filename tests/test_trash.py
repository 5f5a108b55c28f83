"""The trash (``storage.FileStorage``, "The trash"): ``refresh()`` moves ``exec/`` and
``index/exec/`` aside whole in its commit and they are deleted after it, in the background; a
trash a killed process left is deleted by the next opener and never read as store data;
``fsck`` reports it and ``fsck --repair`` deletes it; a snapshot leaves it behind.

Real files and real processes throughout: the killed refreshes are real ``kill -9``.
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

import pytest
from conftest import container_id, new_container

from fsstate import Container, ExecSession, FileState, check, errors, repair
from fsstate.fsck import Code
from fsstate.store import layout as L
from fsstate.store.fsio import Tree
from fsstate.store.journal import Journal
from fsstate.store.snapshot import snapshot
from fsstate.store.storage import FileStorage

TESTS = str(Path(__file__).parent)
#: Containers and exec sessions (one each, then three more on the first) of :func:`build`.
CONTAINERS = 6


def running(n: int) -> Container:
    return new_container(n, state={"state": 3, "pid": 100 + n})


def sid(n: int, k: int = 0) -> str:
    return f"session-{n}-{k}"


def build(static: Path) -> list[str]:
    """A store of running containers with exec sessions; returns the session IDs."""
    sessions = []
    with FileState(static, static.parent / "tmp") as st, st.transaction():
        for n in range(1, CONTAINERS + 1):
            ctr = running(n)
            st.add_container(ctr)
            for k in range(4 if n == 1 else 1):
                st.add_exec_session(ctr, ExecSession(sid(n, k), ctr.id))
                sessions.append(sid(n, k))
    return sessions


def storage_of(st: FileState) -> FileStorage:
    storage = st._storage
    assert isinstance(storage, FileStorage)
    return storage


def trash_of(static: Path) -> list[str]:
    """Every path below ``trash/``, relative to it."""
    top = static / L.STORE_DIR / L.TRASH
    return sorted(str(p.relative_to(top)) for p in top.rglob("*")) if top.exists() else []


def test_refresh_sets_the_sessions_aside_and_deletes_them_after(tmp_path: Path) -> None:
    static = tmp_path / "static"
    sessions = build(static)
    with FileState(static, tmp_path / "tmp") as st:
        st.refresh()
        for s in sessions:
            with pytest.raises(errors.NoSuchExecSessionError):
                st.get_exec_session(s)
        ctr = st.container(container_id(1))
        assert st.get_container_exec_sessions(ctr) == []
        st.update_container(ctr)
        assert ctr.state["state"] == 6  # running → exited: the states were reset in the commit
        store = static / L.STORE_DIR
        assert not (store / L.EXEC).exists() and not (store / L.INDEX_DIR / "exec").exists()
        assert storage_of(st).wait_for_trash(60)
        assert trash_of(static) == []  # the trash directory stays, empty
        # a session registered afterwards lives in a new exec/, seen by a new process too
        st.add_exec_session(ctr, ExecSession(sessions[0], ctr.id))
    with FileState(static, tmp_path / "tmp") as st:
        assert st.get_exec_session(sessions[0]) == container_id(1)
        assert st.get_container_exec_sessions(st.container(container_id(2))) == []
    assert check(static).findings == ()


def test_refresh_then_register_in_one_transaction(tmp_path: Path) -> None:
    """The move comes in order with the other changes: a session registered after the refresh
    in the same transaction is in the new exec/, the old ones are gone."""
    static = tmp_path / "static"
    sessions = build(static)
    with FileState(static, tmp_path / "tmp") as st:
        with st.transaction():
            st.refresh()
            ctr = st.container(container_id(2))
            st.add_exec_session(ctr, ExecSession(sessions[0], ctr.id))
            assert st.get_container_exec_sessions(ctr) == [sessions[0]]
        assert storage_of(st).wait_for_trash(60)
    with FileState(static, tmp_path / "tmp") as st:
        assert st.get_exec_session(sessions[0]) == container_id(2)
        for s in sessions[1:]:
            with pytest.raises(errors.NoSuchExecSessionError):
                st.get_exec_session(s)
        assert st.get_container_exec_sessions(st.container(container_id(1))) == []
    assert check(static).findings == ()


def test_a_rolled_back_refresh_keeps_every_session(tmp_path: Path) -> None:
    static = tmp_path / "static"
    sessions = build(static)
    with FileState(static, tmp_path / "tmp") as st:
        with pytest.raises(errors.NoSuchContainerError), st.transaction():
            st.refresh()
            st.remove_container(new_container(99))  # fails: the whole transaction goes
        assert [st.get_exec_session(s) for s in sessions[:1]] == [container_id(1)]
        assert len(st.get_container_exec_sessions(st.container(container_id(1)))) == 4
    assert trash_of(static) == []


#: A child that refreshes the store with its sweeper stopped, then kills itself with SIGKILL
#: as soon as the refresh returned: the trash it leaves is a real killed process's.
KILLED_AFTER_REFRESH = """
import os, signal, sys
from fsstate import FileState
from fsstate.store.storage import FileStorage
FileStorage._start_sweeper = lambda self: None
st = FileState(sys.argv[1], sys.argv[2])
st.refresh()
os.kill(os.getpid(), signal.SIGKILL)
"""


#: The same, killed at the end of the refresh's commit, before the checkpoint that ends it:
#: its record is still in the journal.
KILLED_BEFORE_CHECKPOINT = """
import os, signal, sys
from fsstate import FileState
from fsstate.store.storage import FileStorage
FileStorage._checkpoint_for_trash = lambda self: os.kill(os.getpid(), signal.SIGKILL)
st = FileState(sys.argv[1], sys.argv[2])
st.refresh()
"""


def killed_refresh(static: Path, child: str = KILLED_AFTER_REFRESH) -> None:
    done = subprocess.run(
        [sys.executable, "-c", child, str(static), str(static.parent / "tmp")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr


def test_a_killed_processes_trash_is_reported_never_read_and_deleted_by_the_next_opener(
    tmp_path: Path,
) -> None:
    static = tmp_path / "static"
    sessions = build(static)
    killed_refresh(static)
    left = trash_of(static)
    (number,) = {p.split("/")[0] for p in left}
    assert f"{number}/exec/{sessions[0]}" in left  # the sessions, moved whole
    assert f"{number}/index.exec/{container_id(1)}/{sessions[0]}" in left
    assert any(L.is_temp_name(p.split("/")[-1]) for p in left)  # the old states
    report = check(static)  # fsck does not delete it: it reports it
    assert [(f.code, f.path, f.repairable) for f in report.findings] == [
        (Code.TRASH, L.trash_dir(int(number)), True)
    ]
    assert trash_of(static) == left
    with FileState(static, tmp_path / "tmp") as st:
        # never read as store data, even before it is deleted
        for s in sessions:
            with pytest.raises(errors.NoSuchExecSessionError):
                st.get_exec_session(s)
        ctr = st.container(container_id(1))
        assert st.get_container_exec_sessions(ctr) == []
        st.add_exec_session(ctr, ExecSession(sessions[0], ctr.id))  # free again
        assert storage_of(st).wait_for_trash(60)
        assert trash_of(static) == []
        assert st.get_exec_session(sessions[0]) == container_id(1)
    assert check(static).findings == ()


def test_a_trash_whose_record_was_not_checkpointed_yet_is_deleted_too(tmp_path: Path) -> None:
    """Killed after the commit, before its checkpoint: the next opener checkpoints (the record
    is applied: the refresh happened) and then deletes the trash."""
    static = tmp_path / "static"
    sessions = build(static)
    killed_refresh(static, KILLED_BEFORE_CHECKPOINT)
    assert trash_of(static) != []
    report = check(static)  # opening it for fsck checkpoints: the trash is deletable then
    assert [(f.code, f.repairable) for f in report.findings] == [(Code.TRASH, True)]
    with FileState(static, tmp_path / "tmp") as st:
        assert not any(_registered(st, s) for s in sessions)
        assert _state(st, container_id(3)) == 6
        assert storage_of(st).wait_for_trash(60)
    assert trash_of(static) == []
    assert check(static).findings == ()


def test_fsck_repair_deletes_a_killed_processes_trash(tmp_path: Path) -> None:
    static = tmp_path / "static"
    build(static)
    killed_refresh(static)
    assert trash_of(static) != []
    repaired = repair(check(static))
    assert [(f.code, f.action) for f in repaired.findings] == [(Code.TRASH, "deleted")]
    assert trash_of(static) == []
    assert check(static).findings == ()


def test_trash_whose_record_is_still_in_the_journal_waits_for_a_checkpoint(
    tmp_path: Path,
) -> None:
    """A trash directory numbered like a record still in the journal could be looked at by a
    replay of that record: the first hold of the lock first checkpoints (the record then
    cannot be replayed), and only then deletes it. An open that only reads leaves both."""
    static = tmp_path / "static"
    build(static)  # its records are all still in the journal (no checkpoint yet)
    first = journal_start(static)
    assert first is not None
    keep = static / L.STORE_DIR / L.trash_dir(first)
    keep.mkdir(mode=0o700, parents=True)
    (keep / "exec").mkdir(mode=0o700)
    os.chmod(keep.parent, 0o700)
    with FileState(static, tmp_path / "tmp") as st:
        assert _state(st, container_id(1)) == 3
    assert journal_start(static) == first == 1 and trash_of(static) == ["1", "1/exec"]
    with FileState(static, tmp_path / "tmp") as st:
        with st.transaction():  # takes the lock, changes nothing
            pass
        assert storage_of(st).wait_for_trash(60)
    assert journal_start(static) is None  # checkpointed
    assert trash_of(static) == []
    assert check(static).findings == ()


def journal_start(static: Path) -> int | None:
    """The number of the journal's first record (``None``: empty, checkpointed)."""
    tree = Tree(str(static / L.STORE_DIR))
    journal = Journal(tree)
    try:
        return journal.number_at(0)
    finally:
        journal.close()
        tree.close()


def test_snapshot_leaves_the_trash_behind(tmp_path: Path) -> None:
    static = tmp_path / "static"
    sessions = build(static)
    killed_refresh(static)
    assert trash_of(static) != []
    copy = snapshot(static, tmp_path / "backup")
    assert not (Path(copy.dest) / L.STORE_DIR / L.TRASH).exists()
    with (
        FileState(copy.dest, tmp_path / "tmp2") as st,
        pytest.raises(errors.NoSuchExecSessionError),
    ):
        st.get_exec_session(sessions[0])
    assert check(copy.dest).findings == ()


#: Open the store, say so, refresh; the test kills it at a random moment.
REFRESHER = """
import sys
from fsstate import FileState
st = FileState(sys.argv[1], sys.argv[2])
print("open", flush=True)
st.refresh()
print("done", flush=True)
sys.stdin.read()
"""


@pytest.mark.slow
def test_kill9_during_refresh_leaves_every_session_or_none(tmp_path: Path) -> None:
    """Real ``kill -9`` at random moments of a refresh of 150 containers with 300 sessions:
    the next opener sees the refresh whole (every session gone, every state reset) or not at
    all (every session there, every state as it was), and a clean store."""
    template = tmp_path / "template"
    sessions = []
    with FileState(template / "static", template / "tmp") as st, st.transaction():
        for n in range(1, 151):
            ctr = running(n)
            st.add_container(ctr)
            for k in range(2):
                st.add_exec_session(ctr, ExecSession(sid(n, k), ctr.id))
                sessions.append((sid(n, k), ctr.id))
    rng = random.Random(9)
    took = 0.0
    outcomes = {"all": 0, "none": 0}
    for i in range(12):
        work = tmp_path / f"run{i}"
        shutil.copytree(template, work)
        static, tmp = work / "static", work / "tmp"
        child = subprocess.Popen(
            [sys.executable, "-c", REFRESHER, str(static), str(tmp)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None and child.stdout.readline() == "open\n"
        started = time.monotonic()
        if i == 0:  # the first runs whole: how long a refresh takes here
            assert child.stdout.readline() == "done\n"
            took = time.monotonic() - started
        else:
            time.sleep(rng.uniform(0, took * 1.2))
        child.kill()
        child.wait()
        child.stdin.close()  # type: ignore[union-attr]
        child.stdout.close()
        with FileState(static, tmp) as st:
            present = [s for s, _ in sessions if _registered(st, s)]
            states = {st.container(cid).id: _state(st, cid) for _, cid in sessions}
            with st.transaction():  # the first hold of the lock sweeps what the kill left
                pass
            assert storage_of(st).wait_for_trash(60)
        if present:
            assert present == [s for s, _ in sessions], f"run {i}: {len(present)} sessions"
            assert set(states.values()) == {3}, f"run {i}: sessions kept, states reset"
            outcomes["none"] += 1
        else:
            assert set(states.values()) == {6}, f"run {i}: sessions gone, states not reset"
            outcomes["all"] += 1
        assert check(static).findings == (), f"run {i}"
        assert trash_of(static) == []
        shutil.rmtree(work)
    assert outcomes["all"] >= 1  # (the first run at least)


def _registered(st: FileState, session: str) -> bool:
    try:
        st.get_exec_session(session)
    except errors.NoSuchExecSessionError:
        return False
    return True


def _state(st: FileState, cid: str) -> int:
    ctr = st.container(cid)
    st.update_container(ctr)
    state: int = ctr.state["state"]
    return state
