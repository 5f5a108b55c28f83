"""EIO at every step of a commit and of an import: a call that raises did not happen, one that
returns did (docs/layout.md, "Commits, crashes and backups"; issue 9).

The EIO is the kernel's own: ext4's shutdown ioctl (``EXT4_IOC_SHUTDOWN`` with
``EXT4_GOING_FLAGS_NOLOGFLUSH``, what xfstests' ``godown`` uses to stand for a dying disk)
makes every later call on the file system fail with EIO, reads included, and drops whatever
was not yet durable, as a power loss would. A writer runs in a child process whose store calls
are counted (every ``os`` call of the ``fsio`` modules that writes, syncs, renames, links,
unlinks, makes or removes a directory, or opens); just before the ``n``-th, the child shuts the
file system down, so that call and all after it meet EIO. The file system is then unmounted and
mounted again (ext4 replays its journal) and a fresh opener reads the store.

The call is run once without failing, which counts its calls, then once failing at each
(an import, hundreds long: at a spread of them and at every one near a sync): a call that
returned must have happened; one that raised must raise :class:`OSError` EIO and must not have
happened — except where the store says otherwise in the exception's note: a record past its
commit point that could be neither installed nor taken back stays in force and is applied by
the next opener (docs/layout.md; ``FileStorage.commit``).

Why not device-mapper's ``error`` or ``flakey`` target: this kernel has no device-mapper
(``CONFIG_BLK_DEV_DM`` is not set, ``/dev/mapper/control`` does not exist), nor fault injection,
``null_blk`` or ``scsi_debug``. The shutdown ioctl needs root and ``mount`` like the full-disk
test; where they are missing this test fails, it does not skip.
"""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import new_container
from test_full_disk import tree

from fsstate import FileState

pytestmark = pytest.mark.slow

TESTS = Path(__file__).parent
PODMAN_DB = TESTS.parent / "examples" / "data" / "podman-db.sql"

#: The child: open the store, arm the counter, run the call, say how it ended (JSON).
CHILD = textwrap.dedent(
    """
    import fcntl, importlib, json, os, pkgutil, struct, sys, traceback
    sys.path.insert(0, sys.argv[5])
    from conftest import new_container, container_id
    import fsstate.store.fsio
    from fsstate import FileState
    from fsstate.podman import import_db

    static, run, at, call, tests, db = sys.argv[1:7]
    at = int(at)
    SHUTDOWN, NOLOGFLUSH = 0x8004587D, 2  # EXT4_IOC_SHUTDOWN, EXT4_GOING_FLAGS_NOLOGFLUSH
    COUNTED = {"open", "write", "pwrite", "fsync", "fdatasync", "ftruncate", "rename",
               "replace", "link", "unlink", "mkdir", "rmdir"}
    seen = {"armed": False, "calls": 0, "fired": False, "names": []}

    def shut_down():
        fd = os.open(static, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.ioctl(fd, SHUTDOWN, struct.pack("I", NOLOGFLUSH))
        os.close(fd)
        seen["fired"] = True

    class Failing:
        def __init__(self, real):
            self.real = real
        def __getattr__(self, name):
            attr = getattr(self.real, name)
            if name not in COUNTED:
                return attr
            def counted(*args, **kwargs):
                if seen["armed"]:
                    seen["calls"] += 1
                    seen["names"].append(name)
                    if seen["calls"] == at:
                        shut_down()
                return attr(*args, **kwargs)
            return counted

    for info in pkgutil.iter_modules(fsstate.store.fsio.__path__):
        module = importlib.import_module(f"fsstate.store.fsio.{info.name}")
        module.os = Failing(module.os)

    def run_call(state):
        if call == "add":
            state.add_container(new_container(2))
        elif call == "save":
            c = state.container(container_id(1))
            c.state = {**c.state, "state": 6, "exitCode": 3, "padding": "x" * 20000}
            state.save_container(c)
        elif call == "transaction":
            with state.transaction():
                state.remove_container(state.container(container_id(1)))
                for n in range(3, 6):
                    state.add_container(new_container(n))
        else:
            import_db(db, state)

    out = {}
    state = FileState(static, run)
    seen["armed"] = True
    try:
        run_call(state)
        out["outcome"] = "returned"
    except OSError as exc:
        frames = traceback.extract_tb(exc.__traceback__)[-4:]
        out.update(outcome="raised", type=type(exc).__name__, errno=exc.errno,
                   notes=getattr(exc, "__notes__", []), message=str(exc),
                   where=[f"{frame.name}: {frame.line}" for frame in frames])
    seen["armed"] = False
    out.update(fired=seen["fired"], calls=seen["names"])
    print(json.dumps(out), flush=True)
    os._exit(0)  # the file system is gone: closing would only meet EIO again
    """
)


#: The ends of the notes by which ``FileStorage.commit`` says a raised call may still happen:
#: its record could be neither installed nor taken back, or was taken back but voiding it
#: could not be synced (docs/layout.md).
IN_FORCE = ("(free space or fix the device; run fsstate fsck)", "it may still be replayed")


