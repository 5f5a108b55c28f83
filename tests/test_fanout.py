"""A listing shared with forked processes (``fsstate/state/fanout.py``, ``all_containers(
processes=…)``) answers exactly as one process does: the same containers, states, networks and
skipped documents, in the same order, whatever a child does — dies by ``kill -9``, raises, or
commits while the others read. Real forks, real kills, real commits; ``MIN_SHARE`` is lowered
so a store of a few containers is shared at all."""

from __future__ import annotations

import logging
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import container_state, new_container
from corrupt.builders import C1, C3, C4, C5, C6, build_store, cfg, put, state

from fsstate import Container, FileState, errors
from fsstate.state import fanout
from fsstate.store import codec
from fsstate.store import layout as L

#: Forks of this process, counted by the at-fork hook (this module's, for the whole run).
_FORKS = [0]


def _count_fork() -> None:
    _FORKS[0] += 1


os.register_at_fork(after_in_parent=_count_fork)

C2, C7, C8, C9 = (str(n) * 32 for n in (2, 7, 8, 9))


@pytest.fixture(autouse=True)
def small_shares(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fanout, "MIN_SHARE", 1)


@pytest.fixture
def static(tmp_path: Path) -> Path:
    """build_store's containers 1, 3, 4, 5, 6 and three more (7, 8, 9)."""
    build_store(tmp_path / "static")
    with opened(tmp_path / "static") as st:
        for n in (7, 8, 9):
            st.add_container(new_container(n))
    return tmp_path / "static"


def opened(static: Path) -> FileState:
    return FileState(static, static.parent / "tmp")


def listing(static: Path, processes: int, **kw: Any) -> dict[str, Any]:
    skipped: list[errors.CorruptDocumentError] = []
    nets: dict[str, Any] = {}
    with opened(static) as st:
        ctrs = st.all_containers(
            load_state=True, skipped=skipped, networks=nets, processes=processes, **kw
        )
    return {
        "containers": [(c.id, c.config, c.state) for c in ctrs],
        "skipped": [(type(e), e.path) for e in skipped],
        "networks": {
            cid: n if isinstance(n, list) else (type(n), n.path) for cid, n in nets.items()
        },
    }


@pytest.mark.parametrize("processes", [2, 3, 8])
def test_a_shared_listing_is_the_listing_of_one_process(static: Path, processes: int) -> None:
    store = static / L.STORE_DIR
    put(store, cfg(C5), b'{"id": ')  # undecodable: skipped, logged
    os.unlink(store / state(C8))  # no state: skipped, logged
    os.unlink(store / cfg(C9))  # a directory without its config: skipped
    alone = listing(static, 1)
    forks = _FORKS[0]
    shared = listing(static, processes)
    assert _FORKS[0] - forks == min(processes, 8) - 1  # one slice per process, 8 keys
    assert shared == alone
    assert [cid for cid, _, _ in shared["containers"]] == [C1, C3, C4, C6, C7]
    assert [path for _, path in shared["skipped"]] == [
        str(store / cfg(C5)),
        str(store / state(C8)),
        str(store / cfg(C9)),
    ]
    assert all(issubclass(cls, errors.CorruptDocumentError) for cls, _ in shared["skipped"])
    assert shared["networks"][C1] == ["podman"]


