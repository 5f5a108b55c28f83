"""A store written in layout 1 (two-character registry shards) is upgraded when opened
(``fsstate/store/upgrade.py``), keeps every object, and a crash at any point of the upgrade is
finished by the next open. The layout-1 store is real: ``tests/data/layout1/make.py`` made it
with fsstate at b1444b3, the last layout-1 version."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fsstate import FileState, errors
from fsstate.fsck import Code, check
from fsstate.store import layout as L

ARCHIVE = Path(__file__).parent / "data" / "layout1" / "store.tar.gz"
REGISTRIES = [L.REGISTRY[kind].dir() for kind in ("container", "pod", "volume")]


def extract(static: Path) -> Path:
    """The layout-1 store under ``static``; its ``fsstate`` directory."""
    static.mkdir()
    with tarfile.open(ARCHIVE) as tar:
        tar.extractall(static, filter="tar")  # keeps the store's modes
    return static / L.STORE_DIR


def entries(store: Path, *, skip_files: bool = False) -> dict[str, set[tuple[str, str]]]:
    """Each registry's ``(shard directory, name)`` pairs (``skip_files``: past a file where
    a shard should be)."""
    return {
        top: {
            (shard.name, entry.name)
            for shard in (store / top).iterdir()
            if not (skip_files and shard.is_file())
            for entry in shard.iterdir()
        }
        for top in REGISTRIES
    }


def names(found: dict[str, set[tuple[str, str]]]) -> dict[str, set[str]]:
    return {top: {name for _, name in pairs} for top, pairs in found.items()}


@pytest.fixture
def layout1(tmp_path: Path) -> Path:
    return extract(tmp_path / "static")


def test_the_archive_is_a_layout_1_store(layout1: Path) -> None:
    """What the other tests upgrade: FORMAT 1, two-character shards, records to replay."""
    assert (layout1 / L.FORMAT).read_bytes() == b"fsstate-layout 1\n"
    found = entries(layout1)
    assert {shard for pairs in found.values() for shard, _ in pairs} == {
        "a",
        "ab",
        "cd",
        "ef",
        "sh",
    }
    assert any(shard != L.shard(name) for pairs in found.values() for shard, name in pairs)
    assert (layout1 / L.GENERATION).read_bytes().split()[2] != b"0"  # an applied offset


def test_a_layout_1_store_is_upgraded_when_opened(layout1: Path, tmp_path: Path) -> None:
    before = names(entries(layout1))
    static = layout1.parent
    with FileState(static, tmp_path / "tmp") as state:
        assert [c.name for c in state.all_containers()] == ["c1", "c2", "c3", "c4", "c6"]
        # Prefixes of three characters and more read one new shard; shorter ones several.
        assert state.lookup_container("ab2f").name == "c3"
        assert state.lookup_container("ab1d0f63").name == "c1"
        with pytest.raises(errors.ContainerExistsError):
            state.lookup_container("ab2")
        with pytest.raises(errors.ContainerExistsError):
            state.lookup_container("ab")
        assert state.lookup_pod("ab0").name == "pod1"
        assert state.lookup_volume("abd").name == "abd-data"
        assert state.lookup_volume("ab").name == "ab"  # an exact name before a prefix
        assert state.lookup_volume("a").name == "a"
    assert (layout1 / L.FORMAT).read_bytes() == b"fsstate-layout 2\n"
    after = entries(layout1)
    assert names(after) == before
    assert all(shard == L.shard(name) for pairs in after.values() for shard, name in pairs)
    assert not (layout1 / "index" / "containers" / "ab").exists()  # emptied, removed
    assert check(static).findings == ()


def test_an_upgrade_cut_short_is_finished_by_the_next_open(layout1: Path, tmp_path: Path) -> None:
    """A crash leaves FORMAT 1 and each entry in its old shard, its new one, or both (the
    new ones are durable before an old one goes): the next open finishes the upgrade."""
    before = names(entries(layout1))
    pairs = sorted(
        (top, shard, name) for top, found in entries(layout1).items() for shard, name in found
    )
    moving = [(top, shard, name) for top, shard, name in pairs if L.shard(name) != shard]
    assert len(moving) >= 4
    for n, (top, shard, name) in enumerate(moving):
        if n % 2 == 0:  # created in its new shard (then, every other one, gone from the old)
            (layout1 / top / L.shard(name)).mkdir(mode=0o700, exist_ok=True)
            (layout1 / top / L.shard(name) / name).touch(mode=0o600)
            if n % 4 == 0:
                (layout1 / top / shard / name).unlink()
    with FileState(layout1.parent, tmp_path / "tmp") as state:
        assert state.lookup_container("ab2f").name == "c3"
    assert (layout1 / L.FORMAT).read_bytes() == b"fsstate-layout 2\n"
    after = entries(layout1)
    assert names(after) == before
    assert all(shard == L.shard(name) for pairs in after.values() for shard, name in pairs)
    assert check(layout1.parent).findings == ()


def test_what_the_upgrade_cannot_move_is_left_for_fsck(layout1: Path, tmp_path: Path) -> None:
    """A file where a new shard should be is not fatal: what would move there stays in its
    old shard, the store opens in layout 2, fsck reports both and ``fsck --repair`` puts the
    registry right."""
    (layout1 / "index" / "containers" / "ab2").write_bytes(b"planted")
    (layout1 / "index" / "containers" / "ab2").chmod(0o600)
    with FileState(layout1.parent, tmp_path / "tmp") as state:
        assert state.lookup_container("ab1").name == "c1"  # moved
    assert (layout1 / L.FORMAT).read_bytes() == b"fsstate-layout 2\n"
    left = {
        name
        for shard, name in entries(layout1, skip_files=True)["index/containers"]
        if shard == "ab"
    }
    assert {name[:3] for name in left} == {"ab2"}
    found = {(f.code, f.path) for f in check(layout1.parent).findings}
    assert found == {(Code.EXTRA_INDEX_ENTRY, "index/containers/ab2")} | {
        (code, f"index/containers/{shard}/{name}")
        for name in left
        for code, shard in ((Code.EXTRA_INDEX_ENTRY, "ab"), (Code.MISSING_INDEX_ENTRY, "ab2"))
    }
    result = subprocess.run(
        [sys.executable, "-m", "fsstate", "--root", str(layout1.parent), "fsck", "--repair"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert check(layout1.parent).findings == ()
    with FileState(layout1.parent, tmp_path / "tmp") as state:
        assert state.lookup_container("ab2f").name == "c3"


@pytest.fixture
def read_only_layout1(tmp_path: Path) -> Iterator[Path]:
    """The layout-1 store, replayed and settled by a read-write open of layout 1's kind (its
    FORMAT put back), and a read-only bind mount of its static dir (returned)."""
    if os.geteuid() != 0:
        pytest.skip("bind mounts need root")
    store = extract(tmp_path / "static")
    mnt = tmp_path / "ro"
    mnt.mkdir()
    subprocess.run(["mount", "--bind", str(store.parent), str(mnt)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(mnt)], check=True)
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_a_layout_1_store_on_a_read_only_mount_is_refused(
    read_only_layout1: Path, tmp_path: Path
) -> None:
    """It cannot be upgraded there: refused naming FORMAT, nothing written."""
    with pytest.raises(errors.CorruptDocumentError) as info:
        FileState(read_only_layout1, tmp_path / "tmp", create=False)
    assert info.value.path == str(read_only_layout1 / L.STORE_DIR / L.FORMAT)
    assert "open it read-write once" in info.value.message
    assert (read_only_layout1 / L.STORE_DIR / L.FORMAT).read_bytes() == b"fsstate-layout 1\n"
