"""A full disk at every step of a commit: a call that raises did not happen, one that returns
did (docs/layout.md, "Commits, crashes and backups").

Each test runs on a real small file system — a tmpfs and a loop-mounted ext4 (this needs root
and ``mount``; where they are missing the test fails, it does not skip) — fills it up, then
frees a little more room before each attempt, so an operation meets ENOSPC at each step in
turn: staging its files, growing the journal, making a directory, renaming into a directory
that needs a new block. Every attempt that raises must raise :class:`OSError` ENOSPC and leave
the store exactly as it was; reads and removals keep working on the full disk; the same call
succeeds once space is freed.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import container_id, new_container

from fsstate import FileState, check
from fsstate.fsck import Code
from fsstate.podman import import_db
from fsstate.store import layout as L
from fsstate.store.journal import Generation

pytestmark = pytest.mark.slow

PODMAN_DB = Path(__file__).parent.parent / "examples" / "data" / "podman-db.sql"
STEP = 4096  # the page and block size: each step frees one more


def _run(*cmd: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed (this suite needs root and mount): {done.stderr}")


@pytest.fixture(params=["tmpfs", "ext4"])
def small_fs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """A mounted file system of a few MB: a tmpfs, or ext4 on a loop device (no blocks
    reserved for root, so root meets ENOSPC like anyone)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if request.param == "tmpfs":
        _run("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt))
    else:
        image = tmp_path / "ext4.img"
        _run("truncate", "-s", "24M", str(image))
        _run("mkfs.ext4", "-q", "-F", "-m", "0", str(image))
        _run("mount", "-o", "loop", str(image), str(mnt))
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


class Filler:
    """A file that takes all free space but ``room`` bytes (approximately: page/block units)."""

    def __init__(self, mnt: Path) -> None:
        self.path = mnt / "filler"
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)

    def fill(self, room: int) -> None:
        os.ftruncate(self.fd, 0)
        os.fsync(self.fd)
        size, chunk = 0, bytes(1 << 20)
        for block in (1 << 20, 1 << 16, STEP):
            while True:
                try:
                    size += os.pwrite(self.fd, chunk[:block], size)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
        os.fsync(self.fd)  # ext4: delayed allocation decided now
        os.ftruncate(self.fd, max(0, size - room))
        os.fsync(self.fd)

    def free(self) -> None:
        os.ftruncate(self.fd, 0)
        os.fsync(self.fd)

    def close(self) -> None:
        os.close(self.fd)


def tree(static: Path) -> dict[str, bytes | None]:
    """Every entry of the store but the journal, generation and lock queue: path → bytes
    (``None`` for a directory). Temporary files included: none may be left."""
    root = static / L.STORE_DIR
    found: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        for d in dirnames:
            found[os.path.normpath(os.path.join(rel, d))] = None
        for f in filenames:
            path = os.path.normpath(os.path.join(rel, f))
            if path not in (L.JOURNAL, L.GENERATION, L.LOCK_QUEUE):
                found[path] = Path(dirpath, f).read_bytes()
    return found


def open_state(mnt: Path) -> FileState:
    return FileState(mnt / "static", mnt / "tmp")


def fill_at_every_step(
    mnt: Path, setup: Callable[[FileState], None], call: Callable[[FileState], object]
) -> int:
    """Run ``call`` with 0, 1, 2 … free steps until it succeeds; every failure must be
    ENOSPC with the store unchanged (also to a fresh opener). Returns the failures seen."""
    with open_state(mnt) as state:
        setup(state)
    filler = Filler(mnt)
    failures = 0
    try:
        for steps in range(0, 4096):
            filler.fill(steps * STEP)
            before = tree(mnt / "static")
            with open_state(mnt) as state:
                try:
                    call(state)
                except OSError as exc:
                    assert type(exc) is OSError and exc.errno == errno.ENOSPC, exc
                    failures += 1
                    assert tree(mnt / "static") == before
                    assert state.all_containers() is not None  # reads go on
                else:
                    break
            # a fresh opener (recovery included) sees the same store
            with open_state(mnt) as state:
                state.all_containers()
            assert tree(mnt / "static") == before
        else:
            pytest.fail("never succeeded")
    finally:
        filler.free()
        filler.close()
    return failures


def ids(state: FileState) -> list[str]:
    return sorted(c.id for c in state.all_containers())


def test_add_container(small_fs: Path) -> None:
    failures = fill_at_every_step(
        small_fs,
        lambda s: s.add_container(new_container(1)),
        lambda s: s.add_container(new_container(2)),
    )
    assert failures > 0
    with open_state(small_fs) as state:
        assert ids(state) == [container_id(1), container_id(2)]


