"""The commit protocol of journal.py and storage.py, driven directly on real files.

Each test leaves the journal in a state a crash could leave (a record written but not applied,
a torn record, a leftover of an earlier pass, a reboot) and checks what the next opener sees.
The kill -9 and power-loss suites in tests/crash/ drive the same paths with real processes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fsstate import Container, FileState
from fsstate.store.journal import Generation, Journal, Op
from fsstate.store.storage import FileStorage


def ctr(n: int) -> Container:
    return Container({"id": f"{n:064x}", "name": f"c{n}", "lockID": n}, {"state": 1})


def names(root: Path) -> list[str]:
    with FileState(root / "static", root / "tmp") as state:
        return [c.name for c in state.all_containers()]


def plan_add(state: FileState, c: Container) -> list[Op]:
    """The operations ``add_container(c)`` would commit, without committing them."""
    captured: list[Op] = []
    storage = state._storage
    real_commit = storage.commit
    storage.commit = captured.extend  # type: ignore[method-assign,assignment]
    try:
        state.add_container(c)
    finally:
        storage.commit = real_commit  # type: ignore[method-assign]
    return captured


def test_record_written_but_not_applied_is_replayed(tmp_path: Path) -> None:
    """A writer that died after its commit point: the next opener applies the record."""
    with FileState(tmp_path / "static", tmp_path / "tmp") as state:
        state.add_container(ctr(1))
        ops = plan_add(state, ctr(2))
        storage = state._storage
        assert isinstance(storage, FileStorage)
        gen = storage.journal.read_generation()
        storage.journal.write(gen.applied, Journal.encode(gen.number + 1, ops))
    assert names(tmp_path) == ["c1", "c2"]


def test_torn_record_is_dropped(tmp_path: Path) -> None:
    """A record cut short was never acknowledged: the store stays as it was, and works."""
    with FileState(tmp_path / "static", tmp_path / "tmp") as state:
        state.add_container(ctr(1))
        storage = state._storage
        assert isinstance(storage, FileStorage)
        gen = storage.journal.read_generation()
        record = Journal.encode(gen.number + 1, plan_add(state, ctr(2)))
        os.pwrite(storage.journal.fd, record[: len(record) // 2], gen.applied)
    assert names(tmp_path) == ["c1"]
    with FileState(tmp_path / "static", tmp_path / "tmp") as state:
        state.add_container(ctr(3))
    assert names(tmp_path) == ["c1", "c3"]


def test_reboot_replays_everything_since_the_checkpoint(tmp_path: Path) -> None:
    """After a reboot the page cache may have lost applied files: all records are replayed."""
    with FileState(tmp_path / "static", tmp_path / "tmp") as state:
        for n in range(5):
            state.add_container(ctr(n))
    store = tmp_path / "static" / "fsstate"
    # What a power loss can do to files written without fsync: lose them.
    for n in (1, 3):
        os.unlink(store / "containers" / f"{n:064x}" / "state.json")
    (store / "index" / "names" / "c4").unlink()
    gen_path = store / "generation"
    gen = Generation.decode(gen_path.read_bytes())
    gen_path.write_bytes(Generation(gen.number, gen.applied, "another-boot").encode())
    with FileState(tmp_path / "static", tmp_path / "tmp") as state:
        assert [c.name for c in state.all_containers()] == [f"c{n}" for n in range(5)]
        assert state.lookup_container("c4").id == f"{4:064x}"
        for c in state.all_containers():
            state.update_container(c)
            assert c.state == {"state": 1}


def test_checkpoint_wraps_and_leftover_records_are_not_replayed(tmp_path: Path) -> None:
    """Records of an earlier pass over the journal stay in the file but end the log."""
    storage = FileStorage(str(tmp_path / "static"), checkpoint_bytes=2048)
    state = FileState(tmp_path / "static", tmp_path / "tmp", storage=storage)
    for n in range(40):
        state.add_container(ctr(n))
    for n in range(0, 40, 2):
        state.remove_container(state.container(f"{n:064x}"))
    assert storage.journal.read_generation().applied < 2048 + 1024
    state.close()
    gen_path = tmp_path / "static" / "fsstate" / "generation"
    gen = Generation.decode(gen_path.read_bytes())
    gen_path.write_bytes(Generation(gen.number, gen.applied, "another-boot").encode())
    assert sorted(names(tmp_path)) == sorted(f"c{n}" for n in range(1, 40, 2))


def test_crash_inside_checkpoint_loses_nothing(tmp_path: Path) -> None:
    """Generation already says offset 0 but the journal was not reset: both open fine."""
    storage = FileStorage(str(tmp_path / "static"), checkpoint_bytes=1 << 20)
    state = FileState(tmp_path / "static", tmp_path / "tmp", storage=storage)
    for n in range(3):
        state.add_container(ctr(n))
    with storage.locked():
        gen = storage.journal.read_generation()
        storage.journal.write_generation(Generation(gen.number, 0, gen.incarnation))
    state.close()
    with FileState(tmp_path / "static", tmp_path / "tmp") as again:
        again.add_container(ctr(3))  # written at offset 0, over the old first record
    gen = Generation.decode((tmp_path / "static" / "fsstate" / "generation").read_bytes())
    (tmp_path / "static" / "fsstate" / "generation").write_bytes(
        Generation(gen.number, gen.applied, "another-boot").encode()
    )
    assert names(tmp_path) == ["c0", "c1", "c2", "c3"]


def test_commit_does_not_grow_the_journal_file(tmp_path: Path) -> None:
    """The journal is zero-filled ahead, so steady-state commits keep its size (one cheap
    fdatasync each)."""
    with FileState(tmp_path / "static", tmp_path / "tmp") as state:
        state.add_container(ctr(0))
        journal = tmp_path / "static" / "fsstate" / "journal"
        size = journal.stat().st_size
        for n in range(1, 20):
            state.add_container(ctr(n))
        assert journal.stat().st_size == size


@pytest.mark.parametrize("bad", ["../escape", "a/../../x", "/abs"])
def test_journal_path_outside_the_store_is_refused(tmp_path: Path, bad: str) -> None:
    """A journal from a damaged or hostile tree cannot name a file outside the store."""
    with FileState(tmp_path / "static", tmp_path / "tmp") as state:
        storage = state._storage
        assert isinstance(storage, FileStorage)
        gen = storage.journal.read_generation()
        record = Journal.encode(gen.number + 1, [("put", bad, b"{}\n")])
        storage.journal.write(gen.applied, record)
    with FileState(tmp_path / "static", tmp_path / "tmp") as state:
        assert state.all_containers() == []
    assert not (tmp_path / "escape").exists()
    assert not (tmp_path / "static" / "x").exists()


def test_leftover_record_of_an_earlier_pass_ends_the_log(tmp_path: Path) -> None:
    """Equal-sized records line up with those of the earlier pass; their older numbers stop
    replay, so a reboot does not bring back an older state."""
    storage = FileStorage(str(tmp_path / "static"), checkpoint_bytes=4096)
    state = FileState(tmp_path / "static", tmp_path / "tmp", storage=storage)
    state.add_container(ctr(1))
    c = state.container(f"{1:064x}")
    for n in range(100, 160):  # same-sized saves: the journal wraps several times
        c.state = {"state": 1, "restartCount": n}
        state.save_container(c)
    state.close()
    gen_path = tmp_path / "static" / "fsstate" / "generation"
    gen = Generation.decode(gen_path.read_bytes())
    gen_path.write_bytes(Generation(gen.number, gen.applied, "another-boot").encode())
    with FileState(tmp_path / "static", tmp_path / "tmp") as again:
        c = again.container(f"{1:064x}")
        again.update_container(c)
        assert c.state == {"state": 1, "restartCount": 159}


def test_checkpoint_makes_the_journal_empty(tmp_path: Path) -> None:
    """After a checkpoint the generation points at offset 0 and the journal holds no record,
    so a reboot right after it replays nothing."""
    storage = FileStorage(str(tmp_path / "static"))
    state = FileState(tmp_path / "static", tmp_path / "tmp", storage=storage)
    for n in range(3):
        state.add_container(ctr(n))
    with storage.locked():
        storage.checkpoint()
    gen = storage.journal.read_generation()
    assert (gen.applied, gen.number) == (0, 3)
    assert list(storage.journal.records(0, None)) == []
    state.close()
