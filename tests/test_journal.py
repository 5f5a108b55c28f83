"""The commit protocol of journal.py and storage.py, driven directly on real files.

Each test leaves the journal in a state a crash could leave (a record written but not applied,
a torn record, a leftover of an earlier pass, a reboot) and checks what the next opener sees.
The kill -9 and power-loss suites in tests/crash/ drive the same paths with real processes.
"""

from __future__ import annotations

import logging
import os
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from fsstate import Container, FileState, check, fsck, repair
from fsstate.errors import CorruptDocumentError
from fsstate.store.journal import ZERO_CHUNK, Generation, Journal, Op
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


# -- replay never overrides a later change (docs/layout.md, "Commits, crashes and backups") --


def state_path(root: Path, n: int) -> Path:
    return root / "static" / "fsstate" / "containers" / f"{n:064x}" / "state.json"


def exited_store(root: Path) -> None:
    """Two containers, the first saved as exited (state 6): its records stay in the journal."""
    with FileState(root / "static", root / "tmp") as state:
        state.add_container(ctr(1))
        state.add_container(ctr(2))
        c = state.container(f"{1:064x}")
        c.state = {"state": 6, "exitCode": 0}
        state.save_container(c)


def hand_edit(path: Path) -> bytes:
    """Set ``"state"`` to 3 the way an editor would (the rest of the file unchanged)."""
    data = path.read_bytes().replace(b'"state": 6', b'"state": 3')
    assert b'"state": 3' in data
    path.write_bytes(data)
    return data


def reboot(store: Path) -> None:
    """What a reboot does to the generation file's view: another incarnation."""
    gen_path = store / "generation"
    gen = Generation.decode(gen_path.read_bytes())
    gen_path.write_bytes(replace(gen, incarnation="another-boot").encode())


def state_of(root: Path, n: int) -> dict[str, Any]:
    with FileState(root / "static", root / "tmp") as state:
        c = state.container(f"{n:064x}")
        state.update_container(c)
        return dict(c.state)