#: What a fresh opener finds: the tree (``test_full_disk.tree``) and the containers' IDs.
Found = tuple[dict[str, bytes | None], list[str]]


def _run(*cmd: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed (this suite needs root and mount): {done.stderr}")


class Disk:
    """An ext4 image, mounted at ``mnt`` on a loop device for each step from a pristine copy."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.pristine = work / "pristine.img"
        self.image = work / "disk.img"
        self.mnt = work / "mnt"
        self.run = work / "run"  # tmp_dir: not on the failing file system, as /run is not
        self.mnt.mkdir()
        _run("truncate", "-s", "24M", str(self.pristine))
        _run("mkfs.ext4", "-q", "-F", "-m", "0", str(self.pristine))

    def mount(self, image: Path) -> None:
        _run("mount", "-o", "loop", str(image), str(self.mnt))

    def umount(self) -> None:
        _run("umount", str(self.mnt))

    def state(self) -> FileState:
        return FileState(self.mnt / "static", self.run)

    def fresh(self) -> Found:
        """After a remount: what a fresh opener (recovery included) finds, the tree and the
        IDs of the containers."""
        with self.state() as state:
            ids = sorted(c.id for c in state.all_containers())
        return tree(self.mnt / "static"), ids


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Disk]:
    made = Disk(tmp_path)
    try:
        yield made
    finally:
        subprocess.run(["umount", str(made.mnt)], check=False, capture_output=True)


def steps(calls: list[str], stride: int) -> list[int]:
    """The steps (1-based counted calls) to fail at: every one when ``stride`` is 1; else
    every ``stride``-th, the first and last five, and the three before and after each sync
    (where a commit point, a checkpoint or a voiding is)."""
    if stride == 1:
        return list(range(1, len(calls) + 1))
    chosen = {*range(1, 6), *range(len(calls) - 4, len(calls) + 1)}
    chosen.update(range(stride, len(calls) + 1, stride))
    for i, name in enumerate(calls, 1):
        if name in ("fsync", "fdatasync"):
            chosen.update(range(i - 3, i + 4))
    return sorted(n for n in chosen if 1 <= n <= len(calls))


def eio_at_every_step(disk: Disk, setup: list[int], call: str, stride: int = 1) -> int:
    """Set up the store (containers ``setup``) on the pristine image, run ``call`` once
    without failing (its counted calls, and the store it leaves), then for each of
    :func:`steps` run it in a child that shuts the file system down before that counted
    call, and check what a fresh opener finds after a remount. Returns the steps that
    raised."""
    disk.mount(disk.pristine)
    with disk.state() as state:
        for n in setup:
            state.add_container(new_container(n))
    disk.umount()
    disk.mount(disk.pristine)
    before = disk.fresh()
    disk.umount()
    raised, results = 0, []
    out, after = _step(disk, 0, call)
    assert (out["outcome"], out["fired"]) == ("returned", False), out
    assert after != before
    for at in steps(out["calls"], stride):
        out, found = _step(disk, at, call)
        results.append((out, found))
        assert out["fired"], out
        if out["outcome"] == "raised":
            raised += 1
            assert (out["type"], out["errno"]) == ("OSError", errno.EIO), out
    for out, found in results:
        if out["outcome"] == "returned":
            assert found == after, out  # it returned: it happened
        elif any(note.endswith(IN_FORCE) for note in out["notes"]):
            assert found in (before, after), out  # said so: it may have happened
        else:
            changed = sorted(
                p for p in {*found[0], *before[0]} if found[0].get(p) != before[0].get(p)
            )
            assert found == before, json.dumps([out, changed])  # it raised: it did not happen
    return raised


def _step(disk: Disk, at: int, call: str) -> tuple[dict[str, Any], Found]:
    """Run ``call`` on a fresh copy of the pristine image, failing at counted call ``at``
    (0: never); what the child said, and what a fresh opener finds after a remount."""
    shutil.copyfile(disk.pristine, disk.image)
    disk.mount(disk.image)
    args = [str(disk.mnt / "static"), str(disk.run), str(at), call, str(TESTS), str(PODMAN_DB)]
    child = subprocess.run(
        [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, check=False
    )
    assert child.returncode == 0, child.stderr
    out: dict[str, Any] = json.loads(child.stdout.splitlines()[-1])
    disk.umount()
    disk.mount(disk.image)  # ext4 replays its own journal
    found = disk.fresh()
    disk.umount()
    return out, found


def test_add_container(disk: Disk) -> None:
    assert eio_at_every_step(disk, [1], "add") > 0


def test_save_container(disk: Disk) -> None:
    assert eio_at_every_step(disk, [1], "save") > 0


def test_transaction(disk: Disk) -> None:
    assert eio_at_every_step(disk, [1, 2], "transaction") > 0


def test_import(disk: Disk) -> None:
    """An import is one commit of hundreds of calls (452 here): every 15th, and every one
    near a sync."""
    assert eio_at_every_step(disk, [], "import", stride=15) > 0
