"""Tests for fsstate.podman.bolt_write, the BoltDB writer: what it writes reads back through
fsstate's reader (and, in tests/real_podman/, through the real Podman's bbolt) as the same tree."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path
from typing import Any

import pytest
from bolt_dump import dump
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fsstate.podman.bolt import BoltReader, Bucket, _fnv1a64
from fsstate.podman.bolt_write import build, write

DATA = Path(__file__).parent / "data"
REAL_FILES = [
    DATA / "bolt" / "osv-scalibr-real.bolt_state.db",
    DATA / "bolt" / "branchy.bolt",
    DATA / "podman43" / "varied_bolt_state.db.gz",
]


def read_tree(bucket: Bucket) -> dict[bytes, Any]:
    tree: dict[bytes, Any] = dict(bucket.items())
    tree.update((name, read_tree(sub)) for name, sub in bucket.buckets())
    return tree


def written(tmp_path: Path, tree: dict[bytes, Any], page_size: int = 4096) -> Path:
    path = tmp_path / "out.db"
    path.unlink(missing_ok=True)
    write(path, tree, page_size)
    return path


def _page(data: bytes, pgid: int, page_size: int) -> tuple[int, int, int, int]:
    id_, flags, count, overflow = struct.unpack_from("<QHHI", data, pgid * page_size)
    return id_, flags, count, overflow


def _source(path: Path, tmp_path: Path) -> Path:
    if path.suffix != ".gz":
        return path
    plain = tmp_path / path.stem
    plain.write_bytes(gzip.decompress(path.read_bytes()))
    return plain


@pytest.mark.parametrize("source", REAL_FILES, ids=lambda p: p.name)
def test_real_files_rebuilt_read_back_identical(source: Path, tmp_path: Path) -> None:
    """Every bucket, key and value of real bbolt files (Podman 4.3, an older Podman, bbolt's
    own 1 KiB-page tree) survives reader → writer → reader, at the source's page size."""
    src = _source(source, tmp_path)
    with BoltReader(src) as reader:
        tree, page_size = read_tree(reader.root()), reader.page_size
    out = written(tmp_path, tree, page_size)
    assert dump(out)["tree"] == dump(src)["tree"]
    assert dump(out)["pageSize"] == page_size


