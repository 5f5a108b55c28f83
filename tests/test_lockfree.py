"""Lock-free reads (``storage.py``, "Lock-free reads"; issue 9.2): real processes, real files.

A read-only call runs without the store lock while the generation line holds still, and under
the lock otherwise. Proven here without instrumenting the code: a read that returns while
another process holds the lock did not take it; one that times out on the lock took it. The
answers are checked against what writer processes had acknowledged (or not yet started) around
each read, so a torn view — a container without its name entry, a removed one after its
removal was acknowledged — fails the test.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from multiprocessing.sharedctypes import SynchronizedArray
from pathlib import Path
from typing import Any

import pytest

from fsstate import Container, FileState
from fsstate.errors import LockTimeoutError, NoSuchContainerError
from fsstate.store.journal import Generation
from fsstate.store.layout import GENERATION, LOCK
from fsstate.store.lock import StoreLock
from fsstate.store.storage import FileStorage

ctx = multiprocessing.get_context("fork")
WRITERS = 4
ROUNDS = 25


def cid(writer: int, k: int) -> str:
    return hashlib.sha256(f"{writer}-{k}".encode()).hexdigest()


def cname(writer: int, k: int) -> str:
    return f"w{writer}-{k}"


def ctr(writer: int, k: int) -> Container:
    return Container({"id": cid(writer, k), "name": cname(writer, k), "lockID": k}, {"state": 1})


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, Path]:
    static, tmp = tmp_path / "static", tmp_path / "tmp"
    with FileState(static, tmp) as state:
        state.add_container(ctr(9, 0))
    return static, tmp


def _fill(static: Path, tmp: Path) -> None:
    """Bystanders, so that a listing takes long enough for commits to land in the middle."""
    with FileState(static, tmp) as state, state.transaction():
        for k in range(1, 300):
            state.add_container(ctr(9, k))


def _hold_lock(path: str, held: Any, release: Any) -> None:
    with StoreLock(path, timeout=60):
        held.set()
        release.wait(60)


@contextmanager
def lock_held_elsewhere(static: Path) -> Iterator[None]:
    """Another process holds the store lock for the block."""
    held, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_lock, args=(str(static / "fsstate" / LOCK), held, release))
    proc.start()
    try:
        assert held.wait(60)
        yield
    finally:
        release.set()
        proc.join(60)


# -- reads do not take the lock ----------------------------------------------------------------


def test_reads_answer_while_another_process_holds_the_lock(store: tuple[Path, Path]) -> None:
    """Every kind of read returns the stored answer while the lock is held elsewhere (opened
    before the lock is taken); a write waits for it, times out and writes nothing."""
    static, tmp = store
    with FileState(static, tmp, lock_timeout=0.5) as state:
        with lock_held_elsewhere(static):
            stored = state.container(cid(9, 0))
            assert stored.name == "w9-0"
            assert state.lookup_container("w9-0").id == cid(9, 0)
            assert state.lookup_container(cid(9, 0)[:12]).id == cid(9, 0)
            assert state.lookup_container_id("w9-0") == cid(9, 0)
            assert state.has_container(cid(9, 0)) is True
            assert state.has_container(cid(9, 1)) is False
            assert [c.id for c in state.all_containers()] == [cid(9, 0)]
            state.update_container(stored)
            assert stored.state == {"state": 1}
            with pytest.raises(NoSuchContainerError):
                state.lookup_container("nobody")
            stored.state = {"state": 3}
            with pytest.raises(LockTimeoutError):
                state.save_container(stored)
        probe = state.container(cid(9, 0))
        state.update_container(probe)
        assert probe.state == {"state": 1}  # the timed-out save wrote nothing


def test_a_quiet_store_opens_and_answers_while_another_process_holds_the_lock(
    store: tuple[Path, Path],
) -> None:
    """Opening a store with nothing to recover or sweep takes no lock (``FileStorage`` and
    ``FileState`` open lock-free), so a command-line lookup does not wait behind a writer."""
    static, tmp = store
    with lock_held_elsewhere(static), FileState(static, tmp, lock_timeout=0.5) as state:
        assert state.lookup_container("w9-0").id == cid(9, 0)
        assert state.semantics == "bolt"
        with pytest.raises(LockTimeoutError):
            state.add_container(ctr(9, 1))
    with FileState(static, tmp) as state:
        assert [c.id for c in state.all_containers()] == [cid(9, 0)]


def _add_then_remove(static: Path, tmp: Path, remove: bool) -> None:
    with FileState(static, tmp) as state:
        if remove:
            state.remove_container(state.container(cid(9, 1)))
        else:
            state.add_container(ctr(9, 1))


def test_a_cached_existence_answer_follows_every_commit(store: tuple[Path, Path]) -> None:
    """``has_container`` answers from the cache with one read of the generation line
    (``FileStorage.cached_exists``); a commit by another process or by this one changes the
    answer at once."""
    static, tmp = store
    with FileState(static, tmp) as state:
        for remove in (False, True):
            assert state.has_container(cid(9, 1)) is remove
            assert state.has_container(cid(9, 1)) is remove  # cached now
            assert state._storage.cached_exists(f"containers/{cid(9, 1)}/config.json") is remove
            proc = ctx.Process(target=_add_then_remove, args=(static, tmp, remove))
            proc.start()
            proc.join(60)
            assert proc.exitcode == 0
            assert state.has_container(cid(9, 1)) is not remove
        state.add_container(ctr(9, 1))
        assert state.has_container(cid(9, 1)) is True
        state.remove_container(state.container(cid(9, 1)))
        assert state.has_container(cid(9, 1)) is False
        with state.transaction():  # inside a hold: pending changes count
            state.add_container(ctr(9, 1))
            assert state.has_container(cid(9, 1)) is True
        assert state.has_container(cid(9, 1)) is True


def _save_state(static: Path, tmp: Path) -> None:
    with FileState(static, tmp) as state:
        stored = state.container(cid(9, 0))
        stored.state = {"state": 2}
        state.save_container(stored)


def test_an_attempt_that_read_the_tree_looks_at_the_line_again_even_if_it_kept_nothing(
    store: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only an attempt served wholly from the cache may skip its second look at the line: one
    that read a file from the tree and kept none of it (past the cache budget, as a listing of
    every container does) sees a commit that changed the file meanwhile."""
    monkeypatch.setattr("fsstate.store.storage.CACHE_BUDGET", 0)
    static, tmp = store
    with FileState(static, tmp) as state:
        attempt = state._storage.attempt()
        assert attempt is not None
        with attempt:
            assert attempt.read(f"containers/{cid(9, 0)}/state.json") == b'{\n  "state": 1\n}\n'
            proc = ctx.Process(target=_save_state, args=(static, tmp))
            proc.start()
            proc.join(60)
            assert proc.exitcode == 0
            assert attempt.holds() is False
        stored = state.container(cid(9, 0))
        state.update_container(stored)
        assert stored.state == {"state": 2}


