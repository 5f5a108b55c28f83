"""Tests for fsstate.store.fsio's store tree and file publishing, on real files.

Modes (files 0600, directories 0700), atomic replacement through temporary files that
listings never show, idempotent deletes, and no symlink ever followed out of the tree.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from fsstate import errors
from fsstate.store import fsio
from fsstate.store.fsio import Tree
from fsstate.store.layout import temp_name


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "store").mkdir(mode=0o700)
    return tmp_path / "store"


@pytest.fixture
def tree(root: Path) -> Iterator[Tree]:
    t = Tree(str(root))
    yield t
    t.close()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_put_creates_parents_0700_and_files_0600(tree: Tree, root: Path) -> None:
    old = os.umask(0)  # the modes are fsstate's own, whatever the umask
    try:
        tree.put("a/b/doc.json", b'{"x": 1}')
    finally:
        os.umask(old)
    assert (root / "a" / "b" / "doc.json").read_bytes() == b'{"x": 1}'
    assert (mode(root / "a"), mode(root / "a" / "b")) == (0o700, 0o700)
    assert mode(root / "a" / "b" / "doc.json") == 0o600


def test_read_exists_listdir(tree: Tree, root: Path) -> None:
    tree.put("d/one", b"1")
    tree.put("d/two", b"22")
    (root / "d" / temp_name(1, 2)).write_bytes(b"half a document")
    assert (tree.read("d/one"), tree.read("d/two"), tree.read("d/none")) == (b"1", b"22", None)
    assert (tree.exists("d/one"), tree.exists("d"), tree.exists("d/none")) == (True, True, False)
    assert tree.listdir("d") == ["one", "two"]  # the temporary file is not listed
    assert tree.listdir("nowhere") == []
    assert tree.read("nowhere/deeper") is None


def test_put_replaces_whole_and_leaves_no_temporary_file(tree: Tree, root: Path) -> None:
    tree.put("d/doc", b"first version, longer")
    inode = (root / "d" / "doc").stat().st_ino
    tree.put("d/doc", b"second")
    assert tree.read("d/doc") == b"second"
    assert (root / "d" / "doc").stat().st_ino != inode  # a new file renamed over the old
    assert sorted(os.listdir(root / "d")) == ["doc"]


def test_an_empty_marker_is_created_in_place_and_kept(tree: Tree, root: Path) -> None:
    tree.put("idx/entry", b"")
    inode = (root / "idx" / "entry").stat().st_ino
    tree.put("idx/entry", b"")
    assert (root / "idx" / "entry").stat().st_ino == inode
    assert tree.read("idx/entry") == b""
    tree.put("idx/entry", b"now with data")
    assert tree.read("idx/entry") == b"now with data"


def test_delete_and_rmdir_are_idempotent(tree: Tree, root: Path) -> None:
    tree.put("d/sub/f", b"x")
    tree.rmdir("d/sub")  # not empty: left for fsck, no error
    assert (root / "d" / "sub" / "f").exists()
    tree.delete("d/sub/f")
    tree.delete("d/sub/f")
    tree.delete("missing/parent/f")
    tree.rmdir("d/sub")
    tree.rmdir("d/sub")
    assert os.listdir(root / "d") == []


def test_a_symlink_in_the_tree_is_never_followed(tree: Tree, root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"not yours")
    (root / "link").symlink_to(outside)
    (root / "d").mkdir()
    (root / "d" / "doc").symlink_to(outside / "secret")
    for rel in ("link/secret", "d/doc"):
        with pytest.raises(errors.CorruptDocumentError) as exc:
            tree.read(rel)
        assert exc.value.path == str(root / rel)
    with pytest.raises(errors.CorruptDocumentError):
        tree.put("link/new", b"x")
    assert tree.exists("d/doc") is True  # found, not followed
    assert sorted(os.listdir(outside)) == ["secret"]
    assert (outside / "secret").read_bytes() == b"not yours"


def test_remove_temp_files_removes_only_temporary_files(tree: Tree, root: Path) -> None:
    tree.put("a/b/doc", b"keep")
    for rel in (temp_name(7, 1), f"a/{temp_name(7, 2)}", f"a/b/{temp_name(8, 1)}"):
        (root / rel).write_bytes(b"torn")
    assert tree.remove_temp_files() == 3
    assert tree.remove_temp_files() == 0
    assert sorted(p.name for p in root.rglob("*")) == ["a", "b", "doc"]


def test_publish_file_never_replaces_without_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "db.sql"
    target.write_bytes(b"old")
    tmp = tmp_path / "new.tmp"
    tmp.write_bytes(b"new")
    with pytest.raises(FileExistsError):
        fsio.publish_file(str(tmp), str(target), overwrite=False)
    assert target.read_bytes() == b"old"
    fsio.publish_file(str(tmp), str(target), overwrite=True)
    assert target.read_bytes() == b"new"
    assert not tmp.exists()
    fresh = tmp_path / "fresh.tmp"
    fresh.write_bytes(b"fresh")
    fsio.publish_file(str(fresh), str(tmp_path / "other.sql"), overwrite=False)
    assert (tmp_path / "other.sql").read_bytes() == b"fresh"
    assert not fresh.exists()


def test_make_dirs_makes_the_directory_0700_and_parents_like_mkdir_p(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        fsio.make_dirs(str(tmp_path / "x" / "y" / "z"))
        fsio.make_dirs(str(tmp_path / "x" / "y" / "z"))  # existing: no error
    finally:
        os.umask(old)
    assert [mode(tmp_path / p) for p in ("x", "x/y", "x/y/z")] == [0o755, 0o755, 0o700]
