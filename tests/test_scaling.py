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

from fsstate import Container, FileState, Pod, Volume, cli
from fsstate.store import layout as L
from fsstate.store.fsio import Tree
from fsstate.store.storage import FileStorage


def ctr(n: int, **config: Any) -> Container:
    return Container({"id": f"{n:064x}", "name": f"c{n}", "lockID": n, **config}, {"state": 1})


def vol(n: int) -> str:
    """A volume name like Podman's anonymous ones (64 hex digits)."""
    return hashlib.sha256(str(n).encode()).hexdigest()


#: The one volume every container of the built stores mounts (issue 10: a removal with
#: thousands of other users of its volume).
SHARED = "shared"
MOUNT = {"namedVolumes": [{"volumeName": SHARED, "dest": "/data"}]}
POD_ID = f"{1:064x}".replace("0", "f")
#: Two containers whose IDs share a registry shard ("abc") and nothing else in their first 12
#: characters: the prefix lookups (the other IDs are zero-padded numbers, all in shard "000").
PROBES = ["abc" + hashlib.sha256(seed).hexdigest()[3:] for seed in (b"probe-1", b"probe-2")]


def build(root: Path, count: int) -> None:
    with FileState(root / "static", root / "tmp") as state, state.transaction():
        state.add_volume(Volume({"name": SHARED, "lockID": 0}))
        state.add_pod(Pod({"id": POD_ID, "name": "pod", "lockID": 0}, {}))
        for n in range(count):
            state.add_container(ctr(n, **MOUNT))
            state.add_volume(Volume({"name": vol(n), "lockID": n}))
        for n, cid in enumerate(PROBES):
            state.add_container(Container({"id": cid, "name": f"p{n}", "lockID": n}, {}))


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
        if rel == L.TRASH:  # housekeeping of a process's first hold of the lock, not per call
            self.counts["trash"] += 1
            return names
        self.counts["listdir"] += 1
        self.counts["listed"] += len(names)
        return names

    def put(self, rel: str, data: bytes) -> None:
        self.counts["put"] += 1
        super().put(rel, data)

    def delete(self, rel: str) -> None:
        self.counts["delete"] += 1
        super().delete(rel)

    def rmdir(self, rel: str) -> bool:
        self.counts["rmdir"] += 1
        return super().rmdir(rel)


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


#: Every call of issue 10's table, as (name, preparation untimed by the count, the call).
#: ``prep`` gets the state and returns the argument; the call gets the state and it.
CALLS: list[tuple[str, Any, Any]] = [
    ("container", lambda s: f"{3:064x}", lambda s, a: s.container(a)),
    ("lookup by name", lambda s: "c3", lambda s, a: s.lookup_container(a)),
    ("lookup by full ID", lambda s: f"{3:064x}", lambda s, a: s.lookup_container(a)),
    ("lookup by ID prefix", lambda s: PROBES[0][:12], lambda s, a: s.lookup_container(a)),
    ("has_container", lambda s: f"{3:064x}", lambda s, a: s.has_container(a)),
    ("has_pod", lambda s: POD_ID, lambda s, a: s.has_pod(a)),
    ("update_container", lambda s: s.container(f"{3:064x}"), lambda s, a: s.update_container(a)),
    ("add_container", lambda s: ctr(100_000, **MOUNT), lambda s, a: s.add_container(a)),
    ("save_container", lambda s: s.container(f"{4:064x}"), lambda s, a: s.save_container(a)),
    ("remove_container", lambda s: s.container(f"{2:064x}"), lambda s, a: s.remove_container(a)),
]


def call_work(
    root: Path, monkeypatch: pytest.MonkeyPatch, name: str, *, warm: bool
) -> Counter[str]:
    """File operations of one call of :data:`CALLS` in a FileState opened for it; ``warm``:
    after one call of the same kind on another object, as in a long-running process."""
    _, prep, call = next(c for c in CALLS if c[0] == name)
    monkeypatch.setattr("fsstate.store.storage.Tree", CountingTree)
    with FileState(root / "static", root / "tmp") as state:
        if warm:
            state.has_container(f"{0:064x}")
            state.container(f"{0:064x}")
            state.lookup_container(PROBES[1][:12])
        arg = prep(state)
        CountingTree.counts = Counter()
        call(state, arg)
        counts = Counter(CountingTree.counts)
        if name == "add_container":  # leave the store as it was for the next test
            state.remove_container(arg)
        elif name == "remove_container":
            state.add_container(Container(arg.config, {"state": 1}))
    return counts