def test_save_container(small_fs: Path) -> None:
    def save(state: FileState) -> None:
        c = state.container(container_id(1))
        c.state = {**c.state, "state": 6, "exitCode": 3, "padding": "x" * 20000}
        state.save_container(c)

    failures = fill_at_every_step(small_fs, lambda s: s.add_container(new_container(1)), save)
    assert failures > 0
    with open_state(small_fs) as state:
        c = state.container(container_id(1))
        state.update_container(c)
        assert (c.state["state"], c.state["exitCode"]) == (6, 3)


def test_transaction(small_fs: Path) -> None:
    def setup(state: FileState) -> None:
        for n in (1, 2):
            state.add_container(new_container(n))

    def txn(state: FileState) -> None:
        with state.transaction():
            state.remove_container(state.container(container_id(1)))
            for n in range(3, 9):
                state.add_container(new_container(n))

    failures = fill_at_every_step(small_fs, setup, txn)
    assert failures > 0
    with open_state(small_fs) as state:
        assert ids(state) == sorted(container_id(n) for n in (2, 3, 4, 5, 6, 7, 8))


def test_import(small_fs: Path) -> None:
    failures = fill_at_every_step(small_fs, lambda s: None, lambda s: import_db(PODMAN_DB, s))
    assert failures > 0
    with open_state(small_fs) as state:
        assert len(state.all_containers()) > 0


def test_reads_and_removals_work_on_a_full_disk_and_a_retry_succeeds(small_fs: Path) -> None:
    """Full to the last block: reads work, a removal works, an add fails and leaves nothing;
    once space is freed the same add succeeds (the failed one never happened: no
    ContainerExistsError)."""
    with open_state(small_fs) as state:
        for n in (1, 2):
            state.add_container(new_container(n))
    filler = Filler(small_fs)
    try:
        filler.fill(0)
        with open_state(small_fs) as state:
            before = tree(small_fs / "static")
            with pytest.raises(OSError) as err:
                state.add_container(new_container(3))
            assert type(err.value) is OSError and err.value.errno == errno.ENOSPC
            assert tree(small_fs / "static") == before
            assert ids(state) == [container_id(1), container_id(2)]
            assert state.lookup_container("test1").id == container_id(1)
            state.remove_container(state.container(container_id(1)))
            assert ids(state) == [container_id(2)]
        filler.free()
        with open_state(small_fs) as state:
            state.add_container(new_container(3))
            assert ids(state) == [container_id(2), container_id(3)]
    finally:
        filler.close()
    shutil.rmtree(small_fs / "static")


def test_a_record_replay_cannot_apply_leaves_reads_working(small_fs: Path) -> None:
    """After a reboot a record must be replayed (its file's write was lost) but the disk is
    full: reads go on, commits wait with EAGAIN naming the journal, fsck reports the record;
    once space is freed the next call applies it."""
    with open_state(small_fs) as state:
        state.add_container(new_container(1))
        c = state.container(container_id(1))
        before = (small_fs / "static" / L.STORE_DIR / L.container_doc(c.id, "state")).read_bytes()
        c.state = {**c.state, "state": 6, "padding": "x" * 20000}
        state.save_container(c)
    store = small_fs / "static" / L.STORE_DIR
    (store / L.container_doc(c.id, "state")).write_bytes(before)  # the save's write "lost"
    gen = Generation.decode((store / L.GENERATION).read_bytes())
    (store / L.GENERATION).write_bytes(replace(gen, incarnation="another-boot").encode())
    filler = Filler(small_fs)
    try:
        filler.fill(0)
        with open_state(small_fs) as state:
            assert ids(state) == [container_id(1)]
            got = state.container(container_id(1))
            state.update_container(got)
            assert got.state["state"] != 6
            with pytest.raises(OSError) as err:
                state.add_container(new_container(2))
            assert err.value.errno == errno.EAGAIN
            assert str(store / L.JOURNAL) in str(err.value)
        report = check(small_fs / "static")
        assert [(f.code, f.path) for f in report.findings] == [(Code.UNAPPLIED_RECORD, L.JOURNAL)]
        filler.free()
        with open_state(small_fs) as state:
            got = state.container(container_id(1))
            state.update_container(got)
            assert got.state["state"] == 6
            state.add_container(new_container(2))
            assert ids(state) == [container_id(1), container_id(2)]
    finally:
        filler.close()
