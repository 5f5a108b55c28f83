"""Tests for fsstate.podman.bolt, the read-only BoltDB reader.

Two fixtures in tests/data/bolt/:

* ``osv-scalibr-real.bolt_state.db``: a real Podman ``bolt_state.db`` (4 KiB pages, leaf
  pages only, overflow pages, inline buckets) with its reference dump.
* ``branchy.bolt``: written by bbolt 1.3.6 itself (``gen/main.go``) with 1 KiB pages, a
  three-level branch tree, a non-UTF-8 value and the current meta in page 1; its dump was made
  by bbolt's own cursor walk.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest
from bolt_dump import dump
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fsstate.errors import CorruptDocumentError, StateClosedError
from fsstate.podman.bolt import BoltReader, Bucket

DATA = Path(__file__).parent / "data" / "bolt"
REAL = DATA / "osv-scalibr-real.bolt_state.db"
REAL_DUMP = DATA / "osv-scalibr-real.bolt_state.dump.json"
BRANCHY = DATA / "branchy.bolt"
BRANCHY_DUMP = DATA / "branchy.dump.json"

HELLO = b"37948ee253b61cbfcc5e01416078909223e3e02d9b2a6d199f0521c861a60058"
REDIS = b"f2d9ac5a8800b2b449893e70a12d1e9987a16a689c04ab6c9b9994c0e9a21add"
VOLUME = b"121975a562b4fb9bafdb605ae748d36bb1df8e06ae99d193538dc19cc4e8ad2f"

# Pages of the fixtures, checked by _page_header below before a test breaks them.
REAL_PS, BRANCHY_PS = 4096, 1024
REAL_ROOT_LEAF = 4  # the root bucket: 13 top-level buckets, most of them inline
REAL_OVERFLOW_LEAF = 9  # ctr/<redis>: a leaf page with 3 overflow pages
BRANCHY_MANY_ROOT = 61  # bucket "many": a branch page over two branch pages (3 and 49)
BRANCHY_BIG_ROOT = 53  # bucket "big": a leaf page with overflow; holds bucket "a" (page 52)


def _reference(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text())
    doc.pop("_provenance", None)  # added by hand to the reference, not in the Bolt file
    return doc


def _copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / src.name
    shutil.copyfile(src, dst)
    return dst


def _patch(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def _page_header(path: Path, page_size: int, pgid: int) -> tuple[int, int, int, int]:
    with open(path, "rb") as f:
        f.seek(pgid * page_size)
        header: tuple[int, int, int, int] = struct.unpack("<QHHI", f.read(16))
        return header


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_corrupt(path: Path, *pages: int) -> CorruptDocumentError:
    with pytest.raises(CorruptDocumentError) as info:
        dump(path)
    error = info.value
    assert type(error) is CorruptDocumentError
    assert error.path == str(path)
    assert str(path) in str(error)
    for pgid in pages:
        assert f"page {pgid}" in str(error)
    return error


# -- reading the real file ---------------------------------------------------------------------


def test_dump_equals_reference_dump() -> None:
    """dump() of the real file equals the reference dump, key order included."""
    mine, reference = dump(REAL), _reference(REAL_DUMP)
    assert mine == reference
    assert json.dumps(mine, indent=1) == json.dumps(reference, indent=1)


def test_dump_equals_bbolts_own_walk() -> None:
    """dump() of the bbolt-written branchy file equals bbolt's own cursor walk."""
    assert dump(BRANCHY) == _reference(BRANCHY_DUMP)


