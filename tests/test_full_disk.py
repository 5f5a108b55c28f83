"""A full disk or a full quota at every step of a commit: a call that raises did not happen,
one that returns did (docs/layout.md, "Commits, crashes and backups"; issue 9).

Each test runs on a real small file system — a tmpfs and a loop-mounted ext4, filled up
(ENOSPC), and a loop-mounted btrfs whose store subvolume has a quota group limit (EDQUOT) —
then gives a little more room before each attempt, so an operation meets the error at each step
in turn: staging its files, growing the journal, making a directory, renaming into a directory
that needs a new block (and on btrfs, which copies on write, overwriting the journal or the
generation file in place). Every attempt that raises must raise :class:`OSError` with that
errno and leave the store exactly as it was; reads and removals keep working on the full disk;
the same call succeeds once room is given. This needs root, ``mount``, ``mkfs.ext4`` and
``mkfs.btrfs``/``btrfs`` (``.ci/run`` installs e2fsprogs and btrfs-progs); where they are
missing the test fails, it does not skip.

Why a btrfs quota group and not a user quota: this kernel is built without ``CONFIG_QFMT_V2``
(ext4's quota files and ``-O quota`` need it: "The kernel was not built with CONFIG_QUOTA and
CONFIG_QFMT_V2"), ``CONFIG_XFS_QUOTA`` and ``CONFIG_TMPFS_QUOTA``; btrfs quota groups are part
of btrfs itself. A quota group limits a subvolume for every user, root included, so the writer
needs no other uid.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

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


def _run(*cmd: str) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} failed (this suite needs root, mount, mkfs.ext4 and btrfs): "
            f"{done.stderr}"
        )
    return done.stdout


class Limit(Protocol):
    """What holds the store's file system to a little room: the errno it makes calls raise."""

    errno: int
    #: Whether a store at the limit can still be opened and read: not where overwriting a
    #: file in place needs room (btrfs copies on write; taking the lock writes a ticket).
    reads_at_limit: bool

    def fill(self, room: int) -> None: ...
    def free(self) -> None: ...
    def close(self) -> None: ...


@dataclass
class Disk:
    """A small mounted file system: the store goes under ``root``; ``limit`` fills it."""

    root: Path
    limit: Limit


