"""Backups: ``snapshot`` copies a consistent store under the lock, and a plain file-by-file copy
taken while writer processes run (what rsync does) is consistent again after ``repair``."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import dump_store, new_volume
from corrupt.builders import C5, build_store, put

from fsstate import FileState, check, cli, errors, repair
from fsstate.store import layout as L
from fsstate.store.fsio import Tree
from fsstate.store.journal import Journal
from fsstate.store.snapshot import snapshot

TESTS = str(Path(__file__).parent)

#: A writer process: random adds, state saves, exec sessions and removals of containers (some
#: mounting the volume "shared") until the stop file appears. Names are never reused, so any
#: copy is free of name clashes, and nothing has a dependency or a pod that a copy could lose.
WRITER = """
import os, random, sys
sys.path.insert(0, sys.argv[5])
from conftest import new_container
from fsstate import ExecSession, FileState
static, tmp, tag, stop = sys.argv[1:5]
rng, live, n = random.Random(tag), [], 0
mounts = [{"volumeName": "shared", "dest": "/data", "options": []}]
with FileState(static, tmp) as st:
    while not os.path.exists(stop):
        n += 1
        r = rng.random()
        if r < 0.4 or len(live) < 3:
            cid = f"{tag}{n:030x}"
            vols = mounts if n % 3 == 0 else None
            st.add_container(new_container(n, id=cid, name=f"w{tag}-{n}", namedVolumes=vols))
            live.append(cid)
        elif r < 0.6:
            ctr = st.container(rng.choice(live))
            st.update_container(ctr)
            ctr.state["state"] = rng.choice([1, 2, 3, 6])
            st.save_container(ctr)
        elif r < 0.8:
            ctr = st.container(rng.choice(live))
            st.add_exec_session(ctr, ExecSession(f"s{tag}{n}", ctr.id))
        else:
            ctr = st.container(live.pop(rng.randrange(len(live))))
            st.remove_container_exec_sessions(ctr)
            st.remove_container(ctr)
"""


@pytest.fixture
def static(tmp_path: Path) -> Path:
    build_store(tmp_path / "static")
    return tmp_path / "static"


@pytest.fixture
def writers(tmp_path: Path) -> Iterator[Path]:
    """Two writer processes on a store holding the volume "shared"; yields its static dir."""
    static, stop = tmp_path / "busy", tmp_path / "stop"
    with FileState(static, tmp_path / "busy-tmp") as st:
        st.add_volume(new_volume("shared"))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(static), str(tmp_path / tag), tag, str(stop), TESTS],
        )
        for tag in ("a1", "b2")
    ]
    try:
        deadline = time.monotonic() + 30
        ctrs = static / L.STORE_DIR / "containers"
        while not ctrs.exists() or sum(1 for _ in ctrs.iterdir()) < 20:
            assert all(p.poll() is None for p in procs), "a writer died"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        yield static
    finally:
        stop.touch()
        codes = [p.wait(timeout=60) for p in procs]
    assert codes == [0, 0]


def file_modes(store: Path) -> dict[str, int]:
    return {str(p.relative_to(store)): stat.S_IMODE(p.lstat().st_mode) for p in store.rglob("*")}


def assert_consistent(static: Path) -> int:
    """Every container has a config and a state, resolves by name, and its exec sessions and
    volume link agree; returns how many containers there are."""
    with FileState(static, static.parent / f"{static.name}-tmp") as st:
        ctrs = st.all_containers()
        for ctr in ctrs:
            st.update_container(ctr)
            assert isinstance(ctr.state.get("state"), int)
            assert st.lookup_container(ctr.name).id == ctr.id
            for sid in st.get_container_exec_sessions(ctr):
                assert st.get_exec_session(sid) == ctr.id
        users = set(st.volume_in_use(st.volume("shared")))
        assert users == {c.id for c in ctrs if c.named_volumes() == ["shared"]}
        return len(ctrs)


# -- snapshot --------------------------------------------------------------------------------


def test_snapshot_is_the_same_store(static: Path, tmp_path: Path) -> None:
    dest = tmp_path / "backup"
    result = snapshot(static, dest)
    assert result.dest == str(dest)
    assert result.skipped == []
    assert result.files > 30
    assert sorted(os.listdir(dest)) == [L.STORE_DIR]
    assert check(dest).findings == ()
    with FileState(static, tmp_path / "t1") as a, FileState(dest, tmp_path / "t2") as b:
        assert dump_store(b) == dump_store(a)
        b.remove_container(b.container(C5))  # the copy is a store of its own
        assert a.has_container(C5)
    modes = file_modes(dest / L.STORE_DIR)
    assert {m for p, m in modes.items() if (dest / L.STORE_DIR / p).is_dir()} == {0o700}
    assert {m for p, m in modes.items() if not (dest / L.STORE_DIR / p).is_dir()} == {0o600}


def replayable(store: Path) -> int:
    """How many journal records opening a copy of ``store`` would replay."""
    tree = Tree(str(store))
    journal = Journal(tree)
    try:
        return sum(1 for _ in journal.records(0, None))
    finally:
        journal.close()
        tree.close()


def test_snapshot_checkpoints_first(static: Path, tmp_path: Path) -> None:
    """The copy's journal holds nothing to replay: every committed change is in its files."""
    assert replayable(static / L.STORE_DIR) > 0
    snapshot(static, tmp_path / "backup")
    assert replayable(tmp_path / "backup" / L.STORE_DIR) == 0