@pytest.mark.parametrize("warm", [False, True], ids=["fresh", "warm"])
@pytest.mark.parametrize("name", [c[0] for c in CALLS])
def test_every_call_costs_the_same_file_operations_at_5_and_300(
    stores: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, name: str, warm: bool
) -> None:
    """Each call of issue 10's table reads, writes and lists as much with 300 containers as
    with 5, all of them users of one volume, and lists no directory at all: a removal does not
    list index/volume-users/shared (every container of the store) to decide its rmdir. A
    prefix lookup lists its registry shard in a fresh process and nothing in a warm one that
    listed that shard before (the listing is cached per generation). A write in a fresh
    process (its first hold of the lock) also looks into ``trash`` once, for what a killed
    writer left; reads never do."""
    small = call_work(stores[0], monkeypatch, name, warm=warm)
    large = call_work(stores[1], monkeypatch, name, warm=warm)
    assert small == large
    writes = ("add_container", "save_container", "remove_container")
    assert large["trash"] == (1 if name in writes else 0)  # (warm: after reads only)
    if name == "lookup by ID prefix":
        assert large["listdir"] == (0 if warm else 1)
    else:
        assert large["listdir"] == 0 or name == "remove_container"
    assert large["listed"] <= 3  # a removal lists only the container's own directory


def test_warm_reads_touch_no_file(
    stores: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once a process has read an object, reading it again while the generation stands (here:
    after this process's own commit, which carries the cache over) opens, stats and lists
    nothing: only the generation line is read."""
    monkeypatch.setattr("fsstate.store.storage.Tree", CountingTree)
    with FileState(stores[1] / "static", stores[1] / "tmp") as state:

        def reads() -> None:
            state.container(f"{3:064x}")
            state.lookup_container("c3")
            state.lookup_container(PROBES[0][:12])
            state.has_container(f"{3:064x}")
            state.has_container(f"{99_999:064x}")
            state.has_pod(POD_ID)
            state.update_container(state.container(f"{3:064x}"))

        reads()
        stored = state.container(f"{4:064x}")
        stored.state = {"state": 3}
        state.save_container(stored)
        CountingTree.counts = Counter()
        reads()
        assert +CountingTree.counts == Counter()


#: The real ``FileStorage.attempt``, which :func:`ps_work` wraps (once, however often it runs).
_ATTEMPT = FileStorage.attempt


def ps_work(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[Counter[str], int]:
    """File operations and store reads (``attempts``: each reads the generation line before
    and after it) of ``fsstate ps -a`` on the store at ``root`` (the command line run in this
    process, the store opened for it), and the rows it printed."""
    monkeypatch.setattr("fsstate.store.storage.Tree", CountingTree)

    def counting_attempt(self: FileStorage) -> Any:
        CountingTree.counts["attempts"] += 1
        return _ATTEMPT(self)

    monkeypatch.setattr(FileStorage, "attempt", counting_attempt)
    CountingTree.counts = Counter()
    capsys.readouterr()
    assert cli.main(["--root", str(root / "static"), "--tmp", str(root / "tmp"), "ps", "-a"]) == 0
    rows = len(capsys.readouterr().out.splitlines()) - 1  # less the header
    return Counter(CountingTree.counts), rows


def test_ps_reads_each_container_once_in_one_pass(
    stores: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``ps -a`` reads each container's config, state and networks document once, in one pass
    over the store, and makes no call per container (no existence check, no lookup, no
    second read of the store): from 5 to 300 containers its work grows by exactly three file
    reads per container, and it reads the store as many times and lists the same
    directories at both sizes."""
    small, small_rows = ps_work(stores[0], monkeypatch, capsys)
    large, large_rows = ps_work(stores[1], monkeypatch, capsys)
    assert (small_rows, large_rows) == (5 + len(PROBES), 300 + len(PROBES))
    grown = large - small
    assert grown.pop("listed") == 300 - 5  # the containers directory names each one
    assert grown == Counter({"read": 3 * (300 - 5)})
    assert small["attempts"] == large["attempts"] <= 3
    assert small["listdir"] == large["listdir"]