def _remove_and_die_before_installing(static: Path, tmp: Path) -> None:
    """A writer killed past its commit point: its record is durable, the line still says
    ``staging``, no file has changed."""
    write_generation = FileStorage._write_generation

    def dying(self: FileStorage, gen: Generation) -> None:
        if gen.installing:
            os._exit(0)
        write_generation(self, gen)

    FileStorage._write_generation = dying  # type: ignore[method-assign]
    with FileState(static, tmp) as state:
        state.remove_container(state.container(cid(9, 0)))
    os._exit(1)  # not reached


def test_a_store_opened_after_a_writer_died_past_its_commit_point_shows_that_commit(
    store: tuple[Path, Path],
) -> None:
    """The opener replays a durable record a dead writer left under ``staging`` before its
    first read (it takes the lock for that), so the commit shows from the first read on and
    never appears to happen in the middle of what the opener reads."""
    static, tmp = store
    proc = ctx.Process(target=_remove_and_die_before_installing, args=(static, tmp))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 0
    assert (static / "fsstate" / "containers" / cid(9, 0) / "config.json").exists()
    with FileState(static, tmp) as state:
        assert state.all_containers() == []
        with pytest.raises(NoSuchContainerError):
            state.lookup_container("w9-0")
    assert not (static / "fsstate" / "containers" / cid(9, 0)).exists()


