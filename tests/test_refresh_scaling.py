"""``refresh()`` does work linear in the store: counted in file operations and in the pending
changes each directory listing looks at, not timed (benchmarks/refresh.py times it).

Before, every listing inside the refresh transaction scanned every pending change, so a refresh
of 16,000 containers took 24 s; here the same count grows with the store, not with its square.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import pytest

from fsstate import Container, ExecSession, FileState
from fsstate.store.fsio import Staged, Tree
from fsstate.store.journal import Op
from fsstate.store.txn import Txn


class CountingTree(Tree):
    counts: ClassVar[Counter[str]] = Counter()

    def read(self, rel: str) -> bytes | None:
        self.counts["read"] += 1
        return super().read(rel)

    def listdir(self, rel: str) -> list[str]:
        names = super().listdir(rel)
        self.counts["listdir"] += 1
        self.counts["listed"] += len(names)
        return names

    def stage(self, ops: Sequence[Op], keep_in: str | None = None) -> Staged:
        """A commit's puts, deletes and moves, counted as it stages them (it applies them
        all)."""
        for op in ops:
            if op[0] in ("put", "del", "move"):
                self.counts[{"put": "put", "del": "delete", "move": "move"}[op[0]]] += 1
        return super().stage(ops, keep_in)


class CountingTxn(Txn):
    """A real Txn that also counts the pending changes each listing has to look at."""

    def listdir(self, path: str) -> list[str]:
        CountingTree.counts["pending looked at"] += len(self._below.get(path, ()))
        return super().listdir(path)


def refresh_work(root: Path, count: int, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    with FileState(root / "static", root / "tmp") as state, state.transaction():
        for n in range(count):
            c = Container({"id": f"{n:064x}", "name": f"c{n}", "lockID": n}, {"state": 3})
            state.add_container(c)
            state.add_exec_session(c, ExecSession(f"{n:060x}e{n % 7:03x}", c.id))
    monkeypatch.setattr("fsstate.store.storage.Tree", CountingTree)
    monkeypatch.setattr("fsstate.state.base.Txn", CountingTxn)
    with FileState(root / "static", root / "tmp") as state:
        CountingTree.counts = Counter()
        state.refresh()
        one = state.container(f"{1:064x}")
        state.update_container(one)
        assert state.get_container_exec_sessions(one) == []
        assert one.state["state"] == 6  # running → exited (define.ContainerStateExited)
        return CountingTree.counts


def test_refresh_work_grows_linearly_with_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight times the containers (each with a running state and an exec session) costs
    at most eight times the file operations and pending changes looked at; the old
    scan of every pending change per listing made the latter grow 64-fold."""
    small = refresh_work(tmp_path / "small", 40, monkeypatch)
    large = refresh_work(tmp_path / "large", 320, monkeypatch)
    assert small["put"] >= 40  # the refresh did its work: a state per container …
    # … and its exec sessions went in two directory moves, however many there were
    assert small["move"] == large["move"] == 2
    assert small["delete"] == large["delete"] == 0
    for what, done in large.items():
        assert done <= 8 * small[what], (what, small[what], done)
