"""Per-call work does not grow with the store: counted in file operations, not timed.

A write commits a fixed set of files, and a fresh process resolving a name or a full ID opens a
fixed number of files, whether the store holds 5 containers or 300 (DESIGN.md: 10,000
containers is normal). Timing belongs to benchmarks/; this is the structural guarantee.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import pytest

from fsstate import Container, FileState, Volume
from fsstate.store.fsio import Tree
from fsstate.store.storage import FileStorage


def ctr(n: int, **config: Any) -> Container:
    return Container({"id": f"{n:064x}", "name": f"c{n}", "lockID": n, **config}, {"state": 1})


def vol(n: int) -> str:
    """A volume name like Podman's anonymous ones (64 hex digits)."""
    return hashlib.sha256(str(n).encode()).hexdigest()


def build(root: Path, count: int) -> None:
    with FileState(root / "static", root / "tmp") as state, state.transaction():
        for n in range(count):
            state.add_container(ctr(n))
            state.add_volume(Volume({"name": vol(n), "lockID": n}))


class CountingTree(Tree):
    """A real Tree that also counts the file operations it performs."""

    counts: ClassVar[Counter[str]] = Counter()

    def read(self, rel: str) -> bytes | None:
        self.counts["read"] += 1
        return super().read(rel)

    def exists(self, rel: str) -> bool:
        self.counts["exists"] += 1
        return super().exists(rel)

    def listdir(self, rel: str) -> list[str]:
        names = super().listdir(rel)
        self.counts["listdir"] += 1
        self.counts["listed"] += len(names)
        return names


def fresh_process_work(
    root: Path, call: str, arg: str, monkeypatch: pytest.MonkeyPatch
) -> Counter[str]:
    """File operations of one call in a FileState opened just for it, as a CLI would."""
    monkeypatch.setattr("fsstate.store.storage.Tree", CountingTree)
    CountingTree.counts = Counter()
    with FileState(root / "static", root / "tmp") as state:
        CountingTree.counts = Counter()
        getattr(state, call)(arg)
        return CountingTree.counts


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A store of 5 containers and one of 300, built once for the module."""
    small, large = tmp_path_factory.mktemp("small"), tmp_path_factory.mktemp("large")
    build(small, 5)
    build(large, 300)
    return small, large


@pytest.mark.parametrize(
    ("call", "arg"),
    [
        ("lookup_container", "c3"),
        ("lookup_container", f"{3:064x}"),
        ("container", f"{3:064x}"),
        ("volume", vol(3)),
        ("lookup_volume", vol(3)[:12]),
    ],
)
def test_lookup_in_a_fresh_process_reads_a_fixed_number_of_files(
    stores: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, call: str, arg: str
) -> None:
    """Resolving a name, full ID or prefix costs the same file operations at 5 and at 300
    containers and volumes; only a prefix lists a directory (one registry shard)."""
    small = fresh_process_work(stores[0], call, arg, monkeypatch)
    large = fresh_process_work(stores[1], call, arg, monkeypatch)
    listed = large.pop("listed", 0)
    small.pop("listed", None)
    assert small == large
    if call == "lookup_volume":  # one registry shard: ~300/256 names, not all 300
        assert small["listdir"] == 1 and listed < 10
    else:
        assert small["listdir"] == 0


def test_a_write_commits_a_fixed_set_of_files(stores: tuple[Path, Path]) -> None:
    """add, save and remove commit as many file operations with 300 containers as with 5."""

    def ops_of(root: Path) -> list[int]:
        storage = FileStorage(str(root / "static"))
        state = FileState(root / "static", root / "tmp", storage=storage)
        sizes: list[int] = []
        real_commit = storage.commit

        def counting_commit(ops: Any) -> None:
            sizes.append(len(ops))
            real_commit(ops)

        storage.commit = counting_commit  # type: ignore[method-assign]
        new = ctr(100_000, Dependencies=[f"{1:064x}"])
        state.add_container(new)
        new.state = {"state": 3}
        state.save_container(new)
        state.remove_container(new)
        state.close()
        return sizes

    assert ops_of(stores[0]) == ops_of(stores[1])