def test_podman_registries() -> None:
    """The registries list the 2 containers and mirror each other."""
    with BoltReader(REAL) as db:
        names = {HELLO: b"angry_archimedes", REDIS: b"redis_apple"}
        assert dict(_items(db, b"all-ctrs")) == names
        assert dict(_items(db, b"id-registry")) == names
        assert dict(_items(db, b"name-registry")) == {v: k for k, v in names.items()}
        assert dict(_items(db, b"allVolumes")) == {VOLUME: VOLUME}
        for empty in (b"allPods", b"exec", b"pod", b"volume-ctrs"):
            assert list(_items(db, empty)) == []
        assert dict(_items(db, b"exit-code")) == {HELLO: b"0"}
        stamp = _bucket(db, b"exit-code-time-stamp").get(HELLO)
        assert stamp == b"2025-03-25T18:04:50.675556901+01:00"
        config = dict(_items(db, b"runtime-config"))
        assert config[b"os"] == b"linux"
        assert config[b"graph-driver-name"] == b"overlay"
        assert sorted(config) == sorted(
            [
                b"os",
                b"static-dir",
                b"tmp-dir",
                b"run-root",
                b"graph-root",
                b"graph-driver-name",
                b"volume-path",
            ]
        )


def test_podman_containers() -> None:
    """Each ctr/<id> bucket holds config and state JSON and an empty dependencies bucket."""
    with BoltReader(REAL) as db:
        ctrs = _bucket(db, b"ctr")
        assert [name for name, _ in ctrs.buckets()] == [HELLO, REDIS]
        assert list(ctrs.items()) == []
        states = {}
        for ctr_id, ctr in ctrs.buckets():
            config = json.loads(_get(ctr, b"config"))
            assert config["id"] == ctr_id.decode()
            states[config["name"]] = json.loads(_get(ctr, b"state"))["state"]
            assert [k for k, _ in ctr.items()] == [b"config", b"state"]
            assert [k for k, _ in ctr.buckets()] == [b"dependencies"]
            assert list(_bucket(db, b"ctr", ctr_id, b"dependencies").items()) == []
        assert states == {"angry_archimedes": 6, "redis_apple": 3}  # exited, running


def test_podman_volume() -> None:
    """vol/<name> holds config, state and the container that uses it."""
    with BoltReader(REAL) as db:
        vol = _bucket(db, b"vol", VOLUME)
        assert json.loads(_get(vol, b"config"))["name"] == VOLUME.decode()
        assert json.loads(_get(vol, b"state")) == {"mountCount": 0, "notYetMounted": True}
        assert dict(_bucket(vol, b"vol-dependencies").items()) == {REDIS: REDIS}


def test_missing_names_and_kind_mismatches() -> None:
    """Absent names give None; get() skips buckets and bucket() skips plain keys."""
    with BoltReader(REAL) as db:
        assert db.bucket(b"nope") is None
        assert db.bucket(b"ctr", b"nope", b"state") is None
        assert db.bucket(b"runtime-config", b"os") is None
        assert db.bucket() is not None  # the root bucket
        ctr = _bucket(db, b"ctr", HELLO)
        assert ctr.get(b"dependencies") is None
        assert ctr.bucket(b"config") is None
        assert ctr.get(b"") is None
        assert ctr.get(b"zzz") is None


def test_reading_leaves_the_file_unchanged(tmp_path: Path) -> None:
    """Reading a read-only copy works and leaves its bytes and mtime as they were."""
    path = _copy(REAL, tmp_path)
    path.chmod(0o444)
    before, mtime = _sha256(path), path.stat().st_mtime_ns
    dump(path)
    with BoltReader(path) as db:
        list(_bucket(db, b"ctr").buckets())
    assert _sha256(path) == before
    assert path.stat().st_mtime_ns == mtime


def test_close_then_read_raises_state_closed() -> None:
    """A bucket used after its reader is closed raises StateClosedError."""
    db = BoltReader(REAL)
    ctr = _bucket(db, b"ctr")
    db.close()
    with pytest.raises(StateClosedError):
        list(ctr.items())


# -- reading the bbolt-written branchy file ---------------------------------------------------


