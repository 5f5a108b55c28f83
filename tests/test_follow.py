"""A warm lock-free reader follows other processes' records (``FileStorage._follow``): it keeps
its cache across their commits, and never follows a change the records do not describe."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
from test_scaling import CountingTree

from fsstate import Container, FileState
from fsstate.store import layout as L
from fsstate.store.fsio import Tree
from fsstate.store.storage import FileStorage

ctx = multiprocessing.get_context("fork")


def cid(n: int) -> str:
    return f"{n:064x}"


def _in_child(fn: Callable[..., None], *args: Any) -> int | None:
    """Run ``fn(*args)`` in a forked process; its exit code."""
    child = ctx.Process(target=fn, args=args)
    child.start()
    child.join(60)
    return child.exitcode


def _save_and_add(static: str, tmp: str) -> None:
    with FileState(static, tmp) as state:
        ctr = state.container(cid(2))
        ctr.state = {"state": 3, "pid": 42}
        state.save_container(ctr)
        state.add_container(Container({"id": cid(4), "name": "c4", "lockID": 4}, {"state": 1}))


def state_of(state: FileState, n: int) -> dict[str, Any]:
    ctr = state.container(cid(n))
    state.update_container(ctr)
    return ctr.state


@pytest.fixture
def store(tmp_path: Path) -> tuple[str, str]:
    static, tmp = str(tmp_path / "static"), str(tmp_path / "tmp")
    with FileState(static, tmp) as state:
        for n in range(1, 4):
            state.add_container(Container({"id": cid(n), "name": f"c{n}", "lockID": n}, {}))
    return static, tmp


def test_a_warm_reader_follows_another_process_commits_and_reads_no_file(
    store: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("fsstate.store.storage.Tree", CountingTree)
    with FileState(*store) as state:
        for n in range(1, 4):
            state.update_container(state.lookup_container(f"c{n}"))
        assert _in_child(_save_and_add, *store) == 0
        CountingTree.counts.clear()
        c1, c2 = (state.lookup_container(f"c{n}") for n in (1, 2))
        c4 = state.container(cid(4))
        state.update_container(c2)
        assert +CountingTree.counts == {}  # all from the records and what was cached
        assert (c1.id, c2.id, c4.id) == (cid(1), cid(2), cid(4))
        assert c2.state == {"state": 3, "pid": 42}
        assert state.has_container(cid(4)) and not state.has_container(cid(5))
        assert state.lookup_container("c4").id == cid(4)
        assert CountingTree.counts == {"exists": 3}  # cid(5); "c4" tried as a container, pod ID
    with FileState(*store) as fresh:  # and what it followed is what the files hold
        assert state_of(fresh, 2) == {"state": 3, "pid": 42}
        assert sorted(c.id for c in fresh.all_containers()) == [cid(n) for n in range(1, 5)]


def _change_outside_a_commit(static: str, state_path: str, data: bytes) -> None:
    """What ``fsck --repair`` does: change the tree under the lock, readers excluded, then
    commit the record that changes no file."""
    storage = FileStorage(static, create=False)
    with storage.locked(), storage.excluding_readers() as changed:
        storage.tree.put(state_path, data)
        changed()
    storage.close()


def test_a_change_made_outside_commits_is_read_from_the_file(store: tuple[str, str]) -> None:
    rel = L.container_doc(cid(1), "state")
    with FileState(*store) as state:
        assert state_of(state, 1) == {}
        code = _in_child(_change_outside_a_commit, store[0], rel, b'{\n  "state": 4\n}\n')
        assert code == 0
        assert state_of(state, 1) == {"state": 4}


def _die_after_the_commit_point(static: str, tmp: str, n: int = 1) -> None:
    """Save container ``n``'s state and die installing it: the line stays ``installing``."""
    from fsstate.store.fsio import staged

    staged.Staged.install = lambda self: os._exit(0)  # type: ignore[method-assign]
    with FileState(static, tmp) as state:
        ctr = state.container(cid(n))
        ctr.state = {"state": 3}
        state.save_container(ctr)
    os._exit(1)  # not reached: the commit ends by dying


