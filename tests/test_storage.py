"""FileStorage and Tree: descriptors, path components, closing under a running call."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

import pytest

from fsstate import Container, FileState, errors
from fsstate.store.fsio import Tree


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_failed_open_leaks_no_descriptor(tmp_path: Path) -> None:
    """A store that cannot be opened (a symlink where the journal should be) leaves no
    descriptor behind, however often it is tried."""
    FileState(tmp_path / "static", tmp_path / "tmp").close()
    journal = tmp_path / "static" / "fsstate" / "journal"
    journal.unlink()
    journal.symlink_to(tmp_path / "elsewhere")
    before = open_fds()
    for _ in range(20):
        with pytest.raises(errors.CorruptDocumentError) as exc:
            FileState(tmp_path / "static", tmp_path / "tmp")
        assert exc.value.path == str(journal)
    assert open_fds() == before
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("rel", ["containers/../FORMAT", "../outside", "a//b", "./FORMAT"])
def test_tree_refuses_components_that_leave_the_store(tmp_path: Path, rel: str) -> None:
    """Tree never resolves '..', '.' or an empty component, whatever a caller passes."""
    (tmp_path / "store").mkdir()
    (tmp_path / "outside").write_text("keep")
    tree = Tree(str(tmp_path / "store"))
    try:
        for op in (tree.read, tree.delete, lambda r: tree.put(r, b"x")):
            with pytest.raises(errors.CorruptDocumentError):
                op(rel)
    finally:
        tree.close()
    assert (tmp_path / "outside").read_text() == "keep"


def test_close_waits_for_a_call_in_flight(tmp_path: Path) -> None:
    """close() from another thread waits for the running call, so the flock is never dropped
    under a commit; the closed store then refuses calls."""
    state = FileState(tmp_path / "static", tmp_path / "tmp")
    lock_path = tmp_path / "static" / "fsstate" / "lock"
    inside, done = threading.Event(), threading.Event()

    def slow_transaction() -> None:
        with state.transaction():
            inside.set()
            time.sleep(0.3)
            state.add_container(Container({"id": "c1", "name": "one", "lockID": 1}, {}))
        done.set()

    worker = threading.Thread(target=slow_transaction)
    worker.start()
    assert inside.wait(5)
    closer = threading.Thread(target=state.close)
    closer.start()
    time.sleep(0.1)
    # Another process's view: still locked.
    with open(lock_path, "rb") as other, pytest.raises(BlockingIOError):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    worker.join(5)
    closer.join(5)
    assert done.is_set()
    with pytest.raises(errors.StateClosedError):
        state.container("c1")
    with FileState(tmp_path / "static", tmp_path / "tmp") as again:
        assert again.lookup_container("one").id == "c1"


def test_corrupt_config_exists_and_names_its_path(tmp_path: Path) -> None:
    """A damaged config: has_container says it exists (with or without a namespace), getters
    raise CorruptDocumentError naming the file, and the other containers keep working."""
    with FileState(tmp_path / "static", tmp_path / "tmp") as state:
        for n in (1, 2):
            state.add_container(
                Container({"id": f"c{n}", "name": f"n{n}", "lockID": n, "namespace": "ns"}, {})
            )
    config = tmp_path / "static" / "fsstate" / "containers" / "c1" / "config.json"
    config.write_bytes(b'{"id": "c1", "na')
    with FileState(tmp_path / "static", tmp_path / "tmp") as state:
        for namespace in ("", "ns"):
            state.set_namespace(namespace)
            assert state.has_container("c1") is True
            with pytest.raises(errors.CorruptDocumentError) as exc:
                state.container("c1")
            assert exc.value.path == str(config)
            assert [c.id for c in state.all_containers()] == ["c2"]
        state.set_namespace("other")
        assert state.has_container("c1") is False
        state.set_namespace("")
        state.add_container(Container({"id": "c3", "name": "n3", "lockID": 3}, {}))
        assert state.lookup_container("n2").id == "c2"


@pytest.mark.parametrize("resolution", ["openat2", "walk"])
def test_both_resolutions_serve_the_same_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, resolution: str
) -> None:
    """Adds, lookups, listings and removals work the same through openat2 and the walk."""
    from fsstate.store import fsio

    if resolution == "walk":
        monkeypatch.setattr(fsio.calls, "_syscall", None)
    with FileState(tmp_path / "static", tmp_path / "tmp") as state:
        for n in range(3):
            state.add_container(Container({"id": f"ab{n}", "name": f"n{n}", "lockID": n}, {}))
        assert state.lookup_container("n1").id == "ab1"
        assert state.lookup_container_id("ab2") == "ab2"
        with pytest.raises(errors.ContainerExistsError):
            state.lookup_container("ab")  # ambiguous prefix: one shard listed
        state.remove_container(state.container("ab0"))
        assert [c.id for c in state.all_containers()] == ["ab1", "ab2"]
    assert (fsio.calls._syscall is None) == (resolution == "walk")


def _save_and_die_before_dropping_old_files(static: str, tmp: str) -> None:
    """A writer killed right after its commit, before it dropped the old files install kept
    under temporary names (``FileStorage.commit``: readers run again before that)."""
    from fsstate.store.fsio import staged

    staged.Staged.finish = lambda self: os._exit(0)  # type: ignore[method-assign]
    with FileState(static, tmp) as state:
        ctr = state.container("c" * 64)
        ctr.state = {"state": 3}
        state.save_container(ctr)
    os._exit(1)  # not reached: the commit ends by dying


def test_old_files_a_killed_writer_kept_are_swept_by_the_next_lock_holder(tmp_path: Path) -> None:
    """A writer killed after its commit, before it dropped the old files it kept: a reader
    leaves them (they are no store data), the next process's first hold of the lock deletes
    them."""
    import multiprocessing

    from fsstate.store import layout as L

    static, tmp = tmp_path / "static", tmp_path / "tmp"
    with FileState(static, tmp) as state:
        state.add_container(Container({"id": "c" * 64, "name": "web", "lockID": 1}, {"state": 1}))
    child = multiprocessing.get_context("fork").Process(
        target=_save_and_die_before_dropping_old_files, args=(str(static), str(tmp))
    )
    child.start()
    child.join(60)
    assert child.exitcode == 0
    top = static / L.STORE_DIR
    left = [p.name for p in top.iterdir() if L.is_temp_name(p.name)]
    assert len(left) == 1  # the old state.json, kept by a hard link
    assert (top / left[0]).read_bytes() == b'{\n  "state": 1\n}\n'
    with FileState(static, tmp) as state:
        ctr = state.container("c" * 64)
        state.update_container(ctr)
        assert ctr.state == {"state": 3}  # the save happened
    assert [p.name for p in top.iterdir() if L.is_temp_name(p.name)] == left
    with FileState(static, tmp) as state, state.transaction():
        pass
    assert [p.name for p in top.iterdir() if L.is_temp_name(p.name)] == []
