"""The store lock between processes: hand-off latency, and a reader's latency beside writers.

    python benchmarks/lock.py [--handoffs 2000] [--containers 1000] [--seconds 5] [--dir DIR]

Runs every measurement twice in the same run: with fsstate's lock (a FIFO queue, waiting in
the kernel) and with the lock it replaced (``poll``: ``flock(LOCK_NB)`` retried with sleeps of
0.2 ms growing to 5 ms), patched into the same FileState.

* **Hand-off**: two processes take the lock in turn as fast as they can, holding it 0.1 ms; the
  hand-off is the time from one releasing it to the other holding it (both stamped with the
  system-wide monotonic clock while the lock is held). Also counted: how often the process that
  released it took it straight back while the other was waiting.
* **Reader**: ``lookup_container`` by name on a store of ``--containers`` containers, alone,
  then while 4 writer processes ``save_container`` their own containers in a loop.

Prints p50/p99 in milliseconds and the ratios.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import random
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import filelock

from fsstate import Container, FileState
from fsstate.errors import LockTimeoutError
from fsstate.store import lock as store_lock
from fsstate.store import storage
from fsstate.store.lock import StoreLock

ctx = multiprocessing.get_context("fork")


class PollingLock:
    """The lock before the queue (fsstate ≤ b06dfdc), kept here as the baseline."""

    def __init__(self, path: str, timeout: float = 100.0, *, read_only: bool = False) -> None:
        self.path, self.timeout = path, timeout
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        self._threads = threading.RLock()
        self._depth = 0

    def acquire(self) -> bool:
        deadline = time.monotonic() + self.timeout
        self._threads.acquire()
        self._depth += 1
        if self._depth > 1:
            return False
        sleep = 0.0002
        while not filelock.lock_descriptor(self._fd, blocking=False):
            if time.monotonic() > deadline:
                self._depth -= 1
                self._threads.release()
                raise LockTimeoutError(self.path, path=self.path)
            time.sleep(sleep)
            sleep = min(sleep * 2, 0.005)
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            filelock.unlock_descriptor(self._fd)
        self._threads.release()

    def verify(self) -> None:
        pass

    @property
    def held(self) -> bool:
        """True when the calling thread holds it (lock-free reads look; a thread that does
        not hold it may be waiting for the RLock, which ``_is_owned`` does not take)."""
        return self._depth > 0 and self._threads._is_owned()  # type: ignore[attr-defined]

    def __enter__(self) -> PollingLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    @contextmanager
    def quiesced(self) -> Iterator[None]:
        with self._threads:
            yield

    def close(self) -> None:
        os.close(self._fd)


LOCKS: dict[str, Any] = {"queue": StoreLock, "poll": PollingLock}


def use(kind: str) -> None:
    """Make FileState (in this process and the ones it forks) use lock ``kind``."""
    storage.StoreLock = LOCKS[kind]  # type: ignore[attr-defined]


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else float("nan")


# -- hand-off -----------------------------------------------------------------------------------


def _turns(kind: str, path: str, me: int, n: int, log: Any, waiting: Any, start: Any) -> None:
    lock = LOCKS[kind](path, 30)
    count = len(log) // 3
    if kind == "queue":  # in line once it holds a ticket (before, it has not asked yet)
        draw = store_lock._ProcessLock._draw_ticket

        def drawn(self: Any) -> int:
            ticket = draw(self)
            waiting[me] = time.monotonic()
            return ticket

        store_lock._ProcessLock._draw_ticket = drawn  # type: ignore[method-assign]
    start.wait()
    for _ in range(n):
        if kind == "poll":  # in line from its first try
            waiting[me] = time.monotonic()
        with lock:
            waiting[me] = 0.0
            i = int(log[-1])
            if i + 1 >= count:
                return
            log[3 * i], log[3 * i + 1] = time.monotonic(), me  # acquired
            deadline = time.perf_counter() + 0.0001
            while time.perf_counter() < deadline:
                pass
            # released, stamped only when the other process is already waiting for it
            log[3 * i + 2] = time.monotonic() if waiting[1 - me] else 0.0
            log[-1] = i + 1


def handoff(kind: str, path: str, n: int) -> tuple[list[float], int, int]:
    """Hand-off times while the other process waited, how often the releaser took the lock
    straight back although the other was waiting, and how many turns that was out of."""
    log, waiting = ctx.Array("d", 3 * 2 * n + 1, lock=False), ctx.Array("d", 2, lock=False)
    start = ctx.Event()
    procs = [
        ctx.Process(target=_turns, args=(kind, path, me, n, log, waiting, start)) for me in (0, 1)
    ]
    for p in procs:
        p.start()
    time.sleep(0.2)
    start.set()
    for p in procs:
        p.join()
    turns = [(log[3 * i], int(log[3 * i + 1]), log[3 * i + 2]) for i in range(int(log[-1]))]
    handoffs, kept, contended = [], 0, 0
    for (_, who, released), (acquired, next_who, _) in itertools.pairwise(turns):
        if not released:
            continue  # the other was not waiting yet: nothing to hand off
        contended += 1
        if next_who == who:
            kept += 1
        else:
            handoffs.append(acquired - released)
    return handoffs, kept, contended


# -- reader beside writers ------------------------------------------------------------------------


def ctr(n: int) -> Container:
    return Container({"id": f"{n:064x}", "name": f"c{n}", "lockID": n}, {"state": 1})


def _write(static: str, tmp: str, me: int, stop: Any) -> None:
    with FileState(static, tmp) as state:
        c = state.container(f"{me:064x}")
        state.update_container(c)
        k = 0
        while not stop.is_set():
            k += 1
            c.state = {"state": 1 + k % 3}
            state.save_container(c)


def _spin(static: str, tmp: str, me: int, stop: Any) -> None:
    """A process that only burns CPU: what the writers cost the reader in scheduling alone."""
    while not stop.is_set():
        sum(range(1000))


class Reads:
    """Latencies (seconds) of ``lookup_container`` calls, and how many took the store lock."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.locked = 0


