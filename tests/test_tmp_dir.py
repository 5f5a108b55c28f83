"""The tmp dir: reboots told by the boot ID, and no path another user can plant.

Real processes, a real other user (uid 65534 in a forked child) and real symlinks; the boot ID
is the kernel's (``/proc/sys/kernel/random/boot_id``), and a reboot is simulated the two ways
one looks on disk: a marker holding another boot's ID (tmp_dir on a disk) or an empty tmp_dir
(a tmpfs wiped at boot).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fsstate import Container, FileState, cli
from fsstate.store.fsio import UnsafeDirError, boot_id

NOBODY = 65534
OTHER_BOOT = "00000000-0000-4000-8000-000000000000\n"


def running(n: int) -> Container:
    return Container({"id": f"{n:064x}", "name": f"c{n}", "lockID": n}, {"state": 3, "pid": 42})


def stored_state(state: FileState, n: int) -> int:
    ctr = state.container(f"{n:064x}")
    state.update_container(ctr)
    return int(ctr.state["state"])


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, Path]:
    static, tmp = tmp_path / "static", tmp_path / "tmp"
    with FileState(static, tmp) as state:
        state.add_container(running(1))
    return static, tmp


def test_the_marker_holds_this_boots_id(store: tuple[Path, Path]) -> None:
    static, tmp = store
    assert boot_id() and len(boot_id()) == 36
    with FileState(static, tmp) as state:
        assert not state.needs_refresh()  # the store was created in this boot
        assert (tmp / "alive").read_text() == boot_id() + "\n"
        assert stat.S_IMODE(tmp.stat().st_mode) == 0o700
        assert stat.S_IMODE((tmp / "alive").stat().st_mode) == 0o600


@pytest.mark.parametrize("reboot", ["marker of another boot", "empty tmp dir"])
def test_a_reboot_is_told_by_the_boot_id(store: tuple[Path, Path], reboot: str) -> None:
    static, tmp = store
    if reboot == "empty tmp dir":
        shutil.rmtree(tmp)
        tmp.mkdir(mode=0o700)
    else:
        (tmp / "alive").write_text(OTHER_BOOT)  # a tmp_dir that is not a tmpfs keeps it
    with FileState(static, tmp) as state:
        assert state.needs_refresh()
        assert stored_state(state, 1) == 3
        assert state.refresh_if_rebooted() is True
        assert stored_state(state, 1) == 6  # running → exited (ContainerStateExited)
        assert not state.needs_refresh()
        assert (tmp / "alive").read_text() == boot_id() + "\n"
        state.save_container(running(1))  # started again in this boot
        assert state.refresh_if_rebooted() is False
        assert stored_state(state, 1) == 3  # not reset a second time


def test_refresh_marks_the_boot_after_it_commits(store: tuple[Path, Path]) -> None:
    """Inside a transaction that raises, neither the refresh nor the marker happen."""
    static, tmp = store
    (tmp / "alive").unlink()
    with FileState(static, tmp) as state:
        with pytest.raises(KeyError), state.transaction():
            assert state.refresh_if_rebooted() is True
            raise KeyError("abandon")
        assert not (tmp / "alive").exists()
        assert stored_state(state, 1) == 3
        with state.transaction():
            state.refresh()
            assert not (tmp / "alive").exists()  # not before the commit
        assert (tmp / "alive").read_text() == boot_id() + "\n"


def _refresh_if_rebooted(static: str, tmp: str, start: Callable[[], object], out: object) -> None:
    with FileState(static, tmp) as state:
        start()
        out.put(state.refresh_if_rebooted())  # type: ignore[attr-defined]


def test_of_eight_processes_after_a_reboot_exactly_one_refreshes(
    store: tuple[Path, Path],
) -> None:
    static, tmp = store
    (tmp / "alive").write_text(OTHER_BOOT)
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(8), ctx.Queue()
    procs = [
        ctx.Process(target=_refresh_if_rebooted, args=(str(static), str(tmp), barrier.wait, out))
        for _ in range(8)
    ]
    for p in procs:
        p.start()
    results = sorted(out.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert results == [False] * 7 + [True]
    with FileState(static, tmp) as state:
        assert stored_state(state, 1) == 6 and not state.needs_refresh()


# -- planted paths -------------------------------------------------------------------------


@pytest.fixture
def shared() -> Iterator[Path]:
    """A sticky, world-writable directory like /tmp, that uid 65534 can reach."""
    path = Path(tempfile.mkdtemp(prefix="fsstate-shared-", dir="/tmp"))
    path.chmod(0o1777)
    yield path
    shutil.rmtree(path)


def as_nobody(plant: Callable[[], None]) -> None:
    """Run ``plant`` in a forked child that is uid/gid 65534; fail if it fails."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            plant()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.fixture