def test_branch_pages_lookup_and_order() -> None:
    """Every key of a three-level tree is found by get() and listed in key order."""
    with BoltReader(BRANCHY) as db:
        assert (db.page_size, db.txid) == (BRANCHY_PS, 3)  # meta page 1 is the current one
        many = _bucket(db, b"many")
        keys = [f"key-{i:04d}".encode() for i in range(600)]
        assert [k for k, _ in many.items()] == keys
        for i, key in enumerate(keys[1:], start=1):
            assert many.get(key) == f"value {i * i}".encode()
        assert many.get(b"key-0000") == b"changed"
        for absent in (b"", b"a", b"key-0281x", b"key-0600", b"zzz"):
            assert many.get(absent) is None


def test_overflow_inline_nested_and_binary_values() -> None:
    """Overflow pages, inline and empty buckets and non-UTF-8 values read back as written."""
    with BoltReader(BRANCHY) as db:
        big = _bucket(db, b"big")
        assert big.get(b"config") == b'{"x":"0123456789"}' * 300
        assert big.get(b"binary") == b"\x00\xff\xfe\x80"
        assert _get(_bucket(db, b"big", b"a", b"b", b"c"), b"deep") == b"yes"
        assert list(_bucket(db, b"empty").items()) == []
    assert dump(BRANCHY)["tree"]["big"]["__bucket__"]["binary"] == {"__hex__": "00fffe80"}


def test_falls_back_to_the_other_meta(tmp_path: Path) -> None:
    """With one meta page broken, the reader uses the other one."""
    path = _copy(BRANCHY, tmp_path)
    _patch(path, BRANCHY_PS + 16, b"\0\0\0\0")  # magic of page 1, the current meta
    with BoltReader(path) as db:
        assert db.txid == 2
        assert _get(_bucket(db, b"many"), b"key-0000") == b"value 0"
    path = _copy(BRANCHY, tmp_path)
    _patch(path, 16, b"\0\0\0\0")  # page 0: page 1 must be found at offset 1024 unaided
    with BoltReader(path) as db:
        assert (db.page_size, db.txid) == (BRANCHY_PS, 3)


# -- malformed input --------------------------------------------------------------------------


def test_text_file(tmp_path: Path) -> None:
    """A text file is rejected, naming both meta pages."""
    path = tmp_path / "notes.txt"
    path.write_text("this is not a Bolt file\n" * 400)
    _assert_corrupt(path, 0, 1)


def test_empty_file(tmp_path: Path) -> None:
    """An empty file is rejected, naming both meta pages."""
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    _assert_corrupt(path, 0, 1)


