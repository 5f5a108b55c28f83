"""The layout's catalog (``layout.KINDS``, ``layout.INDEXES``): its patterns are the ones the
module docstring and ``docs/layout.md`` show people, every index is filled by the State's
catalog, and ``place`` gives every path of the catalog its role and nothing else one."""

from __future__ import annotations

from pathlib import Path

import pytest

from fsstate.state.catalog import KEYS
from fsstate.store import layout as L

DOCS = (Path(__file__).parent.parent / "docs" / "layout.md").read_text(encoding="utf-8")


def doc_patterns() -> list[str]:
    return [f"{k.top}/<{k.key}>/{doc}.json" for k in L.KINDS for doc in k.docs]


@pytest.mark.parametrize("pattern", [i.pattern for i in L.INDEXES] + doc_patterns())
def test_every_pattern_is_documented(pattern: str) -> None:
    assert L.__doc__ is not None
    assert pattern in L.__doc__
    assert f"`{pattern}`" in DOCS or f"  {pattern} " in DOCS


def test_every_index_is_filled_by_the_catalog() -> None:
    assert set(KEYS) == set(L.INDEXES)


@pytest.mark.parametrize("index", L.INDEXES, ids=lambda i: i.pattern)
def test_an_entry_reads_back_as_its_keys(index: L.Index) -> None:
    keys = tuple(f"k{n}x" for n, part in enumerate(index.parts) if part[0] == "<")
    keys = keys[1:] if index.sharded else keys  # <shard> is derived, not given
    path = index.path(*keys)
    assert index.keys(path) == keys
    assert L.index_of(path) is index
    assert L.place(path.split("/"), False) == "index"
    assert L.place(path.split("/"), True) == ""
    parent = path.rsplit("/", 1)[0]
    assert index.dir(*([L.shard(keys[0])] if index.sharded else list(keys[:-1]))) == parent
    assert L.place(parent.split("/"), True) == "dir"


def test_a_wrong_shard_is_no_entry() -> None:
    assert L.CONTAINER_IDS.keys("index/containers/zz/abc") is None
    assert L.index_of("index/containers/zz/abc") is None


@pytest.mark.parametrize(
    ("path", "is_dir", "role"),
    [
        ("FORMAT", False, "control"),
        ("journal", True, ""),
        ("dbconfig.json", False, "doc"),
        ("quarantine", True, "skip"),
        ("containers", True, "dir"),
        ("containers/abc", True, "dir"),
        ("containers/abc/networks.json", False, "doc"),
        ("pods/abc/networks.json", False, ""),
        ("volumes/v/state.json", False, "doc"),
        ("volumes/v/config.json/x", False, ""),
        ("exec/s1", False, "doc"),
        ("exec/s1", True, ""),
        ("index/names", True, "dir"),
        ("index/names/n", True, ""),
        ("index/namespaces/ns/volumes", True, ""),
        ("index/namespaces/ns", False, ""),
        ("index/nothing", True, ""),
        ("other", False, ""),
    ],
)
def test_place(path: str, is_dir: bool, role: str) -> None:
    assert L.place(path.split("/"), is_dir) == role