def test_layout_metas_freelist_and_size(tmp_path: Path) -> None:
    """Two valid metas (txid 0 and 1) naming the same root, an empty freelist at page 2, and a
    file exactly ``pgid`` pages long: what bbolt checks when it opens a file."""
    data = build({b"a": {b"k": b"v"}, b"b": {}})
    size = 4096
    assert len(data) % size == 0
    for pgid in (0, 1):
        assert _page(data, pgid, size) == (pgid, 0x04, 0, 0)
        body = data[pgid * size + 16 : pgid * size + 16 + 56]
        fields = struct.unpack("<IIIIQQQQQ", body)
        magic, version, page_size, flags, root, seq, freelist, high_water, txid = fields
        assert (magic, version, page_size, flags, seq) == (0xED0CDAED, 2, 4096, 0, 0)
        assert (freelist, txid, high_water) == (2, pgid, len(data) // size)
        assert root == 3  # the root's only page: both buckets are inline
        (checksum,) = struct.unpack_from("<Q", data, pgid * size + 16 + 56)
        assert checksum == _fnv1a64(body)
    assert _page(data, 2, size) == (2, 0x10, 0, 0)
    assert _page(data, 3, size) == (3, 0x02, 2, 0)


def test_small_leaf_buckets_are_inline_large_or_nested_are_not(tmp_path: Path) -> None:
    """bbolt's inlineable rule: only plain values, and the leaf within a quarter page."""
    small = {b"k%d" % i: b"v" for i in range(10)}  # 16 + 10 * (16 + 3) = 206 bytes
    big = {b"k%d" % i: b"v" * 100 for i in range(10)}  # > 1024 bytes
    nested: dict[bytes, Any] = {b"inner": {}}
    path = written(tmp_path, {b"top": {b"small": small, b"big": big, b"nested": nested}})
    with BoltReader(path) as reader:
        top = reader.bucket(b"top")
        assert top is not None
        raw = {k: v for k, v in _raw_leaf(path, top)}
        assert struct.unpack_from("<Q", raw[b"small"])[0] == 0
        assert len(raw[b"small"]) == 16 + 206
        assert struct.unpack_from("<Q", raw[b"big"])[0] != 0
        assert len(raw[b"big"]) == len(raw[b"nested"]) == 16
        assert read_tree(top) == {b"small": small, b"big": big, b"nested": nested}


def _raw_leaf(path: Path, bucket: Bucket) -> list[tuple[bytes, bytes]]:
    """The raw (key, value) elements of a bucket whose root is one leaf page."""
    return [(k, v) for _, k, v, _ in bucket._entries(set())]


def test_many_keys_make_branch_pages(tmp_path: Path) -> None:
    """2,000 keys with 1 KiB pages need two branch levels; lookups and order still work."""
    many = {b"key-%05d" % i: b"value-%d" % i for i in range(2000)}
    path = written(tmp_path, {b"many": many}, page_size=1024)
    data = path.read_bytes()
    with BoltReader(path) as reader:
        bucket = reader.bucket(b"many")
        assert bucket is not None
        assert list(bucket.items()) == sorted(many.items())
        assert bucket.get(b"key-01234") == b"value-1234"
        assert bucket.get(b"key-99999") is None
        root = bucket._root
    root_flags = _page(data, root, 1024)[1]
    assert root_flags == 0x01  # a branch page
    (child,) = struct.unpack_from("<Q", data, root * 1024 + 16 + 8)
    assert _page(data, child, 1024)[1] == 0x01  # another branch level below it


def test_values_larger_than_a_page_use_overflow_pages(tmp_path: Path) -> None:
    big = bytes(range(256)) * 40  # 10 KiB
    path = written(tmp_path, {b"b": {b"big": big, b"after": b"x"}})
    with BoltReader(path) as reader:
        bucket = reader.bucket(b"b")
        assert bucket is not None
        assert bucket.get(b"big") == big
        assert bucket.get(b"after") == b"x"
        root = bucket._root
    data = path.read_bytes()
    assert _page(data, root, 4096)[1:] == (0x01, 2, 0)  # a branch over two leaves
    first, second = (
        struct.unpack_from("<Q", data, root * 4096 + 16 + i * 16 + 8)[0] for i in (0, 1)
    )
    assert _page(data, first, 4096)[1:] == (0x02, 1, 0)  # "after" alone on one page
    assert _page(data, second, 4096)[1:] == (0x02, 1, 2)  # "big" over 3 pages


@pytest.mark.parametrize(
    ("tree", "page_size", "message"),
    [
        ({b"plain": b"value"}, 4096, "root bucket holds plain key b'plain'"),
        ({b"b": {b"": b"v"}}, 4096, "bucket /b'b': key b'' is not 1 to 32768 bytes"),
        ({b"b": {b"k" * 32769: b"v"}}, 4096, "is not 1 to 32768 bytes"),
        ({b"b": {"text": b"v"}}, 4096, "key 'text' is not 1 to 32768 bytes"),
        ({b"b": {b"k": "text"}}, 4096, "key b'k' holds str"),
        ({b"b": {}}, 3000, "page size 3000 is not a power of two"),
        ({b"b": {}}, 512, "page size 512 is not a power of two"),
    ],
)
def test_bad_trees_raise_value_error(tree: Any, page_size: int, message: str) -> None:
    with pytest.raises(ValueError) as info:
        build(tree, page_size)
    assert message in str(info.value)


def test_write_never_replaces_a_file(tmp_path: Path) -> None:
    path = tmp_path / "out.db"
    path.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        write(path, {b"b": {}})
    assert path.read_bytes() == b"keep"


_keys = st.binary(min_size=1, max_size=40)
_trees = st.recursive(
    st.dictionaries(_keys, st.binary(max_size=3000), max_size=8),
    lambda children: st.dictionaries(_keys, st.binary(max_size=300) | children, max_size=12),
    max_leaves=60,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    tree=st.dictionaries(_keys, _trees, max_size=6),
    page_size=st.sampled_from([1024, 4096]),
)
def test_any_tree_reads_back_identical(
    tree: dict[bytes, Any], page_size: int, tmp_path: Path
) -> None:
    path = written(tmp_path, tree, page_size)
    with BoltReader(path) as reader:
        assert read_tree(reader.root()) == tree