def test_a_shared_listing_logs_each_skip_once_in_key_order(
    static: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = static / L.STORE_DIR
    put(store, cfg(C3), b"[]")
    put(store, cfg(C7), b"{")
    with caplog.at_level(logging.WARNING, logger="fsstate"):
        listing(static, 3)
    skips = [r.getMessage() for r in caplog.records if "skipping" in r.getMessage()]
    assert len(skips) == 2
    assert str(store / cfg(C3)) in skips[0] and str(store / cfg(C7)) in skips[1]


def test_a_view_is_applied_in_the_children_and_the_parent_alike(static: Path) -> None:
    def view(config: dict[str, Any]) -> dict[str, Any]:
        return {k: config[k] for k in ("id", "name", "namespace", "pod") if k in config} | {
            "pid": os.getpid()
        }

    parent = os.getpid()
    shared = listing(static, 2, view=view)
    pids = [config["pid"] for _, config, _ in shared["containers"]]
    assert pids[0] == parent and pids[-1] != parent  # the last slice was loaded by a child
    assert [{k: v for k, v in c.items() if k != "pid"} for _, c, _ in shared["containers"]] == [
        {k: v for k, v in c.items() if k != "pid"}
        for _, c, _ in listing(static, 1, view=view)["containers"]
    ]


@pytest.mark.parametrize("processes", [1, 2])
def test_a_projection_lists_what_the_same_view_as_a_function_lists(
    static: Path, processes: int
) -> None:
    """A ``Projection`` view decodes only what it keeps, yet checks what every read checks: a
    wrong type under an interpreted key it does not keep (``lockID``) and a name that cannot
    be a path (``pod``) are skipped as with a whole decode; a ``spec`` that is no object is
    simply not kept."""
    store = static / L.STORE_DIR

    def edit(cid: str, **changes: Any) -> None:
        doc = orjson.loads((store / cfg(cid)).read_bytes())
        put(store, cfg(cid), orjson.dumps(doc | changes))

    edit(C5, lockID="seven")
    edit(C3, pod="../../etc")
    edit(C4, spec=[1, 2])
    projection = codec.Projection(("id", "name", "namespace", "pod"), {"spec": ("annotations",)})
    as_function = listing(static, processes, view=projection.__call__)
    projected = listing(static, processes, view=projection)
    assert projected == as_function
    assert [cid for cid, _, _ in projected["containers"]] == [C1, C4, C6, C7, C8, C9]
    assert [path for _, path in projected["skipped"]] == [
        str(store / cfg(C3)),
        str(store / cfg(C5)),
    ]
    by_id = {cid: config for cid, config, _ in projected["containers"]}
    assert "spec" not in by_id[C4] and by_id[C4]["id"] == C4
    assert set(by_id[C1]) <= {"id", "name", "namespace", "pod", "spec"}


def test_a_projection_reads_the_networks_a_sqlite_store_keeps_in_the_config(static: Path) -> None:
    """Under "sqlite" semantics a container's networks live in its config (NEWEST): a
    projection that does not keep them still hands them to the listing's ``networks``."""
    with opened(static) as st:
        assert st.migrate("sqlite")
        st.add_container(new_container(2, networkMode="bridge"))
        st.network_connect(st.container(C2), "backend")
        st.network_connect(st.container(C2), "frontend")
    projection = codec.Projection(("id", "name", "namespace", "pod"))
    projected = listing(static, 2, view=projection)
    assert projected == listing(static, 2, view=projection.__call__)
    assert projected["networks"][C2] == ["backend", "frontend"]  # in setup order
    assert projected["networks"][C7] == []  # not in bridge mode: none (NEWEST)
    assert all(
        set(config) <= {"id", "name", "namespace", "pod"}
        for _, config, _ in projected["containers"]
    )


def test_a_commit_while_a_child_reads_makes_the_listing_read_again(static: Path) -> None:
    """The child's slice is C6..C9 (of C1 C3 C4 C5 C6 C7 C8 C9). While loading C8 it commits,
    in one transaction, new states for C6 (which it read before) and C9 (which it reads
    after): its slice alone mixes two instants. The listing must see that a commit came
    during its read and read again — the parent listed ``containers/`` and the commit changed
    files below it; ``Txn.read_elsewhere`` would make it read again even if it had not — so
    the answer holds both new states or neither."""
    marker = static.parent / "committed"
    new = container_state(C6) | {"exitCode": 42}

    def view(config: dict[str, Any]) -> dict[str, Any]:
        if config["id"] == C8 and os.getpid() != parent:
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return config  # committed in an earlier pass
            with opened(static) as writer, writer.transaction():
                for cid in (C6, C9):
                    ctr = writer.container(cid)
                    ctr.state = new | {"configPath": f"/does/not/exist/specs/{cid}"}
                    writer.save_container(ctr)
        return config

    parent = os.getpid()
    states = {cid: s for cid, _, s in listing(static, 2, view=view)["containers"]}
    assert marker.exists()
    assert states[C6]["exitCode"] == states[C9]["exitCode"] == 42
    with opened(static) as st:
        ctr = st.container(C6)
        st.update_container(ctr)
        assert ctr.state["exitCode"] == 42


def test_a_child_killed_leaves_its_slice_to_the_parent() -> None:
    """A real ``kill -9`` of the child in the middle of its slice: the parent loads the slice
    itself, and the answer is what one process gives."""
    parent = os.getpid()
    keys = [f"k{i}" for i in range(9)]
    loaded_here: list[str] = []

    def load(key: str) -> str:
        if os.getpid() != parent and key == "k7":
            os.kill(os.getpid(), signal.SIGKILL)
        if os.getpid() == parent:
            loaded_here.append(key)
        return key.upper()

    outcomes = fanout.load_shared(keys, load, 3)
    assert outcomes == [k.upper() for k in keys]
    assert loaded_here == ["k0", "k1", "k2", "k6", "k7", "k8"]  # its own, then the dead child's
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # every child waited for


def test_an_error_in_a_child_ends_the_listing_there() -> None:
    parent = os.getpid()
    keys = [f"k{i}" for i in range(6)]

    def load(key: str) -> str | None:
        if key == "k4":
            raise PermissionError(13, "denied", key)
        if key == "k1":
            return None
        if key == "k3":
            raise errors.CorruptDocumentError(f"{key}: bad", path=key)
        return key if os.getpid() == parent else key + "@child"

    outcomes = fanout.load_shared(keys, load, 2)
    assert outcomes is not None and len(outcomes) == 5
    assert outcomes[:3] == ["k0", None, "k2"]
    assert isinstance(outcomes[3], errors.CorruptDocumentError) and outcomes[3].path == "k3"
    assert isinstance(outcomes[4], PermissionError) and outcomes[4].filename == "k4"
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


@pytest.mark.parametrize("sigchld", [signal.SIG_DFL, signal.SIG_IGN])
def test_an_error_in_the_parent_ends_the_children_too(sigchld: signal.Handlers) -> None:
    """The children are still loading (each sleeps for a minute) when the
    parent's first key fails: they are killed and waited for, also where the kernel reaps
    them itself (``SIGCHLD`` ignored)."""
    parent = os.getpid()
    keys = [f"k{i}" for i in range(6)]

    def load(key: str) -> str:
        if os.getpid() != parent:
            time.sleep(60)  # killed long before
        if key == "k0":
            raise OSError(5, "EIO", key)
        return key

    old = signal.signal(signal.SIGCHLD, sigchld)
    try:
        started = time.monotonic()
        outcomes = fanout.load_shared(keys, load, 3)
    finally:
        signal.signal(signal.SIGCHLD, old)
    assert time.monotonic() - started < 30
    assert outcomes is not None and len(outcomes) == 1
    assert isinstance(outcomes[0], OSError) and outcomes[0].errno == 5
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # the children were killed and waited for


@pytest.fixture
def another_thread() -> Iterator[None]:
    done = threading.Event()
    thread = threading.Thread(target=done.wait)
    thread.start()
    yield
    done.set()
    thread.join()


@pytest.mark.usefixtures("another_thread")
def test_no_fork_while_another_thread_runs(static: Path) -> None:
    alone = listing(static, 1)
    forks = _FORKS[0]
    assert fanout.load_shared(["a", "b", "c"], str.upper, 3) is None
    assert listing(static, 3) == alone
    assert _FORKS[0] == forks


def test_too_few_keys_for_a_second_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fanout, "MIN_SHARE", 4)
    forks = _FORKS[0]
    assert fanout.load_shared([f"k{i}" for i in range(7)], str.upper, 4) is None
    assert fanout.load_shared([f"k{i}" for i in range(8)], str.upper, 4) == [
        f"K{i}" for i in range(8)
    ]
    assert _FORKS[0] == forks + 1  # two slices of four