@pytest.mark.parametrize("left", ["temporary file", "trash"])
def test_what_a_killed_writer_left_waits_for_the_first_hold_of_the_lock(
    store: tuple[Path, Path], left: str
) -> None:
    """What a killed writer left at the top of the store (an old file kept under a temporary
    name, a trash directory) is no reader's business: an open and its reads do not look for
    it and take no lock (they answer while another process holds it), and the leftovers stay.
    The first call of a process that takes the lock sweeps them: then they are gone."""
    static, tmp = store
    top = static / "fsstate"
    if left == "trash":
        (top / "trash" / "1" / "x").mkdir(parents=True)
        gone = top / "trash" / "1"
    else:
        gone = top / ".fsstate-tmp-1-1"
        gone.write_bytes(b"old")
    with lock_held_elsewhere(static), FileState(static, tmp, lock_timeout=0.5) as state:
        assert state.lookup_container("w9-0").id == cid(9, 0)
        assert gone.exists()
    with FileState(static, tmp) as state:
        assert state.container(cid(9, 0)).name == "w9-0"
        assert gone.exists()
        state.add_container(ctr(9, 1))  # the first hold of the lock
        state._storage.wait_for_trash()  # type: ignore[attr-defined]
        assert not gone.exists()
    with FileState(static, tmp) as state:
        assert [c.name for c in state.all_containers()] == ["w9-0", "w9-1"]


def _hold_in_phase(static: Path, phase: str, held: Any, release: Any) -> None:
    """Hold the lock as a writer does in ``phase`` of a commit: the line says so. In phase
    "committed" the writer has also written its record (past its commit point, still
    ``staging``: it changed no file yet) and then dies, leaving both."""
    storage = FileStorage(str(static))
    with storage.locked():
        gen = storage.journal.read_generation()
        staging = phase in ("staging", "committed")
        marked = replace(gen, staging=True) if staging else replace(gen, installing=True)
        storage.journal.write_generation(marked)
        if phase == "committed":
            ops = [("put", "fsstate-lockfree-test", b"{}")]  # a file no read looks at
            record = storage.journal.encode(gen.number + 1, ops, storage._read_priors(ops))
            storage.journal.write(gen.applied, record)
        held.set()
        release.wait(60)
        if phase == "committed":
            os._exit(0)  # dies without finishing: the next lock holder replays the record
        storage.journal.write_generation(gen)
    storage.close()


@pytest.mark.parametrize("phase", ["staging", "committed", "installing"])
def test_reads_go_on_while_a_writer_stages_and_wait_while_it_installs(
    store: tuple[Path, Path], phase: str
) -> None:
    """A writer holding the lock while it stages (writing temporary files, syncing its record)
    does not hold up a reader: nothing a read sees has changed yet — nor once its record is
    written, while the line still says ``staging``. One that installs (files being renamed
    into place) does: the read waits for the lock (and times out here). A writer that died
    past its commit point under ``staging`` has its record replayed by the next lock holder."""
    static, tmp = store
    with FileState(static, tmp, lock_timeout=0.5) as state:
        held, release = ctx.Event(), ctx.Event()
        proc = ctx.Process(target=_hold_in_phase, args=(static, phase, held, release))
        proc.start()
        try:
            assert held.wait(60)
            if phase == "installing":
                with pytest.raises(LockTimeoutError):
                    state.lookup_container("w9-0")
            else:
                assert state.lookup_container("w9-0").id == cid(9, 0)
                assert state.has_container(cid(9, 0)) is True
        finally:
            release.set()
            proc.join(60)
        assert proc.exitcode == 0
        assert not (static / "fsstate" / "fsstate-lockfree-test").exists()
        state.save_container(state.container(cid(9, 0)))  # takes the lock: recovery replays
        assert state.lookup_container("w9-0").id == cid(9, 0)
    replayed = phase == "committed"
    assert (static / "fsstate" / "fsstate-lockfree-test").exists() is replayed