def test_cli_snapshot(static: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "backup"
    assert cli.main(["--root", str(static), "snapshot", str(dest)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{dest}: ") and out.endswith(" bytes\n")
    assert cli.main(["--root", str(dest), "fsck"]) == 0
    assert cli.main(["--root", str(static), "snapshot", str(dest)]) == 4
    assert "exists" in capsys.readouterr().err


def test_snapshot_creates_missing_parents(static: Path, tmp_path: Path) -> None:
    """A dated backup path whose parents do not exist yet is created; the copy itself is 0700."""
    dest = tmp_path / "backups" / "2026-11-29" / "fsstate"
    assert cli.main(["--root", str(static), "snapshot", str(dest)]) == 0
    assert cli.main(["--root", str(dest), "fsck"]) == 0
    assert stat.S_IMODE(dest.stat().st_mode) == 0o700


def test_snapshot_refuses_an_existing_destination(static: Path, tmp_path: Path) -> None:
    dest = tmp_path / "backup"
    dest.mkdir()
    (dest / "keep").write_text("mine")
    with pytest.raises(FileExistsError):
        snapshot(static, dest)
    assert os.listdir(dest) == ["keep"]


def test_snapshot_skips_what_it_must_not_copy(static: Path, tmp_path: Path) -> None:
    """Temp files stay behind; a planted symlink is neither followed nor copied."""
    store = static / L.STORE_DIR
    secret = tmp_path / "secret"
    secret.write_text("not for the backup")
    os.symlink(secret, store / "containers" / C5 / "networks.json")
    put(store, f"{L.container_dir(C5)}/{L.temp_name(99, 1)}", b"{")
    result = snapshot(static, tmp_path / "backup")
    assert result.skipped == [f"{L.container_dir(C5)}/networks.json"]
    copied = tmp_path / "backup" / L.STORE_DIR / L.container_dir(C5)
    assert sorted(os.listdir(copied)) == ["config.json", "state.json"]


def test_snapshot_of_a_store_that_does_not_open(static: Path, tmp_path: Path) -> None:
    put(static / L.STORE_DIR, L.FORMAT, b"fsstate-layout 99\n")
    with pytest.raises(errors.CorruptDocumentError):
        snapshot(static, tmp_path / "backup")
    assert not (tmp_path / "backup").exists()


def test_snapshots_while_writers_run_need_no_repair(writers: Path, tmp_path: Path) -> None:
    """Taken under the lock, every snapshot is consistent as it is."""
    for i in range(3):
        dest = tmp_path / f"snap{i}"
        snapshot(writers, dest)
        assert check(dest).findings == ()
        assert assert_consistent(dest) >= 3


def test_check_of_a_live_store_finds_nothing(writers: Path) -> None:
    """check holds the lock, so two writers at work never look like damage."""
    for _ in range(5):
        assert check(writers).findings == ()


# -- a file-by-file copy of a live store, as rsync makes -------------------------------------


def copy_tree(src: Path, dst: Path) -> None:
    """Copy like rsync: walk in directory order, copy file by file, skip what vanished."""
    if shutil.which("rsync"):
        done = subprocess.run(["rsync", "-a", f"{src}/", f"{dst}/"], check=False)
        assert done.returncode in (0, 24), done  # 24: files vanished during the copy
        return
    dst.mkdir(mode=0o700)
    with os.scandir(src) as entries:
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    copy_tree(Path(entry.path), dst / entry.name)
                elif entry.is_file(follow_symlinks=False):
                    shutil.copy2(entry.path, dst / entry.name, follow_symlinks=False)
            except FileNotFoundError:
                continue


def test_copy_of_a_live_store_is_repaired(writers: Path, tmp_path: Path) -> None:
    """While two writer processes run, copy the store file by file; repair the copy; every
    container then has its config and state and the whole store is consistent."""
    repaired = 0
    for i in range(4):
        copy = tmp_path / f"copy{i}"
        copy.mkdir()
        copy_tree(writers / L.STORE_DIR, copy / L.STORE_DIR)
        report = check(copy)
        assert all(f.repairable for f in report.findings), report.findings
        done = repair(report)
        repaired += sum(1 for f in done.findings if f.action)
        assert check(copy).findings == ()
        assert assert_consistent(copy) >= 3
    print(f"repaired {repaired} findings in 4 copies")