def victim(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A root-owned 0600 file and an empty root-owned directory; unchanged at the end."""
    secret = tmp_path / "secret"
    secret.write_bytes(b"root only\n")
    secret.chmod(0o600)
    empty = tmp_path / "rootdir"
    empty.mkdir(mode=0o700)
    before = secret.stat()
    yield secret, empty
    after = secret.stat()
    assert secret.read_bytes() == b"root only\n"
    assert (after.st_ino, after.st_mtime_ns, stat.S_IMODE(after.st_mode), after.st_uid) == (
        before.st_ino,
        before.st_mtime_ns,
        0o600,
        0,
    )
    assert os.listdir(empty) == []


def test_planted_symlinks_are_refused_and_nothing_outside_is_touched(
    tmp_path: Path, shared: Path, victim: tuple[Path, Path]
) -> None:
    secret, rootdir = victim

    def plant() -> None:
        (shared / "link").symlink_to(rootdir)  # the tmp dir itself
        (shared / "parent").symlink_to(rootdir)  # a directory on the way
        theirs = shared / "theirs"  # a directory they own, holding the marker's name
        theirs.mkdir()
        theirs.chmod(0o777)
        (theirs / "alive").symlink_to(secret)
        (theirs / "fsstate-refreshed").symlink_to(secret)

    as_nobody(plant)
    static = tmp_path / "static"
    cases = {
        shared / "link": "is a symlink",
        shared / "parent" / "tmp": "directory other users can change",
        shared / "theirs": f"belongs to uid {NOBODY}",
    }
    for tmp, why in cases.items():
        with pytest.raises(UnsafeDirError, match=why) as info:
            FileState(static, tmp)
        assert info.value.filename == str(tmp)
    # the CLI refuses the same way, in one line, before writing anything
    for tmp in cases:
        assert cli.main(["--root", str(static), "--tmp", str(tmp), "refresh"]) == 2


def test_a_tmp_dir_is_reached_directly_or_by_the_walk_alike(tmp_path: Path) -> None:
    """The tmp dir opens in one ``openat2`` when no symlink is on the way, and by the walk
    otherwise: through a symlink in a directory only this user can change (``/var/run`` →
    ``/run``), and with missing components, made ``0700``; the marker lands in the real
    directory each time."""
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "run").symlink_to(real)
    (real / "direct").mkdir(mode=0o700)
    (real / "linked").mkdir(mode=0o700)
    cases = {  # the tmp dir given → the directory it is
        real / "direct": real / "direct",
        tmp_path / "run" / "linked": real / "linked",
        real / "new" / "deeper": real / "new" / "deeper",
    }
    for tmp, target in cases.items():
        with FileState(tmp_path / "static", tmp) as state:
            state.refresh()
        assert (target / "alive").is_file(), tmp
    assert stat.S_IMODE((real / "new").stat().st_mode) == 0o700


def test_a_marker_replaced_by_a_symlink_is_refused(
    tmp_path: Path, victim: tuple[Path, Path]
) -> None:
    """Only root could plant in root's 0700 tmp dir; still, a symlink there is never read
    or followed: needs_refresh refuses, and refresh replaces the name itself."""
    secret, _ = victim
    static, tmp = tmp_path / "static", tmp_path / "tmp"
    with FileState(static, tmp) as state:
        (tmp / "alive").unlink()
        (tmp / "alive").symlink_to(secret)
        with pytest.raises(UnsafeDirError, match="'alive' in it is a symlink"):
            state.needs_refresh()
        (tmp / "alive").unlink()
        os.mkfifo(tmp / "alive")
        with pytest.raises(UnsafeDirError, match="not a regular file"):
            state.needs_refresh()  # and does not hang on the FIFO


def test_the_default_tmp_dir_is_podmans(
    tmp_path: Path, shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root: in /run/libpod; another user: in $XDG_RUNTIME_DIR/libpod/tmp (a real uid)."""
    monkeypatch.delenv("FSSTATE_TMP", raising=False)
    key_tmp = cli.default_tmp(str(tmp_path / "root"))
    assert key_tmp.startswith("/run/libpod/fsstate/")
    runtime, seen = shared / "xdg", shared / "seen"

    def compute() -> None:
        runtime.mkdir(mode=0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        seen.write_text(cli.default_tmp(str(tmp_path / "root")))

    as_nobody(compute)
    assert seen.read_text() == f"{runtime}/libpod/tmp/fsstate/{os.path.basename(key_tmp)}"


def test_the_cli_warns_until_the_store_is_refreshed(
    store: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    static, tmp = store
    args = ["--root", str(static), "--tmp", str(tmp)]
    assert cli.main([*args, "ps"]) == 0
    assert capsys.readouterr().err == ""
    (tmp / "alive").write_text(OTHER_BOOT)
    assert cli.main([*args, "ps"]) == 0
    out, err = capsys.readouterr()
    assert err == (
        "fsstate: warning: the store has not been refreshed since boot; "
        "container states predate it (run `fsstate refresh`)\n"
    )
    assert "c1" in out
    assert cli.main([*args, "refresh"]) == 0
    assert capsys.readouterr().err == ""
    assert cli.main([*args, "ps"]) == 0
    assert capsys.readouterr().err == ""