def test_a_read_inside_a_transaction_sees_its_pending_changes(store: tuple[Path, Path]) -> None:
    """Holding the lock (a transaction), reads go through it, pending changes included."""
    static, tmp = store
    with FileState(static, tmp) as state:
        with state.transaction():
            state.add_container(ctr(9, 1))
            assert state.has_container(cid(9, 1)) is True
            assert state.lookup_container("w9-1").id == cid(9, 1)
        assert state.has_container(cid(9, 1)) is True


# -- a garbled or torn generation line leads to the lock --------------------------------------


def _generation(static: Path) -> Path:
    return static / "fsstate" / GENERATION


@pytest.mark.parametrize("damage", ["crc", "legacy", "installing"])
def test_an_unusable_generation_line_takes_the_lock_not_a_cached_answer(
    store: tuple[Path, Path], damage: str
) -> None:
    """A reader caches a config at line L1; a writer renames the container (line L2); then the
    file is made to hold L1 with a wrong CRC, L1 without its CRC (as fsstate wrote it
    before), or L1 marked ``installing``. The reader must not answer from its cache of L1: the
    call waits for the lock (held elsewhere: it times out), and once the lock is free answers
    with the new name. (L1 marked ``staging`` is trusted, record after it or not: a writer
    changes no file before it writes ``installing`` —
    ``test_reads_go_on_while_a_writer_stages_and_wait_while_it_installs``.)"""
    static, tmp = store
    gen_file = _generation(static)
    reader = FileState(static, tmp, lock_timeout=0.5)
    assert reader.container(cid(9, 0)).name == "w9-0"
    l1 = gen_file.read_bytes()
    with FileState(static, tmp) as writer:
        writer.rewrite_container_config(
            writer.container(cid(9, 0)), {**ctr(9, 0).config, "name": "renamed"}
        )
    l2 = gen_file.read_bytes()
    assert l1 != l2 and Generation.decode(l1).checked and Generation.decode(l2).checked
    body, _, crc = l1.rstrip().rpartition(b" ~")
    bad = {
        "crc": body + b" ~" + (b"0" if crc[:1] != b"0" else b"1") + crc[1:],
        "legacy": body,
        "installing": replace(Generation.decode(l1), installing=True).encode(),
    }[damage]
    gen_file.write_bytes(bad.ljust(95) + b"\n" if len(bad) < 96 else bad)
    assert Generation.decode(gen_file.read_bytes()).checked is (damage == "installing")
    with lock_held_elsewhere(static), pytest.raises(LockTimeoutError):
        reader.container(cid(9, 0))
    assert reader.container(cid(9, 0)).name == "renamed"
    assert Generation.decode(gen_file.read_bytes()).checked  # the lock holder mended it
    assert reader.lookup_container("renamed").id == cid(9, 0)
    reader.close()


def test_a_torn_read_of_the_line_never_gives_a_cached_answer(store: tuple[Path, Path]) -> None:
    """The writer of L2 first wrote L1 marked ``staging`` (S) over L1, then L2 over S; a read
    racing that last ``pwrite`` may return any mix of S and L2 while the tree is already at
    L2. Some of those mixes would read as L1 without the CRC (S differs from L1 only after
    its fields); the reader, whose cache is of L1, must answer from the tree at L2 for every
    one of them."""
    static, tmp = store
    gen_file = _generation(static)
    with FileState(static, tmp) as reader:
        assert reader.container(cid(9, 0)).name == "w9-0"
        l1 = gen_file.read_bytes()
        with FileState(static, tmp) as writer:
            stored = writer.container(cid(9, 0))
            writer.rewrite_container_config(stored, {**stored.config, "name": "renamed"})
        l2 = gen_file.read_bytes()
        s = replace(Generation.decode(l1), staging=True).encode()
        for first, then in ((s, l2), (l2, s)):
            for cut in range(len(s)):
                mixed = first[:cut] + then[cut:]
                gen_file.write_bytes(mixed)
                assert reader.container(cid(9, 0)).name == "renamed", mixed
                assert reader.lookup_container_id("renamed") == cid(9, 0), mixed