def read_latencies(static: str, tmp: str, seconds: float, count: int) -> Reads:
    out = Reads()
    with FileState(static, tmp) as state:
        run = state._run

        def counted(fn: Any) -> Any:  # _read's fallback: the read ran under the lock
            out.locked += 1
            return run(fn)

        state._run = counted  # type: ignore[method-assign]
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            name = f"c{random.randrange(count)}"
            t = time.perf_counter()
            state.lookup_container(name)
            out.latencies.append(time.perf_counter() - t)
    return out


def beside(target: Any, static: str, tmp: str, seconds: float, count: int) -> Reads:
    """The reader's latencies while 4 processes run ``target``."""
    stop = ctx.Event()
    others = [ctx.Process(target=target, args=(static, tmp, me, stop)) for me in range(4)]
    for p in others:
        p.start()
    time.sleep(0.5)
    try:
        return read_latencies(static, tmp, seconds, count)
    finally:
        stop.set()
        for p in others:
            p.join()


def reader(kind: str, static: str, tmp: str, seconds: float, count: int) -> tuple[Reads, Reads]:
    use(kind)
    idle = read_latencies(static, tmp, seconds, count)
    return idle, beside(_write, static, tmp, seconds, count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--handoffs", type=int, default=2000)
    parser.add_argument("--containers", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--dir", default=None, help="where to build the store (default: $TMPDIR)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="fsstate-lock-", dir=args.dir))
    try:
        static, tmp = str(base / "static"), str(base / "tmp")
        with FileState(static, tmp) as state, state.transaction():
            for n in range(args.containers):
                state.add_container(ctr(n))
        lock_file = os.path.join(static, "fsstate", "lock")
        print(f"hand-off between 2 processes, {args.handoffs} turns each (ms)")
        print(f"{'lock':>6}  {'p50':>7}  {'p99':>7}  {'took it back while the other waited':>36}")
        results = {}
        for kind in ("poll", "queue"):
            h, kept, contended = handoff(kind, lock_file, args.handoffs)
            results[kind] = h
            shown = f"{pct(h, 50):7.3f}  {pct(h, 99):7.3f}" if len(h) > 1 else f"{'–':>7}  {'–':>7}"
            print(f"{kind:>6}  {shown}  {kept:>27} of {contended:<6}  ({len(h)} hand-offs)")
        if all(len(h) > 1 for h in results.values()):
            print(
                f"{'ratio':>6}  {pct(results['queue'], 50) / pct(results['poll'], 50):7.2f}  "
                f"{pct(results['queue'], 99) / pct(results['poll'], 99):7.2f}   (queue / poll)"
            )
        else:  # the polling lock starved the other process: nothing to compare
            print(f"{'ratio':>6}  {'–':>7}  {'–':>7}   (poll handed the lock off too seldom)")
        print(f"\nlookup_container on {args.containers} containers, {args.seconds:g} s each (ms)")
        head = ("idle p50", "idle p99", "4w p50", "4w p99", "p99 ×idle", "locked")
        print(f"{'lock':>6}  " + "  ".join(f"{h:>9}" for h in head))
        for kind in ("poll", "queue"):
            idle, busy = reader(kind, static, tmp, args.seconds, args.containers)
            i, b = idle.latencies, busy.latencies
            print(
                f"{kind:>6}  {pct(i, 50):9.3f}  {pct(i, 99):9.3f}  {pct(b, 50):9.3f}  "
                f"{pct(b, 99):9.3f}  {pct(b, 99) / pct(i, 99):9.1f}  "
                f"{busy.locked:>5} of {len(b)}"
            )
        cpu = beside(_spin, static, tmp, args.seconds, args.containers).latencies
        print(
            f"{'4 CPU':>6}  {'':9}  {'':9}  {pct(cpu, 50):9.3f}  {pct(cpu, 99):9.3f}  "
            f"{pct(cpu, 99) / pct(i, 99):9.1f}   (queue beside 4 processes that only spin)"
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