def test_containers_come_back_whole(static: Path) -> None:
    """What a child sends back is a Container as the parent's own: config, state, flag."""
    with opened(static) as st:
        alone = st.all_containers(load_state=True)
        shared = st.all_containers(load_state=True, processes=4)
    assert shared == alone and all(type(c) is Container and c.valid for c in shared)
    assert [c.id for c in shared] == [C1, C3, C4, C5, C6, C7, C8, C9]


def test_a_listing_under_the_lock_is_shared_too(static: Path) -> None:
    """Inside a transaction the listing reads under the store lock; the children inherit the
    hold and leave without releasing it: the transaction still commits."""
    with opened(static) as st:
        alone = st.all_containers(load_state=True)
        forks = _FORKS[0]
        with st.transaction():
            shared = st.all_containers(load_state=True, processes=3)
            assert _FORKS[0] == forks + 2
            st.remove_container(st.container(C9))
        assert shared == alone
        assert [c.id for c in st.all_containers()] == [C1, C3, C4, C5, C6, C7, C8]


def test_no_file_to_spare_leaves_every_slice_to_the_caller() -> None:
    """EMFILE for the child's file in memory (a real descriptor limit): no child is forked,
    and the caller loads every slice itself."""
    lowest = os.open(os.devnull, os.O_RDONLY)
    os.close(lowest)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    forks = _FORKS[0]
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowest, hard))
    try:
        outcomes = fanout.load_shared([f"k{i}" for i in range(6)], str.upper, 3)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert outcomes == [f"K{i}" for i in range(6)]
    assert _FORKS[0] == forks