def test_every_mix_of_two_generation_lines_fails_its_check() -> None:
    """A ``pread`` racing a ``pwrite`` can return any prefix of one line before the rest of
    the other: none of those mixes passes as a generation."""
    old = Generation(41, 4096, "0123456789abcdef").encode()
    new = Generation(42, 8192, "0123456789abcdef").encode()
    staging = Generation(41, 4096, "0123456789abcdef", staging=True).encode()
    assert Generation.decode(old) == Generation(41, 4096, "0123456789abcdef", checked=True)
    for a, b in ((old, new), (new, old), (old, staging), (staging, new)):
        for cut in range(1, len(a)):
            mixed = a[:cut] + b[cut:]
            if mixed not in (a, b):
                assert Generation.decode(mixed).checked is False, (cut, mixed)


# -- objects handed out are the caller's own --------------------------------------------------


def test_objects_read_twice_are_independent(store: tuple[Path, Path]) -> None:
    """Two reads of one container (cached bytes behind both) give objects that share nothing:
    changing one changes neither the other nor the store."""
    static, tmp = store
    with FileState(static, tmp) as state:
        state.add_container(
            Container(
                {**ctr(9, 1).config, "labels": {"a": "1"}, "namedVolumes": []},
                {"state": 1, "extra": {"k": [1]}},
            )
        )
        one, two = state.container(cid(9, 1)), state.lookup_container("w9-1")
        one.config["labels"]["a"] = "changed"
        one.config["name"] = "other"
        assert two.config["labels"] == {"a": "1"} and two.name == "w9-1"
        listed = next(c for c in state.all_containers(load_state=True) if c.id == cid(9, 1))
        listed.state["extra"]["k"].append(2)
        state.update_container(two)
        assert two.state == {"state": 1, "extra": {"k": [1]}}
        three = state.container(cid(9, 1))
        assert three.config["labels"] == {"a": "1"} and three.name == "w9-1"
    with FileState(static, tmp) as fresh:
        again = fresh.container(cid(9, 1))
        assert again.config["labels"] == {"a": "1"} and again.name == "w9-1"


# -- a lock-free reader beside 4 writer processes ----------------------------------------------


def _writer(static: Path, tmp: Path, me: int, marks: SynchronizedArray[int]) -> None:
    """Add a pair of containers (k, k + ROUNDS) in one commit, save one, remove the pair in one
    commit, and again; ``marks`` holds, per writer, the last k acknowledged added, the last
    whose removal started, and the last acknowledged removed."""
    with FileState(static, tmp) as state:
        for k in range(ROUNDS):
            pair = [ctr(me, k), ctr(me, k + ROUNDS)]
            with state.transaction():
                for c in pair:
                    state.add_container(c)
            marks[3 * me] = k
            pair[0].state = {"state": 3}
            state.save_container(pair[0])
            marks[3 * me + 1] = k
            with state.transaction():
                for c in pair:
                    state.remove_container(c)
            marks[3 * me + 2] = k


