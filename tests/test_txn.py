"""Tests for fsstate.store.txn: pending changes of one commit over a real FileStorage.

Reads, existence checks and listings see the pending puts and deletes; nothing reaches the
files until the storage commits ``ops``; a rollback to a savepoint forgets what came after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fsstate.store.storage import FileStorage
from fsstate.store.txn import Txn


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[FileStorage]:
    """A store holding ``a/one`` = b"1" and ``a/b/two`` = b"2"."""
    st = FileStorage(str(tmp_path / "static"))
    with st.locked():
        st.commit([("put", "a/one", b"1"), ("put", "a/b/two", b"2")])
    yield st
    st.close()


def on_disk(storage: FileStorage, rel: str) -> bytes | None:
    path = Path(storage.root, rel)
    return path.read_bytes() if path.exists() else None


def test_reads_see_pending_changes_and_the_files_do_not(storage: FileStorage) -> None:
    with storage.locked():
        txn = Txn(storage)
        txn.put("a/one", b"new")
        txn.put("c/three", b"3")
        txn.delete("a/b/two")
        assert (txn.read("a/one"), txn.read("c/three"), txn.read("a/b/two")) == (b"new", b"3", None)
        assert (txn.exists("c/three"), txn.exists("a/b/two"), txn.exists("a/one")) == (
            True,
            False,
            True,
        )
        assert txn.ops == [("put", "a/one", b"new"), ("put", "c/three", b"3"), ("del", "a/b/two")]
        assert on_disk(storage, "a/one") == b"1"
        assert on_disk(storage, "c/three") is None
        assert on_disk(storage, "a/b/two") == b"2"
        storage.commit(txn.ops)
    assert on_disk(storage, "a/one") == b"new"
    assert on_disk(storage, "c/three") == b"3"
    assert on_disk(storage, "a/b/two") is None


def test_listdir_merges_pending_changes(storage: FileStorage) -> None:
    with storage.locked():
        txn = Txn(storage)
        txn.put("a/new", b"x")
        txn.put("a/d/e/deep", b"y")  # a new directory shows as its first component
        txn.delete("a/one")
        txn.delete("a/b/two")  # a deeper delete does not remove the directory's name
        txn.put("a/gone", b"z")
        txn.delete("a/gone")  # put then deleted: not listed
        assert txn.listdir("a") == ["b", "d", "new"]
        assert txn.listdir("a/d") == ["e"]
        assert txn.listdir("a/b") == []
        assert txn.listdir("nowhere") == []
        assert storage.listdir("a") == ["b", "one"]


def test_rollback_forgets_everything_after_the_savepoint(storage: FileStorage) -> None:
    hooks: list[str] = []
    with storage.locked():
        txn = Txn(storage)
        txn.put("a/one", b"before")
        txn.on_commit.append(lambda: hooks.append("kept"))
        mark = txn.mark()
        assert mark == (1, 1, 1, 0)
        txn.put("a/one", b"after")
        txn.put("a/x/new", b"n")
        txn.delete("a/b/two")
        txn.rmdir("a/b")
        txn.trash("a")
        assert txn.read("a/one") is None and txn.listdir("a") == []
        txn.on_commit.append(lambda: hooks.append("dropped"))
        txn.rollback(mark)
        assert txn.ops == [("put", "a/one", b"before")]
        assert txn.read("a/one") == b"before"
        assert txn.read("a/x/new") is None
        assert txn.read("a/b/two") == b"2"
        assert txn.listdir("a") == ["b", "one"]
        assert txn.mark() == mark
        for hook in txn.on_commit:
            hook()
    assert hooks == ["kept"]


def test_rollback_to_the_start_leaves_nothing(storage: FileStorage) -> None:
    with storage.locked():
        txn = Txn(storage)
        start = txn.mark()
        txn.put("a/x/y", b"1")
        txn.delete("a/one")
        txn.rollback(start)
        assert (txn.ops, txn.on_commit) == ([], [])
        assert txn.listdir("a") == ["b", "one"]
        assert txn.read("a/one") == b"1"
        txn.put("a/x/z", b"2")  # the transaction goes on after a rollback
        assert txn.listdir("a/x") == ["z"]


def test_rmdir_is_recorded_after_the_deletes_and_applied_at_commit(storage: FileStorage) -> None:
    with storage.locked():
        txn = Txn(storage)
        txn.delete("a/b/two")
        txn.rmdir("a/b")
        assert txn.ops == [("del", "a/b/two"), ("rmdir", "a/b")]
        assert Path(storage.root, "a", "b").is_dir()
        storage.commit(txn.ops)
    assert not Path(storage.root, "a", "b").exists()
    assert on_disk(storage, "a/one") == b"1"