_WRITER = """
import sys, time
from fsstate import FileState
static, tmp, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
with FileState(static, tmp) as st:
    ctrs = st.all_containers(load_state=True)
    print("ready", flush=True)
    end, rounds = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        rounds += 1
        with st.transaction():
            for ctr in ctrs:
                ctr.state["exitCode"] = rounds
                st.save_container(ctr)
    print(rounds, flush=True)
"""


def test_shared_listings_beside_a_writer_each_see_one_instant(tmp_path: Path) -> None:
    """A writer process sets every container's exit code to its round number, one transaction
    a round, while this process lists them shared with two children: each listing is of one
    instant — one exit code throughout — though its slices were read by three processes."""
    static = tmp_path / "static"
    with opened(static) as st:
        for n in range(30):
            cid = f"{n:02d}" * 32
            st.add_container(new_container(n, id=cid, name=f"c{n}"))
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(static), str(tmp_path / "tmp"), "3"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
    seen: set[object] = set()
    listings = 0
    forks = _FORKS[0]
    with opened(static) as st:
        while writer.poll() is None:
            ctrs = st.all_containers(load_state=True, processes=3)
            codes = {ctr.state.get("exitCode") for ctr in ctrs}
            assert len(ctrs) == 30 and len(codes) == 1, sorted(map(str, codes))
            seen |= codes
            listings += 1
    rounds = int(writer.stdout.read())
    writer.stdout.close()
    assert writer.returncode == 0 and rounds > 1
    assert len(seen) > 1 and listings > 1  # listings at several instants of the writer's
    assert _FORKS[0] - forks >= 2 * listings  # each shared with two children


def test_children_reaped_by_the_process_itself_still_deliver() -> None:
    """With ``SIGCHLD`` ignored the kernel reaps the children and ``waitpid`` finds none
    (ECHILD): what they wrote still counts, and the listing is the same."""
    old = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        outcomes = fanout.load_shared([f"k{i}" for i in range(9)], str.upper, 3)
    finally:
        signal.signal(signal.SIGCHLD, old)
    assert outcomes == [f"K{i}" for i in range(9)]
