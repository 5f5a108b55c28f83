"""The store lock under the process model: order, time-outs, fork, a replaced lock file, nesting.

Real processes (``multiprocessing`` with ``fork``, and ``subprocess``), real ``kill -9``, a real
deleted and replaced lock file. No assertion on how long something took, only on order and on
how many cycles another process managed meanwhile, with margins a loaded 2-core machine keeps.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

import pytest

from fsstate import Container, FileState
from fsstate.errors import LockNotHeldError, LockTimeoutError
from fsstate.fsck import check
from fsstate.store.layout import LOCK_QUEUE
from fsstate.store.lock import StoreLock

ctx = multiprocessing.get_context("fork")


def ctr(n: int) -> Container:
    return Container({"id": f"{n:064x}", "name": f"c{n}", "lockID": n}, {"state": 1})


def ids(state: FileState) -> set[int]:
    return {int(c.id, 16) for c in state.all_containers()}


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, Path]:
    static, tmp = tmp_path / "static", tmp_path / "tmp"
    FileState(static, tmp).close()
    return static, tmp


def lock_path(static: Path) -> str:
    return str(static / "fsstate" / "lock")


def tickets_drawn(static: Path) -> int:
    data = (static / "fsstate" / LOCK_QUEUE).read_bytes()[:8]
    return int.from_bytes(data, "little") if len(data) == 8 else 0


def wait_for(cond: Callable[[], bool], what: str, limit: float = 60) -> None:
    end = time.monotonic() + limit
    while not cond():
        assert time.monotonic() < end, f"gave up waiting for {what}"
        time.sleep(0.005)


# -- order ---------------------------------------------------------------------------------------


def _take_and_log(path: str, log: Path, me: int) -> None:
    with StoreLock(path, timeout=60), open(log, "a") as f:
        f.write(f"{me}\n")


def test_waiters_get_the_lock_in_the_order_they_came(store: tuple[Path, Path]) -> None:
    """Five processes queue one after another behind a holder; they get it in that order
    (flock alone would let any of them win)."""
    static, _ = store
    log = static.parent / "order"
    holder = StoreLock(lock_path(static))
    holder.acquire()
    procs = []
    for me in range(5):
        before = tickets_drawn(static)
        p = ctx.Process(target=_take_and_log, args=(lock_path(static), log, me))
        p.start()
        procs.append(p)
        wait_for(lambda b=before: tickets_drawn(static) > b, f"waiter {me} to queue")  # type: ignore[misc]
    holder.release()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    holder.close()
    assert log.read_text().split() == ["0", "1", "2", "3", "4"]


def _relock_at_once(path: str, cycles: Synchronized[int], stop: Any) -> None:
    lock = StoreLock(path, timeout=60)
    while not stop.is_set():
        with lock:
            time.sleep(0.005)  # a short call; then straight back for the next
            cycles.value += 1


def test_a_writer_that_relocks_at_once_cannot_starve_a_waiter(store: tuple[Path, Path]) -> None:
    """Each time this process asks, it gets the lock before the re-locking writer finished 20
    more cycles (it is served after at most the one in progress; the margin is for a loaded
    machine). Before the queue it waited its whole 5 s time-out in 5 runs out of 5."""
    static, _ = store
    cycles: Synchronized[int] = ctx.Value("q", 0)
    stop = ctx.Event()
    writer = ctx.Process(target=_relock_at_once, args=(lock_path(static), cycles, stop))
    writer.start()
    lock = StoreLock(lock_path(static), timeout=10)
    try:
        wait_for(lambda: cycles.value > 3, "the writer to run")
        passed = []
        for _ in range(20):
            before = cycles.value
            with lock:
                passed.append(cycles.value - before)
            time.sleep(0.002)
        assert max(passed) <= 20, passed
    finally:
        stop.set()
        writer.join(60)
        lock.close()
    assert writer.exitcode == 0


def _hold_until(path: str, holding: Any, release: Any) -> None:
    with StoreLock(path):
        holding.set()
        release.wait(120)


def test_the_timeout_is_honoured_and_a_given_up_waiter_does_not_keep_the_lock(
    store: tuple[Path, Path],
) -> None:
    static, tmp = store
    with FileState(static, tmp, lock_timeout=0.3) as state:
        holding, release = ctx.Event(), ctx.Event()
        holder = ctx.Process(target=_hold_until, args=(lock_path(static), holding, release))
        holder.start()
        assert holding.wait(60)
        with pytest.raises(LockTimeoutError) as info:
            state.add_container(ctr(1))
        assert info.value.path == lock_path(static)
        release.set()
        holder.join(60)
        assert holder.exitcode == 0
        # the waiter given up on got the lock later and let it go: everyone can take it
        p = ctx.Process(target=_take_and_log, args=(lock_path(static), static / "log", 7))
        p.start()
        p.join(60)
        assert p.exitcode == 0
        state.add_container(ctr(2))
        assert ids(state) == {2}  # the timed-out call wrote nothing


# -- fork ----------------------------------------------------------------------------------------


def _add_through_inherited(state: FileState, first: int, count: int, out: Any) -> None:
    done = []
    for n in range(first, first + count):
        state.add_container(ctr(n))
        done.append(n)
    out.put(done)


def test_a_filestate_inherited_across_fork_keeps_exclusion(store: tuple[Path, Path]) -> None:
    """Four children write through the FileState their parent opened, while the parent does
    too: every acknowledged add is there, nothing else, and fsck is clean."""
    static, tmp = store
    state = FileState(static, tmp)
    state.add_container(ctr(0))  # the parent has used its lock before forking
    out = ctx.Queue()
    kids = [
        ctx.Process(target=_add_through_inherited, args=(state, 1000 * k, 60, out))
        for k in range(1, 5)
    ]
    for k in kids:
        k.start()
    for n in range(1, 61):
        state.add_container(ctr(n))
    acknowledged = {n for _ in kids for n in out.get(timeout=120)} | set(range(61))
    for k in kids:
        k.join(60)
        assert k.exitcode == 0
    assert ids(state) == acknowledged and len(acknowledged) == 61 + 4 * 60
    state.close()
    assert check(static).findings == ()


def _use_inside_inherited_hold(state: FileState, out: Any) -> None:
    results = []
    try:
        state.add_container(ctr(5))
    except LockNotHeldError as exc:
        results.append(("call", str(exc)))
    try:
        state._storage.commit([("put", "containers/x/state.json", b"{}")])
    except LockNotHeldError as exc:
        results.append(("commit", str(exc)))
    out.put(results)


def test_a_child_forked_inside_a_hold_cannot_continue_it(store: tuple[Path, Path]) -> None:
    static, tmp = store
    out = ctx.Queue()
    with FileState(static, tmp) as state:
        with state.transaction():
            state.add_container(ctr(1))
            child = ctx.Process(target=_use_inside_inherited_hold, args=(state, out))
            child.start()
            results = out.get(timeout=60)
            child.join(60)
        assert [what for what, _ in results] == ["call", "commit"]
        assert "forked while holding the store lock" in results[0][1]
        assert ids(state) == {1}  # the parent's transaction committed; the child wrote nothing
        assert not (static / "fsstate" / "containers" / "x").exists()


HOLD_AND_FORK = textwrap.dedent(
    """
    import os, sys, time
    from fsstate import FileState
    state = FileState(sys.argv[1], sys.argv[2])
    with state.transaction():
        state.all_containers()
        if os.fork() == 0:  # a child that never execs and outlives its parent
            time.sleep(120)
            os._exit(0)
        print("holding", flush=True)
        time.sleep(120)
    """
)


def test_a_child_forked_without_exec_does_not_keep_a_killed_parents_lock(
    store: tuple[Path, Path],
) -> None:
    static, tmp = store
    # A session of its own: the orphan child stays in the parent's process group, whose ID (the
    # parent's PID) is not reused while the child lives, so the cleanup kills these two only.
    parent = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_FORK, str(static), str(tmp)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert parent.stdout is not None and parent.stdout.readline() == "holding\n"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(60)
        with FileState(static, tmp, lock_timeout=20) as state:
            state.add_container(ctr(1))  # before: waited for the orphan child, 120 s
            assert ids(state) == {1}
    finally:
        with suppress(ProcessLookupError):  # the parent, if alive, and its orphan child
            os.killpg(parent.pid, signal.SIGKILL)
        parent.wait(60)
        assert parent.stdout is not None
        parent.stdout.close()  # warnings are errors: no pipe left for the collector


# -- the lock file replaced or deleted while held -------------------------------------------------


def _add_one(static: str, tmp: str, n: int) -> None:
    with FileState(static, tmp, lock_timeout=20) as state:
        state.add_container(ctr(n))


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_nothing_is_written_under_a_lock_file_no_longer_in_place(
    store: tuple[Path, Path], how: str
) -> None:
    """The commit of a hold whose lock file was deleted or replaced meanwhile raises and
    writes nothing; a process that came meanwhile locks the file now in place and commits."""
    static, tmp = store
    lock_file = static / "fsstate" / "lock"
    with FileState(static, tmp) as state:
        other = ctx.Process(target=_add_one, args=(str(static), str(tmp), 2))
        with pytest.raises(LockNotHeldError, match="deleted or replaced while held"):  # noqa: SIM117
            with state.transaction():
                state.add_container(ctr(1))
                if how == "deleted":
                    lock_file.unlink()
                else:
                    (static / "new-lock").touch(mode=0o600)
                    os.replace(static / "new-lock", lock_file)
                before = tickets_drawn(static)
                other.start()
                wait_for(lambda: tickets_drawn(static) > before, "the other process to queue")
        other.join(60)
        assert other.exitcode == 0
        assert ids(state) == {2}  # ours raised and wrote nothing
        state.add_container(ctr(3))  # the next call locks the file now in place
        assert ids(state) == {2, 3}
    assert check(static).findings == ()


# -- two FileStates on one store in one process ---------------------------------------------------


def test_two_filestates_on_one_store_nest_without_deadlock(store: tuple[Path, Path]) -> None:
    static, tmp = store
    with FileState(static, tmp, lock_timeout=30) as s1, FileState(static, tmp) as s2:
        s2.add_container(ctr(1))
        with s1.transaction():
            s1.add_container(ctr(2))
            assert ids(s2) == {1}  # reads what is committed, at once
            with pytest.raises(LockNotHeldError, match="through another FileState"):
                s2.add_container(ctr(3))
        assert ids(s1) == ids(s2) == {1, 2}
        with s2.transaction():  # the other way round, and from a second thread meanwhile
            assert ids(s1) == {1, 2}
        s1.add_container(ctr(4))
        assert ids(s2) == {1, 2, 4}


# -- one process: re-entrance and threads ------------------------------------------------------


def test_the_lock_is_re_entrant_in_one_thread(store: tuple[Path, Path]) -> None:
    """acquire() says whether it took the lock (outermost hold) or already held it."""
    lock = StoreLock(lock_path(store[0]), timeout=0.3)
    try:
        assert lock.held is False
        assert lock.acquire() is True
        assert lock.acquire() is False
        assert lock.held is True
        lock.release()
        assert lock.held is True
        lock.release()
        assert lock.held is False
        with lock, lock:
            assert lock.held is True
        assert lock.held is False
    finally:
        lock.close()


def test_another_thread_waits_then_times_out(store: tuple[Path, Path]) -> None:
    """A thread of the same process is excluded like another process: LockTimeoutError
    naming the lock file when the holder keeps it past the time-out."""
    path = lock_path(store[0])
    lock = StoreLock(path, timeout=0.3)
    errors: list[LockTimeoutError] = []
    held_elsewhere: list[bool] = []

    def other() -> None:
        held_elsewhere.append(lock.held)
        try:
            lock.acquire()
        except LockTimeoutError as exc:
            errors.append(exc)
        else:
            lock.release()

    try:
        with lock:
            worker = threading.Thread(target=other)
            worker.start()
            worker.join(60)
        assert held_elsewhere == [False]
        assert [type(e) for e in errors] == [LockTimeoutError]
        assert errors[0].path == path
        with lock:  # free again once released
            assert lock.held is True
    finally:
        lock.close()