@pytest.fixture(params=["tmpfs", "ext4", "btrfs-quota"])
def small_fs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Disk]:
    """A mounted file system of a few MB: a tmpfs, or ext4 on a loop device (no blocks
    reserved for root, so root meets ENOSPC like anyone), filled by a :class:`Filler`; or
    btrfs on a loop device with quota groups on, the store in a subvolume of its own limited
    by a :class:`Quota`."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    image = tmp_path / "disk.img"
    if request.param == "tmpfs":
        _run("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt))
    elif request.param == "ext4":
        _run("truncate", "-s", "24M", str(image))
        _run("mkfs.ext4", "-q", "-F", "-m", "0", str(image))
        _run("mount", "-o", "loop", str(image), str(mnt))
    else:
        _run("truncate", "-s", "128M", str(image))  # mkfs.btrfs's smallest, sparse
        _run("mkfs.btrfs", "-q", "-f", str(image))
        _run("mount", "-o", "loop", str(image), str(mnt))
    limit: Limit | None = None
    try:
        if request.param == "btrfs-quota":
            _run("btrfs", "quota", "enable", str(mnt))
            _run("btrfs", "subvolume", "create", str(mnt / "store"))
            limit = Quota(mnt, mnt / "store")
            yield Disk(mnt / "store", limit)
        else:
            limit = Filler(mnt)
            yield Disk(mnt, limit)
    finally:
        if limit is not None:
            limit.close()
        subprocess.run(["umount", str(mnt)], check=False)


class Filler:
    """A file that takes all free space but ``room`` bytes (approximately: page/block units)."""

    errno = errno.ENOSPC
    reads_at_limit = True

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


class Quota:
    """The quota group limit of btrfs subvolume ``subvol`` of the file system mounted at
    ``mnt``: what it holds now plus ``room`` bytes (its quota group's "referenced" bytes, read
    after a sync commits the transaction). The limit is set through the top-level subvolume,
    which has none: set through ``subvol``, the call itself meets EDQUOT."""

    errno = errno.EDQUOT
    reads_at_limit = False

    def __init__(self, mnt: Path, subvol: Path) -> None:
        self.mnt, self.subvol = str(mnt), str(subvol)
        info = _run("btrfs", "subvolume", "show", self.subvol)
        ids = [line.split()[-1] for line in info.splitlines() if "Subvolume ID:" in line]
        self.qgroup = f"0/{ids[0]}"

    def fill(self, room: int) -> None:
        self.free()
        _run("btrfs", "filesystem", "sync", self.mnt)
        shown = _run("btrfs", "qgroup", "show", "--raw", self.mnt)
        rows = [row.split() for row in shown.splitlines()]
        used = next(int(row[1]) for row in rows if row[:1] == [self.qgroup])
        _run("btrfs", "qgroup", "limit", str(used + room), self.qgroup, self.mnt)

    def free(self) -> None:
        _run("btrfs", "qgroup", "limit", "none", self.qgroup, self.mnt)

    def close(self) -> None:
        pass


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


def _attempt(mnt: Path, limit: Limit, call: Callable[[FileState], object]) -> bool:
    """Whether ``call``, in a FileState opened for it, returned. An :class:`OSError` it
    raises must be the limit's errno; where reads need no room, reads go on after it. Where
    they do (btrfs: :attr:`Limit.reads_at_limit`), opening may fail the same way."""
    try:
        with open_state(mnt) as state:
            try:
                call(state)
            except OSError as exc:
                assert type(exc) is OSError and exc.errno == limit.errno, exc
                if limit.reads_at_limit:
                    assert state.all_containers() is not None  # reads go on
                return False
        return True
    except OSError as exc:
        assert not limit.reads_at_limit, exc
        assert type(exc) is OSError and exc.errno == limit.errno, exc
        return False


def fill_at_every_step(
    disk: Disk, setup: Callable[[FileState], None], call: Callable[[FileState], object]
) -> int:
    """Run ``call`` with 0, 1, 2 … steps of room until it succeeds; every failure must be the
    limit's errno (ENOSPC, EDQUOT) with the store unchanged, also to a fresh opener (opened
    at the limit where reads need no room, else once the limit is lifted). Returns the
    failures seen."""
    mnt, limit = disk.root, disk.limit
    with open_state(mnt) as state:
        setup(state)
    failures = 0
    try:
        for steps in range(0, 4096):
            limit.fill(steps * STEP)
            before = tree(mnt / "static")
            if _attempt(mnt, limit, call):
                break
            failures += 1
            assert tree(mnt / "static") == before
            if not limit.reads_at_limit:
                limit.free()
            # a fresh opener (recovery included) sees the same store
            with open_state(mnt) as state:
                state.all_containers()
            assert tree(mnt / "static") == before
        else:
            pytest.fail("never succeeded")
    finally:
        limit.free()
    return failures


#: For what holds only where a store at the limit can still be read (not on btrfs).
ENOSPC_ONLY = pytest.mark.parametrize("small_fs", ["tmpfs", "ext4"], indirect=True)


def ids(state: FileState) -> list[str]:
    return sorted(c.id for c in state.all_containers())


def test_add_container(small_fs: Disk) -> None:
    failures = fill_at_every_step(
        small_fs,
        lambda s: s.add_container(new_container(1)),
        lambda s: s.add_container(new_container(2)),
    )
    assert failures > 0
    with open_state(small_fs.root) as state:
        assert ids(state) == [container_id(1), container_id(2)]


def test_save_container(small_fs: Disk) -> None:
    def save(state: FileState) -> None:
        c = state.container(container_id(1))
        c.state = {**c.state, "state": 6, "exitCode": 3, "padding": "x" * 20000}
        state.save_container(c)

    failures = fill_at_every_step(small_fs, lambda s: s.add_container(new_container(1)), save)
    assert failures > 0
    with open_state(small_fs.root) as state:
        c = state.container(container_id(1))
        state.update_container(c)
        assert (c.state["state"], c.state["exitCode"]) == (6, 3)


def test_transaction(small_fs: Disk) -> None:
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
    with open_state(small_fs.root) as state:
        assert ids(state) == sorted(container_id(n) for n in (2, 3, 4, 5, 6, 7, 8))


def test_import(small_fs: Disk) -> None:
    failures = fill_at_every_step(small_fs, lambda s: None, lambda s: import_db(PODMAN_DB, s))
    assert failures > 0
    with open_state(small_fs.root) as state:
        assert len(state.all_containers()) > 0


@ENOSPC_ONLY
def test_reads_and_removals_work_on_a_full_disk_and_a_retry_succeeds(small_fs: Disk) -> None:
    """Full to the last block: reads work, a removal works, an add fails and leaves nothing;
    once space is freed the same add succeeds (the failed one never happened: no
    ContainerExistsError)."""
    with open_state(small_fs.root) as state:
        for n in (1, 2):
            state.add_container(new_container(n))
    filler = small_fs.limit
    try:
        filler.fill(0)
        with open_state(small_fs.root) as state:
            before = tree(small_fs.root / "static")
            with pytest.raises(OSError) as err:
                state.add_container(new_container(3))
            assert type(err.value) is OSError and err.value.errno == filler.errno
            assert tree(small_fs.root / "static") == before
            assert ids(state) == [container_id(1), container_id(2)]
            assert state.lookup_container("test1").id == container_id(1)
            state.remove_container(state.container(container_id(1)))
            assert ids(state) == [container_id(2)]
        filler.free()
        with open_state(small_fs.root) as state:
            state.add_container(new_container(3))
            assert ids(state) == [container_id(2), container_id(3)]
    finally:
        filler.free()
    shutil.rmtree(small_fs.root / "static")


@ENOSPC_ONLY
def test_a_record_replay_cannot_apply_leaves_reads_working(small_fs: Disk) -> None:
    """After a reboot a record must be replayed (its file's write was lost) but the disk is
    full: reads go on, commits wait with EAGAIN naming the journal, fsck reports the record;
    once space is freed the next call applies it."""
    with open_state(small_fs.root) as state:
        state.add_container(new_container(1))
        c = state.container(container_id(1))
        before = (
            small_fs.root / "static" / L.STORE_DIR / L.container_doc(c.id, "state")
        ).read_bytes()
        c.state = {**c.state, "state": 6, "padding": "x" * 20000}
        state.save_container(c)
    store = small_fs.root / "static" / L.STORE_DIR
    (store / L.container_doc(c.id, "state")).write_bytes(before)  # the save's write "lost"
    gen = Generation.decode((store / L.GENERATION).read_bytes())
    (store / L.GENERATION).write_bytes(replace(gen, incarnation="another-boot").encode())
    filler = small_fs.limit
    try:
        filler.fill(0)
        with open_state(small_fs.root) as state:
            assert ids(state) == [container_id(1)]
            got = state.container(container_id(1))
            state.update_container(got)
            assert got.state["state"] != 6
            with pytest.raises(OSError) as err:
                state.add_container(new_container(2))
            assert err.value.errno == errno.EAGAIN
            assert str(store / L.JOURNAL) in str(err.value)
        report = check(small_fs.root / "static")
        assert [(f.code, f.path) for f in report.findings] == [(Code.UNAPPLIED_RECORD, L.JOURNAL)]
        filler.free()
        with open_state(small_fs.root) as state:
            got = state.container(container_id(1))
            state.update_container(got)
            assert got.state["state"] == 6
            state.add_container(new_container(2))
            assert ids(state) == [container_id(1), container_id(2)]
    finally:
        filler.free()


@pytest.mark.parametrize("small_fs", ["tmpfs"], indirect=True)
def test_a_layout_upgrade_waits_for_a_record_replay_cannot_apply(small_fs: Disk) -> None:
    """A layout-1 store whose replay cannot apply a record (full disk) is not upgraded:
    the upgrade's checkpoint would drop the record. The open fails with EAGAIN naming the
    journal and leaves FORMAT 1; once space is freed the next open applies the record, then
    upgrades (``FileStorage._upgrade``)."""
    with open_state(small_fs.root) as state:
        state.add_container(new_container(1))
        c = state.container(container_id(1))
        store = small_fs.root / "static" / L.STORE_DIR
        before = (store / L.container_doc(c.id, "state")).read_bytes()
        c.state = {**c.state, "state": 6, "padding": "x" * 20000}
        state.save_container(c)
    (store / L.container_doc(c.id, "state")).write_bytes(before)  # the save's write "lost"
    gen = Generation.decode((store / L.GENERATION).read_bytes())
    (store / L.GENERATION).write_bytes(replace(gen, incarnation="another-boot").encode())
    (store / L.FORMAT).write_bytes(b"fsstate-layout 1\n")
    filler = small_fs.limit
    try:
        filler.fill(0)
        with pytest.raises(OSError) as err:
            open_state(small_fs.root)
        assert err.value.errno == errno.EAGAIN
        assert str(store / L.JOURNAL) in str(err.value)
        assert (store / L.FORMAT).read_bytes() == b"fsstate-layout 1\n"
        filler.free()
        with open_state(small_fs.root) as state:
            got = state.container(container_id(1))
            state.update_container(got)
            assert got.state["state"] == 6
        assert (store / L.FORMAT).read_bytes() == f"fsstate-layout {L.FORMAT_VERSION}\n".encode()
        assert check(small_fs.root / "static").findings == ()
    finally:
        filler.free()


@pytest.mark.parametrize("small_fs", ["btrfs-quota"], indirect=True)
def test_at_a_full_quota_nothing_is_written_and_a_retry_after_raising_it_succeeds(
    small_fs: Disk,
) -> None:
    """btrfs at its quota group's limit: the store opens and reads (taking the lock cannot
    rewrite the lock queue's counter there, so it waits for the flock alone); adding fails
    with EDQUOT and writes nothing; once the quota is raised a fresh opener sees the store as
    it was and the same add succeeds (the failed one never happened: no
    ContainerExistsError)."""
    root, limit = small_fs.root, small_fs.limit
    with open_state(root) as state:
        for n in (1, 2):
            state.add_container(new_container(n))
    try:
        limit.fill(0)
        before = tree(root / "static")
        with open_state(root) as state:
            assert ids(state) == [container_id(1), container_id(2)]
            assert state.lookup_container("test1").id == container_id(1)
            with pytest.raises(OSError) as err:
                state.add_container(new_container(3))
            assert type(err.value) is OSError and err.value.errno == errno.EDQUOT
            with pytest.raises(OSError) as err:
                state.remove_container(state.container(container_id(1)))
            assert type(err.value) is OSError and err.value.errno == errno.EDQUOT
            assert ids(state) == [container_id(1), container_id(2)]
        assert tree(root / "static") == before
        limit.fill(1 << 20)  # raised, not lifted
        with open_state(root) as state:
            assert ids(state) == [container_id(1), container_id(2)]
            state.add_container(new_container(3))
            assert ids(state) == [container_id(n) for n in (1, 2, 3)]
    finally:
        limit.free()