def test_truncated_to_half(tmp_path: Path) -> None:
    """A file cut short of the meta's high-water mark names the last page it must hold."""
    path = _copy(REAL, tmp_path)
    os.truncate(path, REAL.stat().st_size // 2)
    _assert_corrupt(path, 26)


def test_both_metas_corrupted(tmp_path: Path) -> None:
    """Both meta pages failing their checksum is reported for each."""
    path = _copy(REAL, tmp_path)
    for meta in (0, 1):
        _patch(path, meta * REAL_PS + 16 + 48, b"\x99")  # a txid byte, under the checksum
    error = _assert_corrupt(path, 0, 1)
    assert "checksum" in str(error)


@pytest.mark.parametrize(
    ("fixture", "page_size", "pgid", "flags", "offset", "garbage"),
    [
        (REAL, REAL_PS, REAL_ROOT_LEAF, 0x02, 0, b"\xff" * REAL_PS),
        (REAL, REAL_PS, REAL_OVERFLOW_LEAF, 0x02, 0, bytes(REAL_PS)),
        (REAL, REAL_PS, REAL_OVERFLOW_LEAF, 0x02, 16, b"\xff" * 64),  # element offsets
        (REAL, REAL_PS, REAL_ROOT_LEAF, 0x02, 8, b"\x20\x00"),  # unknown page flag
        (BRANCHY, BRANCHY_PS, BRANCHY_MANY_ROOT, 0x01, 0, b"\xa5" * BRANCHY_PS),
        (BRANCHY, BRANCHY_PS, BRANCHY_MANY_ROOT, 0x01, 16, b"\xff" * 32),
    ],
    ids=[
        "leaf-ff",
        "overflow-leaf-zeroed",
        "leaf-elements",
        "leaf-flag",
        "branch-a5",
        "branch-elements",
    ],
)
def test_broken_page(
    tmp_path: Path,
    fixture: Path,
    page_size: int,
    pgid: int,
    flags: int,
    offset: int,
    garbage: bytes,
) -> None:
    """A branch or leaf page overwritten with junk is reported by its page id."""
    assert _page_header(fixture, page_size, pgid)[:2] == (pgid, flags)
    path = _copy(fixture, tmp_path)
    _patch(path, pgid * page_size + offset, garbage)
    _assert_corrupt(path, pgid)


def test_branch_child_out_of_range(tmp_path: Path) -> None:
    """A branch element pointing past the high-water mark names the bad page id."""
    path = _copy(BRANCHY, tmp_path)
    _patch(path, BRANCHY_MANY_ROOT * BRANCHY_PS + 16 + 8, struct.pack("<Q", 10**6))
    _assert_corrupt(path, 10**6)


def test_branch_cycle(tmp_path: Path) -> None:
    """A branch page that lists itself as a child is a cycle, not an endless walk."""
    path = _copy(BRANCHY, tmp_path)
    _patch(path, BRANCHY_MANY_ROOT * BRANCHY_PS + 16 + 8, struct.pack("<Q", BRANCHY_MANY_ROOT))
    error = _assert_corrupt(path, BRANCHY_MANY_ROOT)
    assert "twice" in str(error)
    with BoltReader(path) as db, pytest.raises(CorruptDocumentError):
        _bucket(db, b"many").get(b"key-0001")


def test_nested_bucket_loops_back(tmp_path: Path) -> None:
    """A nested bucket whose root is its parent's root page is a cycle."""
    path = _copy(BRANCHY, tmp_path)
    page = BRANCHY_BIG_ROOT * BRANCHY_PS
    data = bytearray(path.read_bytes())
    # The leaf element "a" in big's root page: key b"a", then the bucket header (root 52, seq 0).
    at = data.index(b"a" + struct.pack("<QQ", 52, 0), page, page + BRANCHY_PS) + 1
    data[at : at + 8] = struct.pack("<Q", BRANCHY_BIG_ROOT)
    path.write_bytes(bytes(data))
    _assert_corrupt(path, BRANCHY_BIG_ROOT)
    with BoltReader(path) as db, pytest.raises(CorruptDocumentError, match="page 53"):
        _bucket(db, b"big", b"a")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fixture=st.sampled_from([REAL, BRANCHY]),
    edits=st.lists(
        st.tuples(st.integers(0, 2**17 - 1), st.binary(min_size=1, max_size=8)),
        min_size=1,
        max_size=6,
    ),
    cut=st.one_of(st.none(), st.integers(0, 2**17)),
)
def test_random_damage_never_escapes(
    tmp_path_factory: pytest.TempPathFactory,
    fixture: Path,
    edits: list[tuple[int, bytes]],
    cut: int | None,
) -> None:
    """Random byte damage either still reads or raises CorruptDocumentError, nothing else."""
    data = bytearray(fixture.read_bytes())
    for offset, chunk in edits:
        data[offset : offset + len(chunk)] = chunk
    path = tmp_path_factory.mktemp("fuzz") / "damaged.db"
    path.write_bytes(bytes(data[:cut]))
    try:
        json.dumps(dump(path))
    except CorruptDocumentError as error:
        assert error.path == str(path)
        assert "page " in str(error)


# -- helpers ----------------------------------------------------------------------------------


def _bucket(where: BoltReader | Bucket, *names: bytes) -> Bucket:
    found = where.bucket(*names) if isinstance(where, BoltReader) else where.bucket(names[0])
    assert found is not None, names
    return found


def _items(db: BoltReader, name: bytes) -> list[tuple[bytes, bytes]]:
    return list(_bucket(db, name).items())


def _get(bucket: Bucket, key: bytes) -> bytes:
    value = bucket.get(key)
    assert value is not None, key
    return value