def _check_round(state: FileState, marks: SynchronizedArray[int]) -> int:
    """One round of reads against the writers' marks; returns how many reads it made."""
    reads = 0
    for w in range(WRITERS):
        added, removed = marks[3 * w], marks[3 * w + 2]
        if removed >= 0:  # acknowledged removed before these reads began: gone
            assert state.has_container(cid(w, removed)) is False
            with pytest.raises(NoSuchContainerError):
                state.lookup_container(cname(w, removed))
            with pytest.raises(NoSuchContainerError):
                state.container(cid(w, removed))
            reads += 3
        if added > removed:  # acknowledged added; it stays until its removal starts
            try:
                found = state.lookup_container(cname(w, added))
            except NoSuchContainerError as exc:
                # Absent as a whole (not a name entry without its config)...
                assert exc.fields.get("id") == cname(w, added), exc
                assert marks[3 * w + 1] >= added  # ...and only once its removal started
            else:
                assert (found.id, found.name) == (cid(w, added), cname(w, added))
            if not state.has_container(cid(w, added)):
                assert marks[3 * w + 1] >= added
            reads += 2
    before = marks[:]
    listed = state.all_containers()
    after = marks[:]
    reads += 1
    per_writer: dict[int, set[int]] = {}
    for c in listed:
        if c.name.startswith("w") and not c.name.startswith("w9-"):
            w, k = map(int, c.name[1:].split("-"))
            assert c.id == cid(w, k)
            per_writer.setdefault(w, set()).add(k % ROUNDS)
            assert k % ROUNDS > before[3 * w + 2]  # not one acknowledged removed before
    for w in range(WRITERS):
        # A pair is added and removed in one commit: both or neither, one pair at a time.
        seen = per_writer.get(w, set())
        ks = {k for c in listed if c.name.startswith(f"w{w}-") for k in [int(c.name[3:])]}
        assert len(seen) <= 1 and ks == {k + d for k in seen for d in (0, ROUNDS)}, ks
        a = before[3 * w]
        if a > before[3 * w + 2] and after[3 * w + 1] < a:  # added and not being removed
            assert seen == {a}
    return reads


@pytest.mark.slow
@pytest.mark.parametrize("budget", ["cache", "no cache"])
def test_a_lock_free_reader_sees_only_committed_states(
    store: tuple[Path, Path], budget: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """4 writer processes add, save and remove while this process reads without the lock:
    every answer is one the writers' acknowledgements allow at the time of the read. With no
    cache budget, every file is read from the tree and none is kept for the cache (as in a
    listing larger than the cache): each read must still check the line a second time."""
    if budget == "no cache":
        monkeypatch.setattr("fsstate.store.storage.CACHE_BUDGET", 0)
    static, tmp = store
    _fill(static, tmp)
    marks: SynchronizedArray[int] = ctx.Array("q", [-1] * (3 * WRITERS), lock=False)
    procs = [ctx.Process(target=_writer, args=(static, tmp, w, marks)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    reads = 0
    with FileState(static, tmp) as state:
        while any(p.is_alive() for p in procs):
            reads += _check_round(state, marks)
        reads += _check_round(state, marks)
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert marks[:] == [ROUNDS - 1] * (3 * WRITERS)
    assert reads > 0


@pytest.mark.slow
def test_threads_share_a_state_while_one_writes(store: tuple[Path, Path]) -> None:
    """Reader threads and a writer thread on one FileState, and a writer process: the same
    checks as between processes, every reader thread's answers consistent."""
    static, tmp = store
    marks: SynchronizedArray[int] = ctx.Array("q", [-1] * (3 * WRITERS), lock=False)
    proc = ctx.Process(target=_writer, args=(static, tmp, 1, marks))
    failures: list[BaseException] = []
    with FileState(static, tmp) as state:

        def write() -> None:
            try:
                for k in range(ROUNDS):
                    pair = [ctr(0, k), ctr(0, k + ROUNDS)]
                    with state.transaction():
                        for c in pair:
                            state.add_container(c)
                    marks[0] = k
                    marks[1] = k
                    with state.transaction():
                        for c in pair:
                            state.remove_container(c)
                    marks[2] = k
            except BaseException as exc:
                failures.append(exc)

        def read() -> None:
            try:
                while writer.is_alive() or proc.is_alive():
                    _check_round(state, marks)
            except BaseException as exc:
                failures.append(exc)

        writer = threading.Thread(target=write)
        readers = [threading.Thread(target=read) for _ in range(2)]
        proc.start()
        writer.start()
        for t in readers:
            t.start()
        writer.join(300)
        proc.join(300)
        for t in readers:
            t.join(300)
    assert failures == []
    assert proc.exitcode == 0