def _recover(static: str, tmp: str) -> None:
    with FileState(static, tmp) as state:
        state.container(cid(3))  # the line says installing: this read recovers


def test_a_replay_that_kept_a_hand_edit_is_read_from_the_file(store: tuple[str, str]) -> None:
    path = Path(store[0], L.STORE_DIR, L.container_doc(cid(1), "state"))
    with FileState(*store) as state:
        assert state_of(state, 1) == {}
        assert _in_child(_die_after_the_commit_point, *store) == 0
        path.write_bytes(b'{\n  "state": 5\n}\n')  # by hand, after the record
        assert _in_child(_recover, *store) == 0  # replays the record, keeps the edit
        assert state_of(state, 1) == {"state": 5}
    assert path.read_bytes() == b'{\n  "state": 5\n}\n'


class CommitAfterRead(Tree):
    """A real Tree that runs ``hook`` (once) right after it read ``path``: a commit by another
    process landing in the middle of a lock-free read."""

    path: ClassVar[str] = ""
    hook: ClassVar[Callable[[], object] | None] = None

    def read(self, rel: str) -> bytes | None:
        data = super().read(rel)
        hook = type(self).hook
        if rel == type(self).path and hook is not None:
            type(self).hook = None
            hook()
        return data


def _save_state(static: str, tmp: str, n: int, state: dict[str, Any]) -> None:
    with FileState(static, tmp) as fs:
        ctr = fs.container(cid(n))
        ctr.state = state
        fs.save_container(ctr)


@pytest.fixture
def attempts(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The lock-free attempts made (False: the read took the lock), with the Tree of
    :class:`CommitAfterRead`."""
    monkeypatch.setattr("fsstate.store.storage.Tree", CommitAfterRead)
    made: list[bool] = []
    attempt = FileStorage.attempt

    def counted(self: FileStorage) -> Any:
        got = attempt(self)
        made.append(got is not None)
        return got

    monkeypatch.setattr(FileStorage, "attempt", counted)
    return made


def _read_state_while(state: FileState, attempts: list[bool], hook: Callable[[], object]) -> Any:
    """Container 1, its state read by ``update_container`` with ``hook`` run right after the
    state file was read; the attempts are those of that call alone."""
    ctr = state.container(cid(1))
    CommitAfterRead.path = L.container_doc(cid(1), "state")
    CommitAfterRead.hook = hook
    attempts.clear()
    state.update_container(ctr)
    assert CommitAfterRead.hook is None  # it ran
    return ctr.state


@pytest.mark.parametrize(
    ("saved", "made", "seen"), [(2, [True], {}), (1, [True, True], {"state": 3})]
)
def test_a_commit_during_a_read_sends_it_again_only_when_it_changed_what_it_read(
    store: tuple[str, str],
    attempts: list[bool],
    saved: int,
    made: list[bool],
    seen: dict[str, Any],
) -> None:
    """Container 1's state is read, then another process saves container ``saved``'s: the
    read stands at the new generation when that is another container's (one attempt), and
    runs again, seeing the new state, when it is the one it read (never the lock)."""
    with FileState(*store) as state:
        hook = lambda: _in_child(_save_state, *store, saved, {"state": 3})  # noqa: E731
        assert _read_state_while(state, attempts, hook) == seen
        assert attempts == made


@pytest.mark.parametrize(
    ("saved", "seen", "made"), [(2, {}, [True]), (1, {"state": 3}, [True, False])]
)
def test_a_read_during_an_install_stands_when_the_record_leaves_what_it_read(
    store: tuple[str, str],
    attempts: list[bool],
    saved: int,
    seen: dict[str, Any],
    made: list[bool],
) -> None:
    """Container 1's state is read, then another process commits a save of container
    ``saved`` and dies installing it, so the line says ``installing``: the read stands when
    the record is another container's; else it goes to the lock, which replays the record."""
    with FileState(*store) as state:
        hook = lambda: _in_child(_die_after_the_commit_point, *store, saved)  # noqa: E731
        assert _read_state_while(state, attempts, hook) == seen
        assert attempts == made  # False: the lock
        other = state.container(cid(saved))
        state.update_container(other)  # recovers, when the read above did not
        assert other.state == {"state": 3}
