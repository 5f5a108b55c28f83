"""Only creating calls create a store, and a healthy store reads on a read-only mount (issue 8,
points 5 and 6)."""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import container_id, dump_store, new_container, new_pod, new_volume
from corrupt.builders import build_store

from fsstate import FileState, errors
from fsstate.store import layout as L
from fsstate.store.snapshot import snapshot
from fsstate.store.storage import FileStorage


def tree_digest(root: Path) -> dict[str, str]:
    """Every entry under ``root`` with its kind, mode and contents: equal means untouched."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        body = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        out[str(path.relative_to(root))] = f"{oct(st.st_mode)} {st.st_mtime_ns} {body}"
    return out


@pytest.mark.parametrize("exists", [False, True], ids=["no-directory", "empty-directory"])
def test_create_false_creates_nothing(tmp_path: Path, exists: bool) -> None:
    static = tmp_path / "static"
    if exists:
        static.mkdir()
    with pytest.raises(errors.NoSuchStoreError) as info:
        FileState(static, tmp_path / "tmp", create=False)
    assert info.value.path == str(static / L.STORE_DIR)
    assert isinstance(info.value, errors.NotFoundError)
    assert sorted(p.name for p in tmp_path.iterdir()) == (["static"] if exists else [])
    assert not (static / L.STORE_DIR).exists()


def test_create_false_needs_the_format_file(tmp_path: Path) -> None:
    (tmp_path / "static" / L.STORE_DIR).mkdir(parents=True)
    with pytest.raises(errors.NoSuchStoreError):
        FileStorage(str(tmp_path / "static"), create=False)
    assert list((tmp_path / "static" / L.STORE_DIR).iterdir()) == []


def test_create_false_opens_an_existing_store(tmp_path: Path) -> None:
    with FileState(tmp_path / "static", tmp_path / "tmp") as st:
        st.add_container(new_container(1))
    with FileState(tmp_path / "static", tmp_path / "tmp", create=False) as st:
        assert [c.id for c in st.all_containers()] == [container_id(1)]


def test_snapshot_of_no_store_creates_none(tmp_path: Path) -> None:
    with pytest.raises(errors.NoSuchStoreError):
        snapshot(tmp_path / "static", tmp_path / "copy")
    assert list(tmp_path.iterdir()) == []


# -- read-only mounts ------------------------------------------------------------------------


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A healthy store, and a read-only bind mount of its static dir (returned)."""
    if os.geteuid() != 0:
        pytest.skip("bind mounts need root")
    static = tmp_path / "static"
    build_store(static)
    mnt = tmp_path / "ro"
    mnt.mkdir()
    subprocess.run(["mount", "--bind", str(static), str(mnt)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(mnt)], check=True)
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_reads_on_a_read_only_mount(tmp_path: Path, read_only: Path) -> None:
    with FileState(tmp_path / "static", tmp_path / "tmp1") as st:
        expected = dump_store(st)
    before = tree_digest(read_only)
    with FileState(read_only, tmp_path / "tmp2", create=False) as st:
        assert dump_store(st) == expected
        assert st.lookup_container("test1").id == container_id(1)
        with pytest.raises(OSError) as info:
            st.add_volume(new_volume("new"))
        assert info.value.errno == errno.EROFS
        with pytest.raises(OSError) as info:
            st.add_pod(new_pod(8))
        assert info.value.errno == errno.EROFS
        assert [v.name for v in st.all_volumes()] == ["vol1", "vol2"]
    assert tree_digest(read_only) == before


def test_read_only_mount_sees_commits_made_elsewhere(tmp_path: Path, read_only: Path) -> None:
    """The read-only view drops its cache when the read-write side commits."""
    with FileState(read_only, tmp_path / "tmp2", create=False) as reader:
        ctr = reader.container(container_id(5))
        reader.update_container(ctr)
        with FileState(tmp_path / "static", tmp_path / "tmp1") as writer:
            stored = writer.container(container_id(5))
            stored.state = {"state": 6, "exitCode": 3}
            writer.save_container(stored)
        reader.update_container(ctr)
        assert ctr.state == {"state": 6, "exitCode": 3}


def test_pending_commit_on_a_read_only_mount(tmp_path: Path, read_only: Path) -> None:
    """A commit durable in the journal but not applied cannot be recovered read-only: refused
    naming the journal, nothing written; read-write, it is recovered."""
    storage = FileStorage(str(tmp_path / "static"))
    with storage.locked():
        gen = storage.journal.read_generation()
        record = storage.journal.encode(
            gen.number + 1, [("put", "volumes/late/config.json", b"{}")]
        )
        storage.journal.write(gen.applied, record)  # the commit point, and then "kill -9"
    storage.close()
    before = tree_digest(read_only)
    with pytest.raises(errors.CorruptDocumentError) as info:
        FileState(read_only, tmp_path / "tmp2", create=False)
    assert info.value.path == str(read_only / L.STORE_DIR / L.JOURNAL)
    assert "read-only" in info.value.message
    assert tree_digest(read_only) == before
    FileStorage(str(tmp_path / "static")).close()
    assert (
        tmp_path / "static" / L.STORE_DIR / "volumes" / "late" / "config.json"
    ).read_bytes() == b"{}"


@pytest.mark.parametrize(
    "torn", [b"", b"fsstate-layout", b"fsstate-lay" + bytes(6), bytes(17)], ids=repr
)
def test_a_format_file_torn_while_the_store_was_created_is_written_again(
    tmp_path: Path, torn: bytes
) -> None:
    """A power loss while a store is created can leave ``FORMAT`` with only the start of its
    line (found by tests/crash/test_power_loss.py with 12 random subsets): no store was
    created on it (it is synced first), so opening writes it whole."""
    top = tmp_path / "static" / L.STORE_DIR
    top.mkdir(parents=True)
    (top / L.FORMAT).write_bytes(torn)
    with FileState(tmp_path / "static", tmp_path / "tmp") as st:
        st.add_container(new_container(1))
    assert (top / L.FORMAT).read_bytes() == f"fsstate-layout {L.FORMAT_VERSION}\n".encode()
    with FileState(tmp_path / "static", tmp_path / "tmp", create=False) as st:
        assert [c.id for c in st.all_containers()] == [container_id(1)]


@pytest.mark.parametrize("foreign", [b"fsstate-layoux 2\n", b"fsstate-layout x\n", b"{}"])
def test_a_foreign_format_file_is_refused_and_left_alone(tmp_path: Path, foreign: bytes) -> None:
    top = tmp_path / "static" / L.STORE_DIR
    top.mkdir(parents=True)
    (top / L.FORMAT).write_bytes(foreign)
    with pytest.raises(errors.CorruptDocumentError) as info:
        FileState(tmp_path / "static", tmp_path / "tmp")
    assert info.value.path == str(top / L.FORMAT)
    assert (top / L.FORMAT).read_bytes() == foreign