@pytest.mark.parametrize("copy", ["cp", "rsync"])
def test_hand_edit_survives_a_copy(
    tmp_path: Path, copy: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Edit state.json, copy the store (a new incarnation: full replay), open the copy: the
    edit stays, and a warning names the file."""
    exited_store(tmp_path)
    edited = hand_edit(state_path(tmp_path, 1))
    dest = tmp_path / "copy"
    dest.mkdir()
    if copy == "cp":
        subprocess.run(["cp", "-a", str(tmp_path / "static"), str(dest)], check=True)
    else:
        subprocess.run(["rsync", "-a", f"{tmp_path / 'static'}/", str(dest / "static")], check=True)
    caplog.set_level(logging.WARNING, logger="fsstate")
    assert state_of(dest, 1) == {"state": 3, "exitCode": 0}
    assert state_path(dest, 1).read_bytes() == edited
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == [f"{state_path(dest, 1)}: kept as it is: " + _KEPT]
    assert state_of(dest, 2) == {"state": 1}


def test_hand_edit_survives_a_reboot_in_place(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    exited_store(tmp_path)
    edited = hand_edit(state_path(tmp_path, 1))
    reboot(tmp_path / "static" / "fsstate")
    caplog.set_level(logging.WARNING, logger="fsstate")
    assert state_of(tmp_path, 1) == {"state": 3, "exitCode": 0}
    assert state_path(tmp_path, 1).read_bytes() == edited
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == [f"{state_path(tmp_path, 1)}: kept as it is: " + _KEPT]


_KEPT = "changed after the journal record that wrote it (a hand edit?)"


@pytest.mark.parametrize("damage", [b"", b"\x00" * 40, b'{\n  "state": 6,\n  "exi'])
def test_put_over_a_damaged_file_is_reapplied(tmp_path: Path, damage: bytes) -> None:
    """Empty, NUL-filled or cut-short JSON is what a power loss leaves: the record wins."""
    exited_store(tmp_path)
    state_path(tmp_path, 1).write_bytes(damage)
    reboot(tmp_path / "static" / "fsstate")
    assert state_of(tmp_path, 1) == {"state": 6, "exitCode": 0}


def test_file_holding_its_prior_or_a_later_records_content_is_brought_forward(
    tmp_path: Path,
) -> None:
    """A file that still holds what it had before a record (its write was lost), or an older
    value of the same chain, is brought to the last record's value without a warning."""
    exited_store(tmp_path)
    store = tmp_path / "static" / "fsstate"
    with FileState(tmp_path / "static", tmp_path / "tmp") as state:
        c = state.container(f"{1:064x}")
        before = state_path(tmp_path, 1).read_bytes()
        c.state = {"state": 6, "exitCode": 1}
        state.save_container(c)
    state_path(tmp_path, 1).write_bytes(before)  # the last write lost
    reboot(store)
    assert state_of(tmp_path, 1) == {"state": 6, "exitCode": 1}


def test_delete_of_a_file_recreated_by_hand_is_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two containers removed. One's state.json written back by hand with new contents: the
    journal's delete keeps it. The other's written back as it was before (a delete lost in a
    power loss): the delete is applied again."""
    with FileState(tmp_path / "static", tmp_path / "tmp") as state:
        state.add_container(ctr(1))
        state.add_container(ctr(2))
        old = state_path(tmp_path, 2).read_bytes()
        state.remove_container(state.container(f"{1:064x}"))
        state.remove_container(state.container(f"{2:064x}"))
    made, lost = state_path(tmp_path, 1), state_path(tmp_path, 2)
    for path, data in ((made, b'{"state": 2}\n'), (lost, old)):
        path.parent.mkdir()
        path.write_bytes(data)
    reboot(tmp_path / "static" / "fsstate")
    caplog.set_level(logging.WARNING, logger="fsstate")
    with FileState(tmp_path / "static", tmp_path / "tmp") as state:
        assert state.all_containers() == []
    assert made.read_bytes() == b'{"state": 2}\n'
    assert not lost.parent.exists()
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == [f"{made}: kept as it is: " + _KEPT]


# -- journal damage never resurrects ----------------------------------------------------------


def damaged_middle_record(root: Path) -> Path:
    """Containers 1-3 added, 2 removed; then a bit flipped in the record adding 3 (the record
    removing 2 still intact) and a reboot: the old replay stopped at the damage and brought 2
    back by re-applying its add."""
    with FileState(root / "static", root / "tmp") as state:
        for n in (1, 2, 3):
            state.add_container(ctr(n))
        state.remove_container(state.container(f"{2:064x}"))
        storage = state._storage
        assert isinstance(storage, FileStorage)
        records = list(storage.journal.records(0, None))
    assert [r.number for r in records] == [1, 2, 3, 4]
    store = root / "static" / "fsstate"
    journal = store / "journal"
    data = bytearray(journal.read_bytes())
    data[records[2].end - 10] ^= 0x01  # inside the payload of record 3
    journal.write_bytes(bytes(data))
    reboot(store)
    return journal


def test_damaged_middle_record_stops_the_store(tmp_path: Path) -> None:
    journal = damaged_middle_record(tmp_path)
    with pytest.raises(CorruptDocumentError) as err:
        FileState(tmp_path / "static", tmp_path / "tmp")
    assert err.value.path == str(journal)
    assert "run fsstate fsck" in str(err.value)
    assert not (tmp_path / "static" / "fsstate" / "containers" / f"{2:064x}").exists()


def test_fsck_reports_a_damaged_journal_and_repair_keeps_the_documents(tmp_path: Path) -> None:
    """fsck names the damage; --repair empties the journal and the documents stand: 2 stays
    removed, 1 and 3 are there, and the store takes commits again (also after a reboot)."""
    damaged_middle_record(tmp_path)
    report = check(tmp_path / "static")
    assert [(f.code, f.path, f.repairable) for f in report.findings] == [
        (fsck.Code.DAMAGED_JOURNAL, "journal", True)
    ]
    assert "run fsstate fsck" in report.findings[0].message
    repaired = repair(report)
    assert [(f.code, f.action.split(",")[0]) for f in repaired.findings] == [
        (fsck.Code.DAMAGED_JOURNAL, "emptied")
    ]
    assert check(tmp_path / "static").clean
    assert names(tmp_path) == ["c1", "c3"]
    with FileState(tmp_path / "static", tmp_path / "tmp") as state:
        state.add_container(ctr(4))
    reboot(tmp_path / "static" / "fsstate")
    assert names(tmp_path) == ["c1", "c3", "c4"]


def test_torn_last_record_is_not_damage(tmp_path: Path) -> None:
    """A record cut short at the end of the log (a writer died writing it) is no damage:
    nothing intact follows it. The store opens after a reboot, without it."""
    with FileState(tmp_path / "static", tmp_path / "tmp") as state:
        state.add_container(ctr(1))
        storage = state._storage
        assert isinstance(storage, FileStorage)
        gen = storage.journal.read_generation()
        record = Journal.encode(gen.number + 1, plan_add(state, ctr(2)))
        os.pwrite(storage.journal.fd, record[: len(record) - 3], gen.applied)
    reboot(tmp_path / "static" / "fsstate")
    assert names(tmp_path) == ["c1"]


# -- the journal returns to its steady size ---------------------------------------------------


def test_a_record_larger_than_the_checkpoint_is_checkpointed_and_the_journal_cut_back(
    tmp_path: Path,
) -> None:
    """One transaction far larger than the checkpoint size: afterwards the journal is one
    zero-filled chunk again, and its contents are in the documents (a reboot replays none)."""
    storage = FileStorage(str(tmp_path / "static"), checkpoint_bytes=64 << 10)
    state = FileState(tmp_path / "static", tmp_path / "tmp", storage=storage)
    with state.transaction():
        for n in range(700):  # a record of ≈380 KB
            state.add_container(ctr(n))
    journal = tmp_path / "static" / "fsstate" / "journal"
    assert journal.stat().st_size == ZERO_CHUNK
    gen = storage.journal.read_generation()
    assert gen.applied == 0
    state.add_container(ctr(700))
    assert journal.stat().st_size == ZERO_CHUNK
    state.close()
    reboot(tmp_path / "static" / "fsstate")
    assert len(names(tmp_path)) == 701
